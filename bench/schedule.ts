/**
 * Delayed-emit benchmark against the real daemon in a temporary home:
 *
 * 1. scheduling throughput: `count` delayed `event:emit` requests (target
 *    `bench:fire`, data `{n}`, an `at` spread uniformly over a window that
 *    opens only after the scheduling is done), pipelined with a bounded
 *    window; each ack must be `ok` and `scheduled`;
 * 2. fire lateness: a subscriber to `bench:fire` on its own connection
 *    stamps every push; lateness = receive time − the fire_at the daemon
 *    returned for that n. Every n must arrive exactly once;
 * 3. journal load on restart: with `count` schedules pending (a fresh set a
 *    day out), SIGTERM and start again on the same home, `restarts` times;
 *    time from spawn until system:health answers, and the daemon's own
 *    `load_ms` from daemon.log ("schedules loaded"). The same restart with
 *    nothing pending is the baseline (node start-up, store, socket).
 *
 * The 100 000-schedule runs are single rounds (each takes the better part
 * of a minute); the restarts are repeated and reported as medians.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  atLeast,
  atMost,
  epochOffset,
  LineConnection,
  median,
  percentile,
  pipeline,
  processCpuNs,
  round,
  startDaemon,
  stopChild,
  table,
  thousands,
  waitReady,
  type Child,
  type Target,
} from "./common.js";
import { PushWatcher } from "./push-watcher.js";
import { seededRandom } from "./random.js";

export interface ScheduleBenchOptions {
  /** Schedules per run. The daemon's bound on pending schedules is 100 000. */
  count: number;
  /** Requests in flight (over all connections). */
  window: number;
  connections: number;
  /** The fire window, in seconds from the start of the scheduling. */
  fireFromS: number;
  fireToS: number;
  /** Restarts measured with nothing pending and with `count` pending. */
  restarts: number;
  daemonCpuProfDir?: string | undefined;
  /** Leave the temporary home (daemon.log, journal, event log) in place and name it. */
  keepHome?: boolean;
  progress?: (line: string) => void;
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

export interface RestartStats {
  pending: number;
  journal_bytes: number;
  /** Each round: SIGTERM → exit, spawn → system:health answered, the daemon's load_ms. */
  stop_ms: number[];
  ready_ms: number[];
  load_ms: number[];
  /** `loaded` of the last "schedules loaded" line, and system:health `scheduled` after the last start. */
  loaded: number;
  health_scheduled: number;
}

export interface ScheduleBenchResult {
  count: number;
  window: number;
  connections: number;
  fire_from_s: number;
  fire_to_s: number;
  runs: ScheduleRun[];
  fire: FireStats;
  restart: { baseline: RestartStats; loaded: RestartStats };
  targets: Target[];
  exit: string;
  clean: boolean;
  profiled: boolean;
}

const TARGET_EVENT = "bench:fire";
const FIRE_TIMEOUT_AFTER_LAST_MS = 30_000;
const DAY_MS = 86_400_000;

