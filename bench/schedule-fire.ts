/**
 * Delayed emits scheduled and watched as they fire, against a running
 * daemon: the part of the schedule bench that the peers bench runs too, so
 * both report patternd's figures from the same code.
 *
 * `count` delayed `event:emit` requests (target `bench:fire`, data `{n}`,
 * an `at` spread uniformly over a window that opens only after the
 * scheduling is done), pipelined with a bounded window, each ack checked
 * (`ok`, `scheduled`); a subscriber to `bench:fire` on its own connection
 * stamps every push: lateness = receive time − the fire_at the daemon
 * returned for that n. Every n must arrive exactly once.
 */
import { readdir, readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { epochOffset, LineConnection, percentile, pipeline, processCpuNs, round, thousands, type Child } from "./common.js";
import { PushWatcher } from "./push-watcher.js";
import { seededRandom } from "./random.js";

export interface SchedulingOptions {
  /** Schedules per run. The daemon's bound on pending schedules is 100 000. */
  count: number;
  /** Requests in flight (over all connections). */
  window: number;
  connections: number;
}

export interface FireWindow {
  /** The fire window, in seconds from the start of the scheduling. */
  fireFromS: number;
  fireToS: number;
}

export interface ScheduleRun {
  label: string;
  schedules: number;
  wall_ms: number;
  acks_per_s: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  ack_max_ms: number;
  /** The daemon process's CPU time (all threads) per schedule; null where /proc is missing. */
  daemon_cpu_us_per_schedule: number | null;
}

export interface FireStats {
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Ms from the end of the scheduling to the first fire_at (negative: they overlapped). */
  margin_ms: number;
  window_s: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  /** Negative would mean a push before its fire_at (or clock error). */
  min_ms: number;
  /** Pushes more than 10 ms late. */
  over_10ms: number;
  /** 1-minute load average when the window opened and when the last push arrived. */
  load_1m_before: number;
  load_1m_after: number;
  /** How far the wall clock moved against the monotonic one over the window (lateness uses their mean). */
  clock_drift_ms: number;
  /** Daemon CPU time during the window as a share of one core. */
  daemon_cpu_share: number | null;
  /**
   * The daemon's own `late_ms` for the same fires, from the event log (whole ms, taken when the
   * schedule is handed to dispatch, after its removal is on disk): lateness before any push is written.
   */
  daemon_late_ms: { records: number; p50: number; p99: number; max: number };
  /** When the daemon logged "schedule journal compacted" during the window, in s after it opened (each rewrite blocks the fires queued behind it). */
  compactions_at_s: number[];
  /** Per second of the fire window (by fire_at): where the late ones cluster. */
  by_second: { second: number; fires: number; p99_ms: number; max_ms: number; over_10ms: number }[];
}

export const TARGET_EVENT = "bench:fire";
const FIRE_TIMEOUT_AFTER_LAST_MS = 30_000;

/**
 * On a running daemon (home `home`, its socket `socketPath`): schedules
 * `count` emits firing over the window, waits for every push, and returns
 * the scheduling run, the fire lateness, and the offsets (for a second
 * run at another time). Throws when a push is lost or comes twice, or a
 * schedule is left pending.
 */
export async function scheduleAndWatch(
  home: string,
  socketPath: string,
  daemon: Child,
  options: SchedulingOptions & FireWindow,
  progress: (line: string) => void,
): Promise<{ run: ScheduleRun; fire: FireStats; offsets: Int32Array }> {
  const logPath = join(home, "var", "log", "daemon.log");
  progress(`schedule: ${thousands(options.count)} delayed emits firing in +${options.fireFromS}…+${options.fireToS} s`);
  const watcher = await PushWatcher.open(socketPath, TARGET_EVENT, options.count);
  const t0 = Date.now();
  const offsets = spread(options.count, options.fireFromS * 1000, options.fireToS * 1000);
  const first = await scheduleAll(socketPath, daemon, options, (n) => t0 + offsets[n]!, `fire in +${options.fireFromS}–${options.fireToS} s`);
  const firstFireAt = t0 + options.fireFromS * 1000;
  const lastFireAt = t0 + options.fireToS * 1000;
  const marginMs = firstFireAt - Date.now();
  progress(`schedule: ${thousands(first.run.acks_per_s)} acks/s; waiting for the fires (${Math.max(0, Math.round((lastFireAt - Date.now()) / 1000))} s)`);
  if (marginMs > 200) await sleep(marginMs - 200);
  const loadBefore = loadavg()[0]!;
  const cpuBefore = processCpuNs(daemon.process.pid);
  const windowStarted = performance.now();
  const offsetBefore = epochOffset();
  await watcher.waitAll(lastFireAt + FIRE_TIMEOUT_AFTER_LAST_MS);
  // Late duplicates would come right behind the last push.
  await sleep(200);
  watcher.throwIfFailed();
  const offsetAfter = epochOffset();
  const cpuAfter = processCpuNs(daemon.process.pid);
  const windowMs = performance.now() - windowStarted;
  const loadAfter = loadavg()[0]!;
  await watcher.close();
  // The wall clock and the monotonic one agree to µs over a minute unless NTP slews; report it either way.
  const fire = fireStats(watcher, first.fireAt, firstFireAt, (offsetBefore + offsetAfter) / 2, {
    clock_drift_ms: round(offsetAfter - offsetBefore, 3),
    margin_ms: Math.round(marginMs),
    window_s: options.fireToS - options.fireFromS,
    load_1m_before: round(loadBefore, 2),
    load_1m_after: round(loadAfter, 2),
    daemon_cpu_share: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1e6 / windowMs, 3),
  });
  if (fire.lost > 0 || fire.duplicates > 0) {
    throw new Error(`of ${fire.expected} scheduled emits ${fire.received} were pushed: ${fire.lost} lost, ${fire.duplicates} twice`);
  }
  fire.daemon_late_ms = await daemonLateness(join(home, "var", "log", "events"));
  fire.compactions_at_s = (await logRecords(logPath, "schedule journal compacted"))
    .map((record) => (Date.parse(String(record.time)) - firstFireAt) / 1000)
    .filter((at) => at >= -1 && at <= options.fireToS - options.fireFromS + 1)
    .map((at) => round(at, 2));
  const left = await scheduledCount(socketPath);
  if (left !== 0) throw new Error(`${left} schedules still pending after every push arrived`);
  return { run: first.run, fire, offsets };
}

