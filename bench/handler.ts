/**
 * Handler benchmark (issue 14): a call's round trip through the daemon —
 * caller → daemon → handler connection (handler:call push) → daemon
 * (handler:reply) → caller — against the floor of the same call made
 * directly from one process to another over a Unix socket, side by side in
 * one run. Both answering sides are handler-peer.ts (its own process, the
 * same per-call work); the caller here sends the same line
 * `{"event":"bench:score","id":N,"data":{"n":N,"prompt":…}}` to either and
 * checks the same reply `{"event":"bench:score","id":N,"ok":true,"data":{"n":N,"score":0.5}}`.
 *
 * Scenarios: sequential (p50/p99 latency), then pipelined at several depths
 * on one caller connection to the one handler (calls/s), registered with a
 * concurrency of at least the deepest pipeline; last, depth 64 to a second
 * handler left at the default concurrency 1 (the daemon then holds each
 * call until the previous one is answered: a handler-side round trip per
 * call, whatever the caller's depth). Like the socket
 * bench, each scenario warms both paths up and measures rounds that
 * alternate which path goes first; calls/s is the median round, latencies
 * are over every measured call.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  atLeast,
  atMost,
  LineConnection,
  median,
  percentile,
  pipeline,
  processCpuNs,
  round,
  startChild,
  startDaemon,
  stopChild,
  table,
  thousands,
  waitReady,
  type Child,
  type Target,
} from "./common.js";

export interface HandlerBenchOptions {
  /** Measured calls per round, scenario and path. */
  requests: number;
  rounds: number;
  /** Calls per scenario and path before measuring. */
  warmup: number;
  /** Pipelined depths, after the sequential scenario. */
  depths: readonly number[];
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface PathStats {
  /** Median round. */
  calls_per_s: number;
  rounds_calls_per_s: number[];
  p50_us: number;
  p99_us: number;
  /** CPU time per measured call of the answering process, and (daemon path) of the daemon. */
  peer_cpu_us_per_call: number | null;
  daemon_cpu_us_per_call?: number | null;
}

export interface HandlerScenarioResult {
  name: string;
  depth: number;
  /** The registered concurrency of the handler called. */
  concurrency: number;
  floor: PathStats;
  daemon: PathStats;
  /** daemon calls/s ÷ floor calls/s (medians). */
  throughput_ratio: number;
  /** daemon p50 ÷ floor p50. */
  p50_ratio: number;
}

export interface HandlerBenchResult {
  event: string;
  requests: number;
  rounds: number;
  warmup: number;
  /** The handler's registered concurrency: at least the deepest pipeline, so calls are pushed as they come. */
  concurrency: number;
  scenarios: HandlerScenarioResult[];
  targets: Target[];
  exits: { floor: string; handler: string; serial_handler: string; daemon: string };
  clean: boolean;
  profiled: boolean;
}

const EVENT = "bench:score";
/** Answered by a second handler peer registered with concurrency 1. */
const SERIAL_EVENT = "bench:score_serial";
const SERIAL_DEPTH = 64;
const PROMPT = "Rate this answer to 'Summarise the tournament pattern in one line' from 0 to 1";
const PEER = fileURLToPath(new URL("./handler-peer.js", import.meta.url));
const REGISTER_TIMEOUT_MS = 10_000;

