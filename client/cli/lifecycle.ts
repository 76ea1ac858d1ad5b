/** pat start / stop / status / restart / run: the daemon's process lifecycle. */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { enclosingStore, isHome } from "../../daemon/config.js";
import { DaemonUnreachableError, type Client } from "../client.js";
import { UsageError } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { outline } from "./render.js";

/** The daemon's entry, beside this file in the same tree (dist/ when installed). */
const DAEMON_MAIN = fileURLToPath(new URL("../../daemon/main.js", import.meta.url));
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;

interface Health {
  pid: number;
  version: string;
  uptime_s: number;
  connections: number;
  events: number;
}

function daemonArgs(cli: Cli): string[] {
  const args = [DAEMON_MAIN, "--home", cli.config.home];
  if (!cli.config.socketInHome) args.push("--socket", cli.config.socketPath);
  return args;
}

async function health(cli: Cli): Promise<{ client: Client; health: Health } | null> {
  try {
    const client = await cli.connect();
    return { client, health: await client.request<Health>("system:health", {}, { timeoutMs: 5_000 }) };
  } catch (err) {
    if (err instanceof DaemonUnreachableError) return null;
    throw err;
  }
}

export async function status(cli: Cli): Promise<number> {
  const found = await health(cli);
  if (found === null) {
    cli.err(`patternd is not running (no daemon answers on ${cli.config.socketPath}); start it with: pat start`);
    return EXIT.unreachable;
  }
  await found.client.close();
  const data = { running: true, socket: cli.config.socketPath, home: cli.config.home, ...found.health };
  cli.print(data, (d: typeof data) => `patternd ${d.version} running, pid ${d.pid}, up ${d.uptime_s} s\n${outline(d)}`);
  return EXIT.ok;
}

/**
 * A daemon started in a directory that is not yet a home makes one there,
 * with a new store. Inside a pattern store that is never what was meant:
 * the patterns would be served from a second, freshly seeded store nested
 * in the first, and the home's own patterns not at all. Refused, naming the
 * home to use. (pat finds a home above the working directory first, so from
 * inside a home's store this is reached only with --home or PATTERND_HOME.)
 */
function refuseHomeInsideStore(cli: Cli, verb: "start" | "run"): void {
  const { home } = cli.config;
  if (isHome(home, existsSync)) return;
  const found = enclosingStore(home, existsSync);
  if (found === undefined) return;
  if (found.home !== undefined) {
    throw new UsageError(
      `${home} is inside the pattern store of the home ${found.home}, not a home itself: starting here would make a new home with a second store inside it. ` +
        `Start the daemon of that home: pat ${verb} --home ${found.home} (or run pat from ${found.home})`,
    );
  }
  throw new UsageError(
    `${home} is inside ${found.store}, a git work tree of patterns (it holds orchestrations/), not a home: starting here would make a new home with a second store inside it. ` +
      `Give the daemon a home of its own and this store: PATTERND_STORE=${found.store} pat ${verb} --home DIR`,
  );
}

export async function startDetached(cli: Cli): Promise<number> {
  refuseHomeInsideStore(cli, "start");
  const running = await health(cli);
  if (running !== null) {
    await running.client.close();
    cli.err(`patternd is already running (pid ${running.health.pid}) on ${cli.config.socketPath}`);
    return EXIT.remote;
  }
  mkdirSync(cli.config.logDir, { recursive: true });
  // The daemon's own stdout/stderr (banner, start-up failures) go to a file, never to a closed pipe.
  const outPath = join(cli.config.logDir, "daemon.out");
  const offset = existsSync(outPath) ? statSync(outPath).size : 0;
  const out = openSync(outPath, "a");
  const child = spawn(process.execPath, daemonArgs(cli), { detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  const exited: { code: number | null } = { code: null };
  child.once("exit", (code) => (exited.code = code ?? 1));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited.code !== null) {
      const output = readFileSync(outPath, "utf8").slice(offset).trim();
      cli.err(output === "" ? `patternd exited with code ${exited.code} while starting` : output);
      return EXIT.remote;
    }
    const found = await health(cli);
    if (found !== null) {
      await found.client.close();
      child.unref();
      cli.print(
        { started: true, pid: found.health.pid, socket: cli.config.socketPath, home: cli.config.home },
        (d: { pid: number; socket: string }) => `patternd started (pid ${d.pid}) on ${d.socket}`,
      );
      return EXIT.ok;
    }
    await sleep(50);
  }
  child.kill("SIGTERM");
  cli.err(`patternd did not answer within ${START_TIMEOUT_MS / 1000} s; see ${cli.config.daemonLog}`);
  return EXIT.remote;
}

export async function stop(cli: Cli): Promise<number> {
  let client: Client;
  try {
    client = await cli.connect();
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    cli.err(`patternd is not running (no daemon answers on ${cli.config.socketPath})`);
    return EXIT.unreachable;
  }
  const { pid } = await client.request<Health>("system:health");
  await client.request("system:shutdown");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  await within(client.closed(), STOP_TIMEOUT_MS);
  while (Date.now() < deadline && (existsSync(cli.config.socketPath) || processAlive(pid))) await sleep(25);
  if (processAlive(pid)) {
    cli.err(`patternd (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; see ${cli.config.daemonLog}`);
    return EXIT.remote;
  }
  cli.print({ stopped: true, pid }, (d: { pid: number }) => `patternd stopped (pid ${d.pid})`);
  return EXIT.ok;
}

export async function restart(cli: Cli): Promise<number> {
  const stopped = await stop(cli);
  if (stopped !== EXIT.ok && stopped !== EXIT.unreachable) return stopped;
  return startDetached(cli);
}

/** The daemon in the foreground; its exit code becomes ours. */
export function runForeground(cli: Cli): Promise<number> {
  refuseHomeInsideStore(cli, "run");
  const child = spawn(process.execPath, daemonArgs(cli), { stdio: "inherit" });
  // A terminal's Ctrl-C reaches the daemon directly too; it treats a repeat within a moment as one.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128 + signalNumber(signal))));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits for `work`, at most `ms`, leaving no timer behind to hold the process open. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
