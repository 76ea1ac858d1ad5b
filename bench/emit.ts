/**
 * Immediate-emit benchmark against the real daemon in a temporary home:
 * `subscribers` connections subscribed to `bench:**`, one sender pipelining
 * `event:emit {event:"bench:tick", data:{n}}` (no handler owns bench:tick,
 * so each emit is only pushed and logged). Every ack must say
 * `{emitted: true, delivered: <subscribers>}`, and every subscriber must get
 * every n exactly once. emits/s is the median round (acks); emit→push
 * latency is measured on the first subscriber, from the write of the emit
 * to the arrival of its push, over all measured rounds.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LineConnection, median, percentile, pipeline, processCpuNs, round, startDaemon, stopChild, table, thousands, waitReady, type Child } from "./common.js";

export interface EmitBenchOptions {
  /** Measured emits per round. */
  requests: number;
  rounds: number;
  /** Emits before measuring. */
  warmup: number;
  subscribers: number;
  depth: number;
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface EmitBenchResult {
  requests: number;
  rounds: number;
  warmup: number;
  subscribers: number;
  depth: number;
  /** Median round, acknowledged emits per second. */
  emits_per_s: number;
  rounds_emits_per_s: number[];
  /** Over every measured emit. */
  ack_p50_us: number;
  ack_p99_us: number;
  push_p50_us: number;
  push_p99_us: number;
  push_max_us: number;
  daemon_cpu_us_per_emit: number | null;
  /** This process (sender and subscribers) per emit: shows when the load generator is the limit. */
  client_cpu_us_per_emit: number;
  /** Pushes each subscriber received (warm-up included), and how many came twice. */
  received: number[];
  duplicates: number;
  expected_per_subscriber: number;
  exit: string;
  clean: boolean;
  profiled: boolean;
}

const TARGET = "bench:tick";
const PUSH_PREFIX = `{"event":"${TARGET}","data":{"n":`;
const PUSH_TIMEOUT_MS = 10_000;

export async function runEmitBench(options: EmitBenchOptions): Promise<EmitBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-emit-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  const total = options.warmup + options.requests * options.rounds;
  let daemon: Child | null = startDaemon(home, options.daemonCpuProfDir);
  const connections: LineConnection[] = [];
  try {
    await waitReady(daemon, socketPath);
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < options.subscribers; i++) {
      const conn = await LineConnection.connect(socketPath);
      connections.push(conn);
      subscribers.push(await Subscriber.open(conn, total));
    }
    const sender = await LineConnection.connect(socketPath);
    connections.push(sender);

    const sendTimes = new Float64Array(total);
    const ackLatencies = new Float64Array(total);
    const expectedAck = (n: number) => `{"event":"event:emit","id":${n},"ok":true,"data":{"emitted":true,"delivered":${options.subscribers}}}`;
    const make = (n: number) => `{"event":"event:emit","id":${n},"data":{"event":"${TARGET}","data":{"n":${n}}}}\n`;
    const check = (line: string, n: number, now: number) => {
      if (line !== expectedAck(n)) {
        const reply = JSON.parse(line) as { id?: unknown; ok?: unknown; data?: { emitted?: unknown; delivered?: unknown } };
        if (reply.ok !== true || reply.id !== n || reply.data?.emitted !== true || reply.data.delivered !== options.subscribers) {
          throw new Error(`emit ${n}: unexpected reply: ${line.slice(0, 300)}`);
        }
      }
      ackLatencies[n] = now - sendTimes[n]!;
    };
    const runRound = async (first: number, count: number) => {
      await pipeline(sender, first, count, options.depth, sendTimes, make, check);
      await Promise.all(subscribers.map((sub) => sub.waitFor(first + count)));
    };

    progress(`emit: ${options.subscribers} subscribers, depth ${options.depth}`);
    const latency = subscribers[0]!;
    await runRound(0, options.warmup);
    latency.timing(sendTimes);
    const rates: number[] = [];
    const cpuBefore = processCpuNs(daemon.process.pid);
    const clientBefore = process.cpuUsage();
    for (let r = 0; r < options.rounds; r++) {
      const first = options.warmup + r * options.requests;
      const started = performance.now();
      await pipeline(sender, first, options.requests, options.depth, sendTimes, make, check);
      rates.push(Math.round((options.requests / (performance.now() - started)) * 1000));
      await Promise.all(subscribers.map((sub) => sub.waitFor(first + options.requests)));
    }
    const cpuAfter = processCpuNs(daemon.process.pid);
    const client = process.cpuUsage(clientBefore);
    const measured = options.requests * options.rounds;

    const acks = ackLatencies.slice(options.warmup).sort();
    const pushes = latency.latencies.slice(options.warmup).sort();
    await Promise.all(connections.splice(0).map((conn) => conn.close()));
    const exit = await stopChild(daemon);
    daemon = null;
    const received = subscribers.map((sub) => sub.unique);
    const duplicates = subscribers.reduce((sum, sub) => sum + sub.duplicates, 0);
    if (duplicates > 0 || received.some((count) => count !== total)) {
      throw new Error(`subscribers received ${received.join(", ")} of ${total} pushes, ${duplicates} twice`);
    }
    return {
      requests: options.requests,
      rounds: options.rounds,
      warmup: options.warmup,
      subscribers: options.subscribers,
      depth: options.depth,
      emits_per_s: median(rates),
      rounds_emits_per_s: rates,
      ack_p50_us: round(percentile(acks, 0.5) * 1000, 1),
      ack_p99_us: round(percentile(acks, 0.99) * 1000, 1),
      push_p50_us: round(percentile(pushes, 0.5) * 1000, 1),
      push_p99_us: round(percentile(pushes, 0.99) * 1000, 1),
      push_max_us: round(pushes[pushes.length - 1]! * 1000, 1),
      daemon_cpu_us_per_emit: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1000 / measured, 2),
      client_cpu_us_per_emit: round((client.user + client.system) / measured, 2),
      received,
      duplicates,
      expected_per_subscriber: total,
      exit,
      clean: exit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    for (const conn of connections) conn.socket.destroy();
    daemon?.process.kill("SIGKILL");
    await rm(base, { recursive: true, force: true });
  }
}

