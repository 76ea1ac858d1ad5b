/**
 * NATS benchmark (issue 19): a connected handler's call made on the daemon
 * it is registered with (local: caller → A → handler → A → caller) against
 * the same call made on a second daemon B, which has no handler and sends
 * it through a nats-server on this machine to A (caller → B → NATS → A →
 * handler → A → NATS → B → caller). Both daemons and the nats-server run
 * here, so the ratio is what the two extra daemon hops and the NATS
 * request-reply cost, without a network. Sequential calls (p50/p99), rounds
 * alternating which path goes first. Skipped when nats-server is absent.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DAEMON_MAIN, LineConnection, median, round, startChild, stopChild, table, waitReady, type Child } from "./common.js";
import { sequential, type Series } from "./series.js";

export interface NatsBenchOptions {
  /** Measured calls per round and path. */
  requests: number;
  rounds: number;
  warmup: number;
  progress?: (line: string) => void;
}

export interface NatsBenchResult {
  skipped?: string;
  requests: number;
  rounds: number;
  local?: { p50_ms: number; p99_ms: number; per_s: number };
  remote?: { p50_ms: number; p99_ms: number; per_s: number };
  /** remote p50 ÷ local p50. */
  p50_ratio?: number;
  p99_ratio?: number;
  exits?: Record<string, string>;
  clean: boolean;
}

const EVENT = "bench:score";
const PEER = fileURLToPath(new URL("./handler-peer.js", import.meta.url));
const READY_MS = 15_000;

export async function runNatsBench(options: NatsBenchOptions): Promise<NatsBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const binary = natsServer();
  if (binary === undefined) {
    return { skipped: "nats-server is not installed (apt-get install nats-server)", requests: options.requests, rounds: options.rounds, clean: true };
  }
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-nats-"));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  let server: ChildProcess | null = null;
  const children: Child[] = [];
  const connections: LineConnection[] = [];
  try {
    server = spawn(binary, ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const [a, b] = (["a", "b"] as const).map((name) => {
      const child = startChild(`daemon ${name}`, [DAEMON_MAIN, "--home", join(base, name), "--nats", url]);
      children.push(child);
      return child;
    });
    const sockets = ["a", "b"].map((name) => join(base, name, "var", "run", "patternd.sock"));
    await Promise.all([waitReady(a!, sockets[0]!), waitReady(b!, sockets[1]!)]);
    children.push(startChild("handler peer", [PEER, "handle", sockets[0]!, EVENT, "1"]));
    const [onA, onB] = [await LineConnection.connect(sockets[0]!), await LineConnection.connect(sockets[1]!)];
    connections.push(onA, onB);
    await untilAnswered(onB);
    progress(`nats: handler on A reachable from B through ${url}`);

    const call = (k: number) => `{"event":"${EVENT}","id":${k},"data":{"n":${k}}}\n`;
    const check = (reply: { data?: Record<string, unknown> }, k: number) => {
      if (reply.data?.n !== k) throw new Error(`call ${k}: wrong answer ${JSON.stringify(reply.data)}`);
    };
    await sequential(onA, a!, "warmup local", options.warmup, call, check);
    await sequential(onB, b!, "warmup remote", options.warmup, call, check);
    const local: Series[] = [];
    const remote: Series[] = [];
    for (let k = 0; k < options.rounds; k++) {
      const order = k % 2 === 0 ? (["local", "remote"] as const) : (["remote", "local"] as const);
      for (const path of order) {
        const series = path === "local" ? await sequential(onA, a!, "local", options.requests, call, check) : await sequential(onB, b!, "remote", options.requests, call, check);
        (path === "local" ? local : remote).push(series);
      }
      progress(`nats: round ${k + 1}/${options.rounds}`);
    }
    const summary = (series: Series[]) => ({
      p50_ms: median(series.map((s) => s.p50_ms)),
      p99_ms: median(series.map((s) => s.p99_ms)),
      per_s: median(series.map((s) => s.per_s)),
    });
    const l = summary(local);
    const r = summary(remote);
    for (const conn of connections) await conn.close();
    connections.length = 0;
    const exits: Record<string, string> = {};
    for (const child of children.reverse()) exits[child.name] = await stopChild(child);
    children.length = 0;
    const clean = Object.values(exits).every((how) => how === "exit 0");
    return { requests: options.requests, rounds: options.rounds, local: l, remote: r, p50_ratio: round(r.p50_ms / l.p50_ms, 2), p99_ratio: round(r.p99_ms / l.p99_ms, 2), exits, clean };
  } finally {
    for (const conn of connections) await conn.close().catch(() => undefined);
    for (const child of children) child.process.kill("SIGKILL");
    server?.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

export function formatNatsBench(result: NatsBenchResult): string {
  if (result.skipped !== undefined) return `nats: skipped: ${result.skipped}`;
  const row = (name: string, s: { p50_ms: number; p99_ms: number; per_s: number }) => [name, s.p50_ms.toFixed(2), s.p99_ms.toFixed(2), String(Math.round(s.per_s))];
  return [
    `nats: a connected handler's call, sequential, ${result.requests} calls × ${result.rounds} rounds per path (median round)`,
    ...table(["path", "p50 ms", "p99 ms", "calls/s"], [row("local (on A)", result.local!), row("remote (B → NATS → A)", result.remote!)]),
    `remote ÷ local: p50 ×${result.p50_ratio}, p99 ×${result.p99_ratio}${result.clean ? "" : `; unclean exits: ${JSON.stringify(result.exits)}`}`,
  ].join("\n");
}

/** Calls from B until the handler on A answers (its NATS subscription follows its registration). */
async function untilAnswered(onB: LineConnection): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (let id = 1; ; id++) {
    const reply = await onB.request(`{"event":"${EVENT}","id":"probe${id}","data":{"n":0}}\n`);
    if (reply.ok === true) return;
    if (Date.now() > deadline) throw new Error(`the handler on A did not answer calls from B within ${READY_MS} ms: ${JSON.stringify(reply)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function natsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin"];
  return dirs.map((dir) => join(dir, "nats-server")).find((path) => path.startsWith("/") && existsSync(path));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