/** Fire offsets (ms) for n = 0 .. count-1: evenly spaced over [from, to), in a seeded random order. */
export function spread(count: number, fromMs: number, toMs: number): Int32Array {
  const offsets = new Int32Array(count);
  for (let i = 0; i < count; i++) offsets[i] = fromMs + Math.floor((i * (toMs - fromMs)) / count);
  const random = seededRandom(42);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = offsets[i]!;
    offsets[i] = offsets[j]!;
    offsets[j] = swap;
  }
  return offsets;
}

/** Schedules n = 0 .. count-1 at `fireAt(n)`; returns the run's figures and the fire_at the daemon acknowledged for each n. */
export async function scheduleAll(
  socketPath: string,
  daemon: Child,
  options: SchedulingOptions,
  fireAt: (n: number) => number,
  label: string,
): Promise<{ run: ScheduleRun; fireAt: Float64Array }> {
  const { count, connections } = options;
  const depth = Math.max(1, Math.floor(options.window / connections));
  const conns = await Promise.all(Array.from({ length: connections }, () => LineConnection.connect(socketPath)));
  const sendTimes = new Float64Array(count);
  const latencies = new Float64Array(count);
  const acknowledged = new Float64Array(count);
  const make = (n: number) =>
    `{"event":"event:emit","id":${n},"data":{"event":"${TARGET_EVENT}","data":{"n":${n}},"at":"${new Date(fireAt(n)).toISOString()}"}}\n`;
  const check = (line: string, n: number, now: number) => {
    let reply: { id?: unknown; ok?: unknown; data?: { scheduled?: unknown; fire_at?: unknown } };
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      throw new Error(`schedule ${n}: reply is not JSON: ${line.slice(0, 300)}`);
    }
    if (reply.ok !== true || reply.id !== n || reply.data?.scheduled !== true || typeof reply.data.fire_at !== "string") {
      throw new Error(`schedule ${n}: unexpected reply: ${line.slice(0, 300)}`);
    }
    acknowledged[n] = Date.parse(reply.data.fire_at);
    latencies[n] = now - sendTimes[n]!;
  };
  const cpuBefore = processCpuNs(daemon.process.pid);
  const started = performance.now();
  try {
    let first = 0;
    await Promise.all(
      conns.map((conn, i) => {
        const quota = Math.floor(count / connections) + (i < count % connections ? 1 : 0);
        const run = pipeline(conn, first, quota, depth, sendTimes, make, check);
        first += quota;
        return run;
      }),
    );
  } finally {
    await Promise.all(conns.map((conn) => conn.close()));
  }
  const wallMs = performance.now() - started;
  const cpuAfter = processCpuNs(daemon.process.pid);
  latencies.sort();
  return {
    run: {
      label,
      schedules: count,
      wall_ms: Math.round(wallMs),
      acks_per_s: Math.round((count / wallMs) * 1000),
      ack_p50_ms: round(percentile(latencies, 0.5), 2),
      ack_p99_ms: round(percentile(latencies, 0.99), 2),
      ack_max_ms: round(latencies[count - 1]!, 2),
      daemon_cpu_us_per_schedule: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1000 / count, 1),
    },
    fireAt: acknowledged,
  };
}

