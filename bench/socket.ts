/**
 * Socket benchmark: the real daemon against the echo floor (echo-server.ts),
 * side by side in one run, with the same lean load generator (a raw net
 * socket and a line splitter; every reply's id and `ok` are checked).
 * Scenarios: sequential on one connection, pipelined at depth 64 on one
 * connection, and 8 connections each sequential.
 *
 * Each scenario warms both servers up, then measures several rounds,
 * alternating which server goes first; req/s is the median round, latency
 * percentiles are over every measured request. On a small shared machine a
 * single round swings by ±30%, and whoever runs first pays the load
 * generator's own JIT warm-up, hence the rounds.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { median, percentile, processCpuNs, round, startChild, startDaemon, stopChild, thousands, waitReady, type Child } from "./common.js";

export interface SocketBenchOptions {
  /** Measured requests per round, scenario and server. */
  requests: number;
  /** Measured rounds per scenario and server. */
  rounds: number;
  /** Requests per scenario and server before measuring. */
  warmup: number;
  /** When set, the daemon runs under `node --cpu-prof` and writes its profile here. */
  daemonCpuProfDir?: string | undefined;
  /** Progress lines (never the results). */
  progress?: (line: string) => void;
}

export interface Scenario {
  name: string;
  connections: number;
  /** Requests kept outstanding on each connection. */
  depth: number;
}

export interface Stats {
  /** Median over the rounds. */
  req_per_s: number;
  /** Each round's req/s, in order. */
  rounds_req_per_s: number[];
  /** Over every measured request of every round. */
  p50_us: number;
  p99_us: number;
  max_us: number;
  /**
   * The server process's CPU time (all threads) per measured request, from
   * /proc/PID/task/N/schedstat; null where that is not available. Unlike
   * req/s it barely depends on how the machine schedules the ping-pong.
   */
  cpu_us_per_req: number | null;
}

export interface ScenarioResult extends Scenario {
  echo: Stats;
  daemon: Stats;
  /** daemon req/s ÷ echo req/s (medians). */
  ratio: number;
}

export interface Target {
  name: string;
  value: number;
  min: number;
  met: boolean;
}

export interface SocketBenchResult {
  event: string;
  requests: number;
  rounds: number;
  warmup: number;
  scenarios: ScenarioResult[];
  targets: Target[];
  /** How each child ended after SIGTERM. */
  exits: { echo: string; daemon: string };
  clean: boolean;
  profiled: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: "sequential", connections: 1, depth: 1 },
  { name: "pipelined (depth 64)", connections: 1, depth: 64 },
  { name: "8 conns, sequential", connections: 8, depth: 1 },
];

const EVENT = "system:health";

const ECHO_SERVER = fileURLToPath(new URL("./echo-server.js", import.meta.url));