export async function runHandlerBench(options: HandlerBenchOptions): Promise<HandlerBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-handler-"));
  const home = join(base, "home");
  const floorSocket = join(base, "floor.sock");
  const daemonSocket = join(home, "var", "run", "patternd.sock");
  const concurrency = Math.max(1, ...options.depths);
  let floor: Child | null = null;
  let daemon: Child | null = null;
  let handler: Child | null = null;
  let serialHandler: Child | null = null;
  const connections: LineConnection[] = [];
  try {
    floor = startChild("floor peer", [PEER, "serve", floorSocket]);
    daemon = startDaemon(home, options.daemonCpuProfDir);
    await Promise.all([waitReady(floor, floorSocket), waitReady(daemon, daemonSocket)]);
    handler = startChild("handler peer", [PEER, "handle", daemonSocket, EVENT, String(concurrency)]);
    serialHandler = startChild("serial handler peer", [PEER, "handle", daemonSocket, SERIAL_EVENT, "1"]);
    const callers = [await LineConnection.connect(floorSocket), await LineConnection.connect(daemonSocket)] as const;
    connections.push(...callers);
    await waitRegistered(callers[1], handler, EVENT);
    await waitRegistered(callers[1], serialHandler, SERIAL_EVENT);

    const runs = [
      ...[1, ...options.depths].map((depth) => ({ name: depth === 1 ? "sequential" : `pipelined (depth ${depth})`, depth, event: EVENT, concurrency, handler: handler! })),
      { name: `pipelined (depth ${SERIAL_DEPTH}), concurrency 1`, depth: SERIAL_DEPTH, event: SERIAL_EVENT, concurrency: 1, handler: serialHandler },
    ];
    const scenarios: HandlerScenarioResult[] = [];
    for (const { name, depth, event, concurrency: registered, handler: answering } of runs) {
      progress(`handler: ${name}`);
      const [floorStats, daemonStats] = await measurePair(callers, [floor, answering], daemon, depth, event, options);
      scenarios.push({
        name,
        depth,
        concurrency: registered,
        floor: floorStats,
        daemon: daemonStats,
        throughput_ratio: round(daemonStats.calls_per_s / floorStats.calls_per_s, 3),
        p50_ratio: round(daemonStats.p50_us / floorStats.p50_us, 2),
      });
    }

    await Promise.all(connections.splice(0).map((conn) => conn.close()));
    const exits = { floor: await stopChild(floor), handler: await stopChild(handler), serial_handler: await stopChild(serialHandler), daemon: await stopChild(daemon) };
    floor = handler = serialHandler = daemon = null;
    const sequential = scenarios[0]!;
    const best = scenarios.filter((s) => s.concurrency === concurrency).reduce((a, b) => (b.daemon.calls_per_s > a.daemon.calls_per_s ? b : a), sequential);
    const targets: Target[] = [
      atMost("sequential p50 via the daemon (µs)", sequential.daemon.p50_us, 1_000),
      atLeast(`pipelined calls/s via the daemon (best: depth ${best.depth})`, best.daemon.calls_per_s, 20_000),
    ];
    return {
      event: EVENT,
      requests: options.requests,
      rounds: options.rounds,
      warmup: options.warmup,
      concurrency,
      scenarios,
      targets,
      exits,
      clean: Object.values(exits).every((how) => how === "exit 0"),
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    for (const conn of connections) conn.socket.destroy();
    for (const child of [floor, handler, serialHandler, daemon]) child?.process.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

/** Polls handler:list until the handler peer's registration is there. */
async function waitRegistered(conn: LineConnection, handler: Child, event: string): Promise<void> {
  const deadline = Date.now() + REGISTER_TIMEOUT_MS;
  for (let id = 1; ; id++) {
    const reply = await conn.request(`{"event":"handler:list","id":${id},"data":{"event":"${event}"}}\n`);
    if (((reply.data?.handlers as unknown[] | undefined) ?? []).length > 0) return;
    if (handler.process.exitCode !== null) throw new Error(`the ${handler.name} exited before registering: ${handler.stderr().trim()}`);
    if (Date.now() > deadline) throw new Error(`the ${handler.name} did not register ${event} within ${REGISTER_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Warms both paths up, then measures `rounds` rounds on each, alternating which goes first. */
async function measurePair(
  callers: readonly [LineConnection, LineConnection],
  answering: readonly [Child, Child],
  daemon: Child,
  depth: number,
  event: string,
  options: HandlerBenchOptions,
): Promise<[PathStats, PathStats]> {
  const { requests, rounds, warmup } = options;
  const total = warmup + requests * rounds;
  const paths = callers.map((conn) => new CallPath(conn, event, total));
  for (const path of paths) await path.run(warmup, depth);
  const rates: number[][] = [[], []];
  const peerNs: (number | null)[] = [0, 0];
  let daemonNs: number | null = 0;
  for (let r = 0; r < rounds; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const peerBefore = processCpuNs(answering[i]!.process.pid);
      const daemonBefore = i === 1 ? processCpuNs(daemon.process.pid) : null;
      const started = performance.now();
      await paths[i]!.run(requests, depth);
      rates[i]!.push(Math.round((requests / (performance.now() - started)) * 1000));
      peerNs[i] = addCpu(peerNs[i]!, peerBefore, processCpuNs(answering[i]!.process.pid));
      if (i === 1) daemonNs = addCpu(daemonNs, daemonBefore, processCpuNs(daemon.process.pid));
    }
  }
  const measured = requests * rounds;
  const perCall = (ns: number | null) => (ns === null ? null : round(ns / 1000 / measured, 2));
  const stats = paths.map((path, i): PathStats => {
    const latencies = path.latencies.slice(warmup).sort();
    return {
      calls_per_s: median(rates[i]!),
      rounds_calls_per_s: rates[i]!,
      p50_us: round(percentile(latencies, 0.5) * 1000, 1),
      p99_us: round(percentile(latencies, 0.99) * 1000, 1),
      peer_cpu_us_per_call: perCall(peerNs[i]!),
      ...(i === 1 ? { daemon_cpu_us_per_call: perCall(daemonNs) } : {}),
    };
  });
  return [stats[0]!, stats[1]!];
}

function addCpu(sum: number | null, before: number | null, after: number | null): number | null {
  return sum === null || before === null || after === null ? null : sum + (after - before);
}

/** One caller connection's calls of one scenario: ids 0 .. total-1, with their round trips. */
class CallPath {
  readonly latencies: Float64Array;
  private readonly sendTimes: Float64Array;
  private next = 0;

  constructor(
    private readonly conn: LineConnection,
    private readonly event: string,
    total: number,
  ) {
    this.latencies = new Float64Array(total);
    this.sendTimes = new Float64Array(total);
  }

  async run(count: number, depth: number): Promise<void> {
    const first = this.next;
    this.next += count;
    const { event } = this;
    const make = (k: number) => `{"event":"${event}","id":${k},"data":{"n":${k},"prompt":"${PROMPT}"}}\n`;
    await pipeline(this.conn, first, count, depth, this.sendTimes, make, (line, k, now) => {
      if (!isAnswerTo(line, event, k)) throw new Error(`call ${k}: unexpected reply: ${line.slice(0, 300)}`);
      this.latencies[k] = now - this.sendTimes[k]!;
    });
  }
}

/** The exact reply both paths write (SPEC key order); anything else is parsed and checked. */
function isAnswerTo(line: string, event: string, k: number): boolean {
  if (line === `{"event":"${event}","id":${k},"ok":true,"data":{"n":${k},"score":0.5}}`) return true;
  try {
    const reply = JSON.parse(line) as { id?: unknown; ok?: unknown; data?: { n?: unknown } };
    return reply.ok === true && reply.id === k && reply.data?.n === k;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- report

export function formatHandlerBench(result: HandlerBenchResult): string {
  const us = (value: number) => `${value.toFixed(0)} µs`;
  const cpu = (value: number | null | undefined) => (value === undefined ? "" : value === null ? "n/a" : `${value.toFixed(1)} µs`);
  const rows: string[][] = [];
  for (const s of result.scenarios) {
    for (const path of ["floor", "daemon"] as const) {
      const stats = s[path];
      rows.push([
        path === "floor" ? s.name : "",
        path === "floor" ? "direct (floor)" : "via daemon",
        thousands(stats.calls_per_s),
        `${thousands(Math.min(...stats.rounds_calls_per_s))}–${thousands(Math.max(...stats.rounds_calls_per_s))}`,
        us(stats.p50_us),
        us(stats.p99_us),
        cpu(stats.peer_cpu_us_per_call),
        cpu(stats.daemon_cpu_us_per_call),
        path === "daemon" ? s.throughput_ratio.toFixed(2) : "",
        path === "daemon" ? `${s.p50_ratio.toFixed(1)}×` : "",
      ]);
    }
  }
  const header = ["scenario", "path", "calls/s", "rounds min–max", "p50", "p99", "handler CPU/call", "daemon CPU/call", "calls/s ÷ floor", "p50 × floor"];
  const value = (t: Target) => (t.max !== undefined ? `${t.value.toFixed(0)}` : thousands(t.value));
  return [
    `handler: ${result.event} {n, prompt} → {n, score}; caller → daemon → handler connection → daemon → caller, against the same call made ` +
      `directly\nto another process (the floor); handler concurrency ${result.concurrency} (last row: 1); per scenario and path ${thousands(result.warmup)} warm-up calls, ` +
      `then ${result.rounds} rounds of ${thousands(result.requests)}\n(paths alternate); calls/s is the median round; latencies over all measured calls` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(header, rows, 2),
    "",
    "targets:",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name} = ${value(t)} (target ${t.max !== undefined ? `≤ ${t.max}` : `≥ ${thousands(t.min!)}`})`),
    `stopped: floor ${result.exits.floor}; handlers ${result.exits.handler}, ${result.exits.serial_handler}; daemon (SIGTERM) ${result.exits.daemon}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