/** late_ms of every fired `bench:fire` record in the event log. */
async function daemonLateness(dir: string): Promise<FireStats["daemon_late_ms"]> {
  const values: number[] = [];
  for (const name of (await readdir(dir)).filter((file) => file.endsWith(".ndjson"))) {
    const text = await readFile(join(dir, name), "utf8");
    for (const match of text.matchAll(/"event":"bench:fire"[^\n]*?"late_ms":(\d+(?:\.\d+)?)/g)) values.push(Number(match[1]));
  }
  const sorted = Float64Array.from(values).sort();
  return { records: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN };
}

/** The records of daemon.log with this `msg`. */
export async function logRecords(logPath: string, msg: string): Promise<Record<string, unknown>[]> {
  return (await readFile(logPath, "utf8").catch(() => ""))
    .split("\n")
    .filter((line) => line.includes(`"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === msg);
}

export async function scheduledCount(socketPath: string): Promise<number> {
  const conn = await LineConnection.connect(socketPath);
  try {
    const reply = await conn.request(`{"event":"system:health","id":1}\n`);
    const scheduled = reply.data?.scheduled;
    if (reply.ok !== true || typeof scheduled !== "number") throw new Error(`system:health: ${JSON.stringify(reply)}`);
    return scheduled;
  } finally {
    await conn.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a receiver stamped, per n in [0, count): the subscriber of the schedule bench, or a peer's worker. */
export interface Arrivals {
  readonly count: number;
  /** 1 once n arrived. */
  readonly seen: Uint8Array;
  /** Arrival of each n (performance.now()). */
  readonly arrivedAt: Float64Array;
  readonly unique: number;
  readonly duplicates: number;
}

/** Fire lateness of what the watcher received: arrival (made epoch by `offset`) − fire_at, overall and by second. */
export function fireStats(
  watcher: Arrivals,
  fireAt: Float64Array,
  windowStart: number,
  offset: number,
  extra: Pick<FireStats, "clock_drift_ms" | "margin_ms" | "window_s" | "load_1m_before" | "load_1m_after" | "daemon_cpu_share">,
): FireStats {
  const lateness = new Float64Array(watcher.unique);
  const seconds: number[][] = [];
  let j = 0;
  let over10 = 0;
  for (let n = 0; n < watcher.count; n++) {
    if (watcher.seen[n] === 0) continue;
    const late = watcher.arrivedAt[n]! + offset - fireAt[n]!;
    if (late > 10) over10++;
    lateness[j++] = late;
    (seconds[Math.floor((fireAt[n]! - windowStart) / 1000)] ??= []).push(late);
  }
  lateness.sort();
  const bySecond = [...seconds.entries()]
    .filter((entry): entry is [number, number[]] => entry[1] !== undefined)
    .map(([second, values]) => {
      const sorted = Float64Array.from(values).sort();
      return {
        second,
        fires: sorted.length,
        p99_ms: round(percentile(sorted, 0.99), 2),
        max_ms: round(sorted[sorted.length - 1]!, 2),
        over_10ms: sorted.filter((late) => late > 10).length,
      };
    });
  return {
    expected: watcher.count,
    received: watcher.unique,
    lost: watcher.count - watcher.unique,
    duplicates: watcher.duplicates,
    ...extra,
    p50_ms: round(percentile(lateness, 0.5), 2),
    p99_ms: round(percentile(lateness, 0.99), 2),
    p999_ms: round(percentile(lateness, 0.999), 2),
    max_ms: round(lateness[lateness.length - 1] ?? NaN, 2),
    min_ms: round(lateness[0] ?? NaN, 2),
    over_10ms: over10,
    daemon_late_ms: { records: 0, p50: NaN, p99: NaN, max: NaN },
    compactions_at_s: [],
    by_second: bySecond,
  };
}