export async function runSocketBench(options: SocketBenchOptions): Promise<SocketBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-"));
  const home = join(base, "home");
  const echoSocket = join(base, "echo.sock");
  const daemonSocket = join(home, "var", "run", "patternd.sock");
  const profiled = options.daemonCpuProfDir !== undefined;
  let echo: Child | null = null;
  let daemon: Child | null = null;
  try {
    echo = startChild("echo server", [ECHO_SERVER, echoSocket]);
    daemon = startDaemon(home, options.daemonCpuProfDir);
    await Promise.all([waitReady(echo, echoSocket), waitReady(daemon, daemonSocket)]);

    const scenarios: ScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      progress(`socket: ${scenario.name}`);
      const [echoStats, daemonStats] = await measurePair([echo, daemon], [echoSocket, daemonSocket], scenario, options);
      scenarios.push({ ...scenario, echo: echoStats, daemon: daemonStats, ratio: round(daemonStats.req_per_s / echoStats.req_per_s, 3) });
    }

    const exits = { echo: await stopChild(echo), daemon: await stopChild(daemon) };
    echo = daemon = null;
    const [sequential, pipelined] = scenarios as [ScenarioResult, ScenarioResult, ScenarioResult];
    const targets: Target[] = [
      target("sequential req/s", sequential.daemon.req_per_s, 15_000),
      target("sequential daemon/echo", sequential.ratio, 0.85),
      target("pipelined daemon/echo", pipelined.ratio, 0.5),
    ];
    return {
      event: EVENT,
      requests: options.requests,
      rounds: options.rounds,
      warmup: options.warmup,
      scenarios,
      targets,
      exits,
      clean: exits.echo === "exit 0" && exits.daemon === "exit 0",
      profiled,
    };
  } finally {
    echo?.process.kill("SIGKILL");
    daemon?.process.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

function target(name: string, value: number, min: number): Target {
  return { name, value, min, met: value >= min };
}

// ---------------------------------------------------------------- load generator

/** One client connection driving `system:health` requests with up to `depth` outstanding. */
class Driver {
  private buffered = "";
  private nextId = 1;
  private quota = 0;
  private depth = 1;
  private sent = 0;
  private received = 0;
  private firstId = 1;
  private sendTimes = new Float64Array(0);
  private latencies: Float64Array | null = null;
  private offset = 0;
  private settle: ((err?: Error) => void) | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", (err) => this.settle?.(err));
    socket.on("close", () => this.settle?.(new Error("connection closed during the run")));
  }

  static connect(path: string): Promise<Driver> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new Driver(socket));
      });
    });
  }

  /** Sends `quota` requests; round trips (ms) go to `latencies[offset ..]` when given. */
  run(quota: number, depth: number, latencies: Float64Array | null, offset: number): Promise<void> {
    this.quota = quota;
    this.depth = depth;
    this.sent = 0;
    this.received = 0;
    this.firstId = this.nextId;
    this.sendTimes = new Float64Array(quota);
    this.latencies = latencies;
    this.offset = offset;
    if (quota === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.settle = (err) => {
        this.settle = null;
        if (err === undefined) resolve();
        else reject(err);
      };
      let out = "";
      while (this.sent < Math.min(this.depth, this.quota)) out += this.request();
      this.send(0, out);
    });
  }

  close(): Promise<void> {
    this.settle = null;
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }

  private request(): string {
    this.sent++;
    return `{"event":"${EVENT}","id":${this.nextId++}}\n`;
  }

  /** Writes the requests from index `first` on in one write, stamped with one clock reading. */
  private send(first: number, out: string): void {
    const now = performance.now();
    for (let k = first; k < this.sent; k++) this.sendTimes[k] = now;
    this.socket.write(out);
  }

  private onData(chunk: string): void {
    const now = performance.now();
    this.buffered += chunk;
    const first = this.sent;
    let out = "";
    let start = 0;
    for (let nl = this.buffered.indexOf("\n"); nl !== -1; nl = this.buffered.indexOf("\n", start)) {
      const line = this.buffered.slice(start, nl);
      start = nl + 1;
      const k = this.received++;
      if (!isSuccessFor(line, this.firstId + k)) {
        this.settle?.(new Error(`unexpected reply to request ${this.firstId + k}: ${line.slice(0, 300)}`));
        return;
      }
      if (this.latencies !== null) this.latencies[this.offset + k] = now - this.sendTimes[k]!;
      if (this.sent < this.quota) out += this.request();
    }
    this.buffered = this.buffered.slice(start);
    if (out.length > 0) this.send(first, out);
    if (this.received === this.quota) this.settle?.();
  }
}

/** Warms both servers up, then measures `rounds` rounds on each, alternating which goes first. */
/**
 * True when `line` is the success reply to request `id`. Both servers write
 * the keys in SPEC order, so a prefix comparison settles it without parsing
 * (parsing every reply made the load generator, not the echo server, the
 * bottleneck when pipelining); any other shape is parsed and checked.
 */
function isSuccessFor(line: string, id: number): boolean {
  if (line.startsWith(`{"event":"${EVENT}","id":${id},"ok":true,`)) return true;
  try {
    const reply = JSON.parse(line) as { id?: unknown; ok?: unknown };
    return reply.ok === true && reply.id === id;
  } catch {
    return false;
  }
}