export async function runScheduleBench(options: ScheduleBenchOptions): Promise<ScheduleBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-schedule-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  const journalPath = join(home, "var", "lib", "schedule.ndjson");
  const logPath = join(home, "var", "log", "daemon.log");
  /** The running daemon (one at a time). */
  const current: { daemon: Child | null } = { daemon: null };
  const daemon = () => current.daemon!;
  let starts = 0;
  const start = async (): Promise<{ readyMs: number; loadMs: number; loaded: number }> => {
    const spawned = performance.now();
    current.daemon = startDaemon(home, options.daemonCpuProfDir);
    await waitReady(current.daemon, socketPath, 2);
    const readyMs = performance.now() - spawned;
    starts++;
    const line = await loadedLine(logPath, starts);
    return { readyMs, loadMs: line.load_ms, loaded: line.loaded };
  };
  const stop = async (): Promise<{ how: string; ms: number }> => {
    const started = performance.now();
    const how = await stopChild(daemon());
    current.daemon = null;
    if (how !== "exit 0") throw new Error(`daemon did not stop cleanly on SIGTERM: ${how}`);
    return { how, ms: performance.now() - started };
  };
  const restartRounds = async (pending: number): Promise<RestartStats> => {
    const stats: RestartStats = { pending, journal_bytes: 0, stop_ms: [], ready_ms: [], load_ms: [], loaded: 0, health_scheduled: 0 };
    for (let i = 0; i < options.restarts; i++) {
      stats.stop_ms.push(round((await stop()).ms, 1));
      if (i === 0) stats.journal_bytes = (await stat(journalPath)).size;
      const started = await start();
      stats.ready_ms.push(round(started.readyMs, 1));
      stats.load_ms.push(started.loadMs);
      stats.loaded = started.loaded;
    }
    stats.health_scheduled = await scheduledCount(socketPath);
    if (stats.loaded !== pending || stats.health_scheduled !== pending) {
      throw new Error(`after restart the daemon has ${stats.loaded} loaded / ${stats.health_scheduled} scheduled, expected ${pending}`);
    }
    return stats;
  };

  try {
    await start();
    const runs: ScheduleRun[] = [];

    // 1 + 2: schedule, then watch them fire.
    progress(`schedule: ${thousands(options.count)} delayed emits firing in +${options.fireFromS}…+${options.fireToS} s`);
    const watcher = await PushWatcher.open(socketPath, TARGET_EVENT, options.count);
    const t0 = Date.now();
    const offsets = spread(options.count, options.fireFromS * 1000, options.fireToS * 1000);
    const first = await scheduleAll(socketPath, daemon(), options, (n) => t0 + offsets[n]!, `fire in +${options.fireFromS}–${options.fireToS} s`);
    runs.push(first.run);
    const firstFireAt = t0 + options.fireFromS * 1000;
    const lastFireAt = t0 + options.fireToS * 1000;
    const marginMs = firstFireAt - Date.now();
    progress(`schedule: ${thousands(first.run.acks_per_s)} acks/s; waiting for the fires (${Math.max(0, Math.round((lastFireAt - Date.now()) / 1000))} s)`);
    if (marginMs > 200) await sleep(marginMs - 200);
    const loadBefore = loadavg()[0]!;
    const cpuBefore = processCpuNs(daemon().process.pid);
    const windowStarted = performance.now();
    const offsetBefore = epochOffset();
    await watcher.waitAll(lastFireAt + FIRE_TIMEOUT_AFTER_LAST_MS);
    // Late duplicates would come right behind the last push.
    await sleep(200);
    watcher.throwIfFailed();
    const offsetAfter = epochOffset();
    const cpuAfter = processCpuNs(daemon().process.pid);
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

    // 3: restarts with nothing pending (baseline), then with `count` pending a day out.
    progress(`schedule: ${options.restarts} restarts with nothing pending`);
    const baseline = await restartRounds(0);
    progress(`schedule: ${thousands(options.count)} more, a day out`);
    const t1 = Date.now();
    const far = await scheduleAll(socketPath, daemon(), options, (n) => t1 + DAY_MS + offsets[n]!, "fire in +1 day (kept pending)");
    runs.push(far.run);
    progress(`schedule: ${options.restarts} restarts with ${thousands(options.count)} pending`);
    const loaded = await restartRounds(options.count);

    const exit = (await stop()).how;
    return {
      count: options.count,
      window: options.window,
      connections: options.connections,
      fire_from_s: options.fireFromS,
      fire_to_s: options.fireToS,
      runs,
      fire,
      restart: { baseline, loaded },
      targets: [
        atMost("fire lateness p99 (ms)", fire.p99_ms, 10),
        atLeast("pushes received exactly once", fire.received, fire.expected),
      ],
      exit,
      clean: exit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    current.daemon?.process.kill("SIGKILL");
    if (options.keepHome === true) progress(`schedule: home kept at ${home}`);
    else await rm(base, { recursive: true, force: true });
  }
}