/** One subscriber connection: counts each n, and (when timing) stamps its arrival against the emit's send time. */
class Subscriber {
  readonly seen: Uint8Array;
  readonly latencies: Float64Array;
  unique = 0;
  duplicates = 0;
  /** Pushes arrive in n order on one connection: the lowest n not seen yet. */
  private contiguous = 0;
  private sendTimes: Float64Array | null = null;
  private problem: Error | null = null;
  private wake: (() => void) | null = null;

  private constructor(total: number) {
    this.seen = new Uint8Array(total);
    this.latencies = new Float64Array(total);
  }

  static async open(conn: LineConnection, total: number): Promise<Subscriber> {
    const reply = await conn.request(`{"event":"monitor:subscribe","id":1,"data":{"patterns":["bench:**"]}}\n`);
    if (reply.ok !== true) throw new Error(`monitor:subscribe failed: ${JSON.stringify(reply)}`);
    const sub = new Subscriber(total);
    conn.onLines = (lines, now) => sub.onLines(lines, now);
    conn.onFailure((err) => sub.fail(err));
    return sub;
  }

  /** From now on, record emit→push latency against these send times. */
  timing(sendTimes: Float64Array): void {
    this.sendTimes = sendTimes;
  }

  private onLines(lines: string[], now: number): void {
    const { seen, sendTimes } = this;
    for (const line of lines) {
      const n = line.startsWith(PUSH_PREFIX) ? parseDigits(line, PUSH_PREFIX.length) : -1;
      if (n < 0 || n >= seen.length) {
        this.fail(new Error(`subscriber got an unexpected line: ${line.slice(0, 300)}`));
        return;
      }
      if (seen[n] !== 0) {
        this.duplicates++;
        continue;
      }
      seen[n] = 1;
      this.unique++;
      if (sendTimes !== null) this.latencies[n] = now - sendTimes[n]!;
    }
    while (this.contiguous < seen.length && seen[this.contiguous] !== 0) this.contiguous++;
    this.wake?.();
  }

  private fail(err: Error): void {
    this.problem ??= err;
    this.wake?.();
  }

  /** Resolves once every n below `end` arrived; rejects after PUSH_TIMEOUT_MS without progress. */
  async waitFor(end: number): Promise<void> {
    while (this.contiguous < end && this.problem === null) {
      const before = this.contiguous;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, PUSH_TIMEOUT_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      if (this.contiguous === before && this.problem === null) {
        throw new Error(`subscriber stalled: pushes up to n=${before} arrived, waiting for ${end - before} more`);
      }
    }
    if (this.problem !== null) throw this.problem;
  }
}

/** The non-negative integer at `from` (up to the first non-digit); -1 if there is none. */
function parseDigits(line: string, from: number): number {
  let value = 0;
  let i = from;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    value = value * 10 + c;
  }
  return i === from || line.charCodeAt(i) !== 125 /* } */ ? -1 : value;
}

// ---------------------------------------------------------------- report

export function formatEmitBench(result: EmitBenchResult): string {
  const us = (value: number) => `${value.toFixed(0)} µs`;
  const rows = table(
    ["emits/s", "rounds min–max", "pushes/s", "ack p50", "ack p99", "emit→push p50", "emit→push p99", "emit→push max", "daemon CPU/emit", "client CPU/emit"],
    [
      [
        thousands(result.emits_per_s),
        `${thousands(Math.min(...result.rounds_emits_per_s))}–${thousands(Math.max(...result.rounds_emits_per_s))}`,
        thousands(result.emits_per_s * result.subscribers),
        us(result.ack_p50_us),
        us(result.ack_p99_us),
        us(result.push_p50_us),
        us(result.push_p99_us),
        us(result.push_max_us),
        result.daemon_cpu_us_per_emit === null ? "n/a" : `${result.daemon_cpu_us_per_emit.toFixed(1)} µs`,
        `${result.client_cpu_us_per_emit.toFixed(1)} µs`,
      ],
    ],
    0,
  );
  return [
    `emit: event:emit {event:"${TARGET}", data:{n}} (no handler: pushes and the event log only), 1 sender at depth ${result.depth}, ` +
      `${result.subscribers} subscribers of bench:**;\n${thousands(result.warmup)} warm-up emits, then ${result.rounds} rounds of ` +
      `${thousands(result.requests)}; emits/s is the median round (acks), pushes/s = emits/s × subscribers; emit→push on subscriber 1` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...rows,
    "",
    `pushes received per subscriber: ${result.received.map(thousands).join(", ")} of ${thousands(result.expected_per_subscriber)} ` +
      `(${result.duplicates === 0 ? "none twice" : `${result.duplicates} twice`})`,
    `stopped: daemon (SIGTERM) ${result.exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
