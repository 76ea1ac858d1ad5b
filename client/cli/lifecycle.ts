/** pat start / stop / status / restart / run: the daemon's process lifecycle. */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { enclosingStore, isBranchName, isHome, LOG_LEVELS, resolveConfig, settingProblems, type Config } from "../../daemon/config.js";
import { DaemonUnreachableError, type Client } from "../client.js";
import { UsageError } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { outline } from "./render.js";
import { natsProblems, type NatsOptions } from "../../daemon/config.js";

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
  store?: { path: string };
}

/** The options typed after a lifecycle verb (commands.ts parses and checks them): what the daemon is to run with. */
export interface DaemonOptions extends NatsOptions {
  /** The pattern store, as typed: relative to pat's working directory. */
  store?: string | undefined;
  /** The store's branch the daemon commits to. */
  branch?: string | undefined;
  logLevel?: string | undefined;
  /** Seconds between background syncs with the store's remotes, as typed. */
  syncEvery?: string | undefined;
}

/**
 * The daemon's config: pat's home and socket with the verb's options, the
 * environment (PATTERND_STORE, PATTERND_LOG_LEVEL) under them, resolved
 * from pat's working directory the way the daemon would resolve them.
 */
function daemonConfig(cli: Cli, options: DaemonOptions): Config {
  const config = resolveConfig(
    { ...options, home: cli.config.home, socket: cli.config.socketPath },
    process.env,
    process.cwd(),
  );
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new UsageError(`PATTERND_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got ${config.logLevel})`);
  }
  if (Number.isNaN(config.limits.maxStateBytes)) {
    throw new UsageError(`PATTERND_STATE_MAX_BYTES must be a whole number of bytes ≥ 1, e.g. 67108864 (got ${JSON.stringify(process.env.PATTERND_STATE_MAX_BYTES)})`);
  }
  if (config.branch !== undefined && !isBranchName(config.branch)) {
    const from = options.branch === undefined ? "PATTERND_BRANCH" : "--branch";
    throw new UsageError(`${from} must be a git branch name, e.g. main (got ${JSON.stringify(config.branch)})`);
  }
  if (Number.isNaN(config.syncEverySeconds)) {
    const from = options.syncEvery === undefined ? "PATTERND_SYNC_EVERY" : "--sync-every";
    throw new UsageError(`${from} must be a number of seconds, at least 1, e.g. 300 (got ${JSON.stringify(options.syncEvery ?? process.env.PATTERND_SYNC_EVERY)})`);
  }
  const [problem] = [...settingProblems(process.env), ...natsProblems(options, process.env)];
  if (problem !== undefined) throw new UsageError(problem);
  return config;
}

/** Everything pat knows about the daemon to start goes on its command line, absolute. */
function daemonArgs(config: Config): string[] {
  const args = [DAEMON_MAIN, "--home", config.home, "--log-level", config.logLevel];
  if (!config.socketInHome) args.push("--socket", config.socketPath);
  if (!config.storeInHome) args.push("--store", config.storeDir);
  if (config.branch !== undefined) args.push("--branch", config.branch);
  if (config.syncEverySeconds !== undefined) args.push("--sync-every", String(config.syncEverySeconds));
  if (config.nats !== undefined) {
    args.push("--nats", config.nats.url);
    for (const glob of config.nats.exports) args.push("--nats-export", glob);
    for (const glob of config.nats.imports) args.push("--nats-import", glob);
  }
  return args;
}

/**
 * When `--store` names a store other than the one the running daemon
 * serves: what to tell the user (status and stop must not pretend it is
 * that store's daemon). Paths are compared after symlinks are resolved.
 */