/** Fire offsets (ms) for n = 0 .. count-1: evenly spaced over [from, to), in a seeded random order. */
function spread(count: number, fromMs: number, toMs: number): Int32Array {
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
async function scheduleAll(
  socketPath: string,
  daemon: Child,
  options: ScheduleBenchOptions,
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


/** The records of daemon.log with this `msg`. */
async function logRecords(logPath: string, msg: string): Promise<Record<string, unknown>[]> {
  return (await readFile(logPath, "utf8").catch(() => ""))
    .split("\n")
    .filter((line) => line.includes(`"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === msg);
}

/** The last "schedules loaded" line of daemon.log once it holds `starts` of them (the log is written asynchronously). */
async function loadedLine(logPath: string, starts: number): Promise<{ load_ms: number; loaded: number }> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const lines = await logRecords(logPath, "schedules loaded");
    if (lines.length >= starts) {
      const last = lines[lines.length - 1]!;
      if (typeof last.load_ms !== "number" || typeof last.loaded !== "number") throw new Error(`"schedules loaded" without load_ms/loaded: ${JSON.stringify(last)}`);
      return { load_ms: last.load_ms, loaded: last.loaded };
    }
    if (Date.now() > deadline) throw new Error(`daemon.log has ${lines.length} "schedules loaded" lines after ${starts} starts`);
    await sleep(10);
  }
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

async function scheduledCount(socketPath: string): Promise<number> {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------- report

export function formatScheduleBench(result: ScheduleBenchResult): string {
  const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
  const runTable = table(
    ["run (single round each)", "schedules", "wall", "acks/s", "ack p50", "ack p99", "ack max", "daemon CPU/schedule"],
    result.runs.map((run) => [
      run.label,
      thousands(run.schedules),
      `${(run.wall_ms / 1000).toFixed(2)} s`,
      thousands(run.acks_per_s),
      ms(run.ack_p50_ms),
      ms(run.ack_p99_ms),
      ms(run.ack_max_ms),
      run.daemon_cpu_us_per_schedule === null ? "n/a" : `${run.daemon_cpu_us_per_schedule.toFixed(1)} µs`,
    ]),
  );
  const f = result.fire;
  const fireTable = table(
    ["received", "lost", "twice", "p50", "p99", "p99.9", "max", "min", "> 10 ms", "daemon CPU", "load avg (1 min) window start → end"],
    [
      [
        `${thousands(f.received)} / ${thousands(f.expected)}`,
        thousands(f.lost),
        thousands(f.duplicates),
        ms(f.p50_ms),
        ms(f.p99_ms),
        ms(f.p999_ms),
        ms(f.max_ms),
        ms(f.min_ms),
        thousands(f.over_10ms),
        f.daemon_cpu_share === null ? "n/a" : `${Math.round(f.daemon_cpu_share * 100)}% of a core`,
        `${f.load_1m_before.toFixed(2)} → ${f.load_1m_after.toFixed(2)}`,
      ],
    ],
  );
  const restarts = [result.restart.baseline, result.restart.loaded];
  const spreadOf = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
  const restartTable = table(
    ["pending", "journal", "stop (SIGTERM)", "ready (spawn → health)", "min–max", "load_ms (daemon)", "min–max "],
    restarts.map((r) => [
      thousands(r.pending),
      bytes(r.journal_bytes),
      `${median(r.stop_ms).toFixed(0)} ms`,
      `${median(r.ready_ms).toFixed(0)} ms`,
      spreadOf(r.ready_ms),
      `${median(r.load_ms).toFixed(0)} ms`,
      spreadOf(r.load_ms),
    ]),
  );
  const value = (t: Target) => (t.name.includes("(ms)") ? ms(t.value) : thousands(t.value));
  const bound = (t: Target) => (t.max !== undefined ? `≤ ${t.name.includes("(ms)") ? ms(t.max) : thousands(t.max)}` : `≥ ${thousands(t.min!)}`);
  const overlap =
    f.margin_ms >= 0
      ? `scheduling ended ${(f.margin_ms / 1000).toFixed(1)} s before the first fire_at`
      : `WARNING: scheduling overran the first fire_at by ${(-f.margin_ms / 1000).toFixed(1)} s; lateness includes scheduling load`;
  return [
    `schedule: ${thousands(result.count)} delayed event:emit {event:"${TARGET_EVENT}", data:{n}, at} per run, ` +
      `${result.connections} connection(s), ${result.window} in flight; every ack checked (ok, scheduled)` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...runTable,
    "",
    `fire lateness (push arrival − acknowledged fire_at, subscriber on its own connection); fire_at spread uniformly over ` +
      `+${result.fire_from_s}…+${result.fire_to_s} s (${thousands(f.expected / f.window_s)} fires/s), single round; ${overlap}`,
    ...fireTable,
    lateSeconds(f),
    `journal compactions finished in the window at: ${f.compactions_at_s.length === 0 ? "none" : f.compactions_at_s.map((at) => `+${at.toFixed(1)} s`).join(", ")}`,
    `the daemon's own late_ms for these fires (event log, whole ms, taken before dispatch): p50 ${f.daemon_late_ms.p50} ms, ` +
      `p99 ${f.daemon_late_ms.p99} ms, max ${f.daemon_late_ms.max} ms over ${thousands(f.daemon_late_ms.records)} records`,
    "",
    `restart on the same home (SIGTERM, then start): median of ${result.restart.loaded.ready_ms.length} rounds; ready includes node start-up; ` +
      `load_ms is the daemon's "schedules loaded" figure\n(journal read + rewrite + index); journal is its size at the first SIGTERM ` +
      `(with 0 pending: the dead records of the fired run)`,
    ...restartTable,
    "",
    "targets:",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name.replace(" (ms)", "")} = ${value(t)} (target ${bound(t)})`),
    `stopped: daemon (SIGTERM) ${result.exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}

/** Which seconds of the window hold the late fires. */
function lateSeconds(f: FireStats): string {
  const late = f.by_second.filter((s) => s.over_10ms > 0);
  if (late.length === 0) return `no second of the window had a fire over 10 ms late`;
  const worst = late.reduce((a, b) => (b.max_ms > a.max_ms ? b : a));
  return (
    `fires over 10 ms late fell in ${late.length} of ${f.by_second.length} seconds of the window ` +
    `(${late.map((s) => `+${s.second} s: ${thousands(s.over_10ms)}`).join(", ")}); worst: +${worst.second} s, max ${worst.max_ms.toFixed(1)} ms`
  );
}

function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB`;
}

/** Fire lateness of what the watcher received: push arrival (made epoch by `offset`) − fire_at, overall and by second. */
function fireStats(
  watcher: PushWatcher,
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