async function measurePair(
  servers: [Child, Child],
  paths: [string, string],
  scenario: Scenario,
  options: SocketBenchOptions,
): Promise<[Stats, Stats]> {
  const { requests, rounds } = options;
  const connect = (path: string) => Promise.all(Array.from({ length: scenario.connections }, () => Driver.connect(path)));
  const pools = await Promise.all(paths.map(connect));
  try {
    for (const pool of pools) await runAll(pool, scenario.depth, options.warmup, null);
    const latencies = pools.map(() => new Float64Array(requests * rounds));
    const rates = pools.map((): number[] => []);
    const cpuNs: (number | null)[] = [0, 0];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const cpuBefore = processCpuNs(servers[i]!.process.pid);
        const started = performance.now();
        await runAll(pools[i]!, scenario.depth, requests, latencies[i]!.subarray(round * requests));
        rates[i]!.push(Math.round((requests / (performance.now() - started)) * 1000));
        const cpuAfter = processCpuNs(servers[i]!.process.pid);
        cpuNs[i] = cpuBefore === null || cpuAfter === null || cpuNs[i] === null ? null : cpuNs[i]! + (cpuAfter - cpuBefore);
      }
    }
    const stats = pools.map((_, i) => {
      const cpu = cpuNs[i]!;
      return summarize(rates[i]!, latencies[i]!, cpu === null ? null : round(cpu / 1000 / (requests * rounds), 2));
    });
    return [stats[0]!, stats[1]!];
  } finally {
    await Promise.all(pools.flat().map((driver) => driver.close()));
  }
}

function summarize(rates: number[], latencies: Float64Array, cpuPerRequest: number | null): Stats {
  latencies.sort();
  return {
    req_per_s: median(rates),
    rounds_req_per_s: rates,
    p50_us: round(percentile(latencies, 0.5) * 1000, 1),
    p99_us: round(percentile(latencies, 0.99) * 1000, 1),
    max_us: round(latencies[latencies.length - 1]! * 1000, 1),
    cpu_us_per_req: cpuPerRequest,
  };
}

/** Splits `total` requests evenly over the connections and runs them concurrently. */
async function runAll(drivers: Driver[], depth: number, total: number, latencies: Float64Array | null): Promise<void> {
  let offset = 0;
  const runs = drivers.map((driver, i) => {
    const quota = Math.floor(total / drivers.length) + (i < total % drivers.length ? 1 : 0);
    const run = driver.run(quota, depth, latencies, offset);
    offset += quota;
    return run;
  });
  await Promise.all(runs);
}

// ---------------------------------------------------------------- report

export function formatSocketBench(result: SocketBenchResult): string {
  const header = ["scenario", "server", "req/s", "rounds min–max", "p50", "p99", "max", "CPU/req", "daemon/echo"];
  const rows: string[][] = [];
  for (const s of result.scenarios) {
    for (const server of ["echo", "daemon"] as const) {
      const stats = s[server];
      rows.push([
        server === "echo" ? s.name : "",
        server,
        thousands(stats.req_per_s),
        `${thousands(Math.min(...stats.rounds_req_per_s))}–${thousands(Math.max(...stats.rounds_req_per_s))}`,
        `${stats.p50_us.toFixed(0)} µs`,
        `${stats.p99_us.toFixed(0)} µs`,
        `${stats.max_us.toFixed(0)} µs`,
        stats.cpu_us_per_req === null ? "n/a" : `${stats.cpu_us_per_req.toFixed(1)} µs`,
        server === "daemon" ? s.ratio.toFixed(2) : "",
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const value = (t: Target, v: number) => (t.min >= 100 ? thousands(v) : v.toFixed(2));
  const out = [
    `socket: ${result.event}; per scenario and server ${thousands(result.warmup)} warm-up requests, then ` +
      `${result.rounds} rounds of ${thousands(result.requests)} (servers alternate); req/s is the median round;\n` +
      "latencies are per-request round trips over all rounds; CPU/req is the server process's CPU time (all threads)" +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    "targets:",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name} = ${value(t, t.value)} (target ≥ ${value(t, t.min)})`),
    `stopped: echo ${result.exits.echo}; daemon (SIGTERM) ${result.exits.daemon}${result.clean ? "" : "  <-- not clean"}`,
  ];
  return out.join("\n");
}
