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
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { atLeast, atMost, median, round, startDaemon, stopChild, table, thousands, waitReady, type Child, type Target } from "./common.js";
import {
  logRecords,
  scheduleAll,
  scheduleAndWatch,
  scheduledCount,
  sleep,
  TARGET_EVENT,
  type FireStats,
  type FireWindow,
  type ScheduleRun,
  type SchedulingOptions,
} from "./schedule-fire.js";

export type { FireStats, ScheduleRun } from "./schedule-fire.js";

export interface ScheduleBenchOptions extends SchedulingOptions, FireWindow {
  /** Restarts measured with nothing pending and with `count` pending. */
  restarts: number;
  daemonCpuProfDir?: string | undefined;
  /** Leave the temporary home (daemon.log, journal, event log) in place and name it. */
  keepHome?: boolean;
  progress?: (line: string) => void;
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
    const first = await scheduleAndWatch(home, socketPath, daemon(), options, progress);
    runs.push(first.run);
    const { fire, offsets } = first;

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