function storeMismatch(config: Config, options: DaemonOptions, found: Health): string | undefined {
  const served = found.store?.path;
  if (options.store === undefined || served === config.storeDir) return undefined;
  if (served !== undefined && existsSync(served) && existsSync(config.storeDir) && realpathSync(served) === realpathSync(config.storeDir)) return undefined;
  return `the daemon on ${config.socketPath} (pid ${found.pid}) serves the store ${served ?? "(none reported)"}, not ${config.storeDir}`;
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

/** The running daemon's health; with `--store`, exit 1 when it serves another store (its health still printed). */
export async function status(cli: Cli, options: DaemonOptions): Promise<number> {
  const config = daemonConfig(cli, options);
  const found = await health(cli);
  if (found === null) {
    cli.err(`patternd is not running (no daemon answers on ${config.socketPath}); start it with: pat start${options.store === undefined ? "" : ` --store ${config.storeDir}`}`);
    return EXIT.unreachable;
  }
  await found.client.close();
  const data = { running: true, socket: config.socketPath, home: config.home, ...found.health };
  cli.print(data, (d: typeof data) => `patternd ${d.version} running, pid ${d.pid}, up ${d.uptime_s} s\n${outline(d)}`);
  const mismatch = storeMismatch(config, options, found.health);
  if (mismatch === undefined) return EXIT.ok;
  cli.err(`pat: ${mismatch}`);
  return EXIT.remote;
}

/**
 * A daemon started in a directory that is not yet a home makes one there,
 * with a new store. Inside a pattern store that is never what was meant:
 * the patterns would be served from a second, freshly seeded store nested
 * in the first, and the home's own patterns not at all. Refused, naming the
 * home to use. (pat finds a home above the working directory first, so from
 * inside a home's store this is reached only with --home or PATTERND_HOME.)
 */
function refuseHomeInsideStore(config: Config, verb: "start" | "run"): void {
  const { home } = config;
  if (isHome(home, existsSync)) return;
  const found = enclosingStore(home, existsSync);
  if (found === undefined) return;
  if (found.home !== undefined) {
    const store = config.storeInHome ? "" : ` --store ${config.storeDir}`;
    throw new UsageError(
      `${home} is inside the pattern store of the home ${found.home}, not a home itself: starting here would make a new home with a second store inside it. ` +
        `Start the daemon of that home: pat ${verb} --home ${found.home}${store} (or run pat from ${found.home})`,
    );
  }
  throw new UsageError(
    `${home} is inside ${found.store}, a git work tree of patterns (it holds orchestrations/), not a home: starting here would make a new home with a second store inside it. ` +
      `Give the daemon a home of its own and this store: pat ${verb} --home DIR --store ${found.store}`,
  );
}

export async function startDetached(cli: Cli, options: DaemonOptions): Promise<number> {
  const config = daemonConfig(cli, options);
  refuseHomeInsideStore(config, "start");
  const running = await health(cli);
  if (running !== null) {
    await running.client.close();
    const mismatch = storeMismatch(config, options, running.health);
    const advice = mismatch === undefined ? "" : `; ${mismatch}: to serve it instead, pat restart --store ${config.storeDir}`;
    cli.err(`patternd is already running (pid ${running.health.pid}) on ${config.socketPath}${advice}`);
    return EXIT.remote;
  }
  mkdirSync(config.logDir, { recursive: true });
  // The daemon's own stdout/stderr (banner, start-up failures) go to a file, never to a closed pipe.
  const outPath = join(config.logDir, "daemon.out");
  const offset = existsSync(outPath) ? statSync(outPath).size : 0;
  const out = openSync(outPath, "a");
  const child = spawn(process.execPath, daemonArgs(config), { detached: true, stdio: ["ignore", out, out] });
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
        { started: true, pid: found.health.pid, socket: config.socketPath, home: config.home, store: found.health.store?.path },
        (d: { pid: number; socket: string; store?: string }) =>
          `patternd started (pid ${d.pid}) on ${d.socket}${config.storeInHome ? "" : `, serving the store ${d.store}`}`,
      );
      return EXIT.ok;
    }
    await sleep(50);
  }
  child.kill("SIGTERM");
  cli.err(`patternd did not answer within ${START_TIMEOUT_MS / 1000} s; see ${config.daemonLog}`);
  return EXIT.remote;
}

/** Stops the daemon on the socket; with `--store`, only when it serves that store. */
export async function stop(cli: Cli, options: DaemonOptions): Promise<number> {
  const config = daemonConfig(cli, options);
  let client: Client;
  try {
    client = await cli.connect();
  } catch (err) {
    if (!(err instanceof DaemonUnreachableError)) throw err;
    cli.err(`patternd is not running (no daemon answers on ${config.socketPath})`);
    return EXIT.unreachable;
  }
  const found = await client.request<Health>("system:health");
  const mismatch = storeMismatch(config, options, found);
  if (mismatch !== undefined) {
    await client.close();
    cli.err(`pat: ${mismatch}; nothing stopped (to stop it anyway: pat stop without --store)`);
    return EXIT.remote;
  }
  const { pid } = found;
  await client.request("system:shutdown");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  await within(client.closed(), STOP_TIMEOUT_MS);
  while (Date.now() < deadline && (existsSync(config.socketPath) || processAlive(pid))) await sleep(25);
  if (processAlive(pid)) {
    cli.err(`patternd (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s; see ${config.daemonLog}`);
    return EXIT.remote;
  }
  cli.print({ stopped: true, pid }, (d: { pid: number }) => `patternd stopped (pid ${d.pid})`);
  return EXIT.ok;
}

/** Stops whatever daemon runs on the socket (whichever store it serves: restart --store DIR moves it to DIR), then starts it with the options. */
export async function restart(cli: Cli, options: DaemonOptions): Promise<number> {
  daemonConfig(cli, options); // a usage error before anything is stopped
  const stopped = await stop(cli, {});
  if (stopped !== EXIT.ok && stopped !== EXIT.unreachable) return stopped;
  return startDetached(cli, options);
}

/**
 * The daemon in the foreground, in this process (pat run, npm start): no
 * child to orphan when what a person started is killed. Loaded only here,
 * so other verbs do not pay for the daemon's modules.
 */
export async function runForeground(cli: Cli, options: DaemonOptions): Promise<number> {
  const config = daemonConfig(cli, options);
  refuseHomeInsideStore(config, "run");
  const { runInForeground } = await import("../../daemon/foreground.js");
  return runInForeground(config);
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
