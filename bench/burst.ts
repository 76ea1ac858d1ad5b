/**
 * Burst benchmark against the real daemon in a temporary home: `count`
 * delayed `event:emit` requests (target `bench:burst`, data `{n}`) all due
 * at the same instant, pipelined; one subscriber on its own connection
 * reading every push; and on a third connection a `system:health` ping
 * every `pingEveryMs` from just before the instant until the last push
 * arrives (a ping is sent only once the previous one is answered, so a
 * stalled daemon shows as one long ping, not as a queue of them).
 *
 * Reported: how long the pings in flight during the burst took (the stall
 * another client sees: max and p99), whether the subscriber got every
 * event once and in order (and any `monitor:dropped`), and the burst's
 * length from the instant to the last push. Single round.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { atLeast, atMost, epochOffset, LineConnection, pipeline, round, startDaemon, stopChild, table, thousands, waitReady, type Child, type Target } from "./common.js";
import { PushWatcher } from "./push-watcher.js";
import { latencyStats, RequestLoop, sleep, type LatencyStats, type Timed } from "./request-loop.js";

export interface BurstBenchOptions {
  /** Emits due at the one instant. */
  count: number;
  /** Scheduling requests in flight. */
  window: number;
  pingEveryMs: number;
  /** The instant lies this long after the scheduling starts (it must be done by then). */
  leadMs: number;
  daemonCpuProfDir?: string | undefined;
  keepHome?: boolean;
  progress?: (line: string) => void;
}

export interface BurstBenchResult {
  count: number;
  ping_every_ms: number;
  /** Scheduling: wall time and acks per second; margin = how long before the instant it ended. */
  schedule_wall_ms: number;
  acks_per_s: number;
  margin_ms: number;
  /** Pings answered or outstanding while the burst ran (instant → last push). */
  pings: { during: number; p50_ms: number; p99_ms: number; max_ms: number; before_p50_ms: number };
  subscriber: { received: number; in_order: boolean; duplicates: number; dropped: boolean };
  /** From the instant to the first and the last push at the subscriber. */
  first_push_ms: number;
  burst_ms: number;
  load_1m_before: number;
  load_1m_after: number;
  targets: Target[];
  exit: string;
  clean: boolean;
  profiled: boolean;
}

/** The event the burst emits, data `{n}`; the bar schedules the same burst. */
export const TARGET_EVENT = "bench:burst";
const DONE_TIMEOUT_MS = 120_000;

export async function runBurstBench(options: BurstBenchOptions): Promise<BurstBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-burst-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = null;
  try {
    daemon = startDaemon(home, options.daemonCpuProfDir);
    await waitReady(daemon, socketPath, 2);

    const subscriber = await PushWatcher.open(socketPath, TARGET_EVENT, options.count);
    const fireAt = Date.now() + options.leadMs;
    progress(`burst: ${thousands(options.count)} delayed emits due at one instant, ${(options.leadMs / 1000).toFixed(0)} s from now`);
    const scheduled = await scheduleBurst(socketPath, options.count, options.window, fireAt);
    const marginMs = fireAt - Date.now();
    progress(`burst: scheduled at ${thousands(scheduled.acksPerS)} acks/s; ${(marginMs / 1000).toFixed(1)} s until the instant`);

    const offset = epochOffset();
    const fireAtPerf = fireAt - offset;
    const pinger = new RequestLoop(await LineConnection.connect(socketPath), { make: (id) => `{"event":"system:health","id":${id}}\n`, everyMs: options.pingEveryMs });
    await sleep(Math.max(0, fireAtPerf - 500 - performance.now()));
    const loadBefore = loadavg()[0]!;
    pinger.start();
    await subscriber.waitAll(Date.now() + DONE_TIMEOUT_MS);
    await pinger.stop(200);
    if (pinger.errors > 0) throw new Error(`system:health: ${pinger.firstError}`);
    const loadAfter = loadavg()[0]!;
    await subscriber.close();

    const lastPush = subscriber.lastAt;
    const phases = burstPhases(pinger.answered, fireAtPerf, lastPush);
    const pingStats = { during: phases.during.count, p50_ms: phases.during.p50_ms, p99_ms: phases.during.p99_ms, max_ms: phases.during.max_ms, before_p50_ms: phases.before.p50_ms };
    const result: Omit<BurstBenchResult, "targets" | "exit" | "clean"> = {
      count: options.count,
      ping_every_ms: options.pingEveryMs,
      schedule_wall_ms: scheduled.wallMs,
      acks_per_s: scheduled.acksPerS,
      margin_ms: Math.round(marginMs),
      pings: pingStats,
      subscriber: { received: subscriber.unique, in_order: subscriber.inOrder, duplicates: subscriber.duplicates, dropped: subscriber.dropped },
      first_push_ms: round(subscriber.firstAt - fireAtPerf, 1),
      burst_ms: round(lastPush - fireAtPerf, 1),
      load_1m_before: round(loadBefore, 2),
      load_1m_after: round(loadAfter, 2),
      profiled: options.daemonCpuProfDir !== undefined,
    };
    const exit = await stopChild(daemon);
    daemon = null;
    return {
      ...result,
      targets: [
        atMost("ping stall max (ms)", pingStats.max_ms, 100),
        atLeast("events the reading subscriber got", subscriber.unique, options.count),
        atMost("monitor:dropped pushes", subscriber.dropped ? 1 : 0, 0),
      ],
      exit,
      clean: exit === "exit 0",
    };
  } finally {
    daemon?.process.kill("SIGKILL");
    if (options.keepHome === true) progress(`burst: home kept at ${home}`);
    else await rm(base, { recursive: true, force: true });
  }
}

/** `count` delayed emits of TARGET_EVENT, all due at `fireAt` (epoch ms), `window` in flight; each ack checked. */
export async function scheduleBurst(socketPath: string, count: number, window: number, fireAt: number): Promise<{ wallMs: number; acksPerS: number }> {
  const conn = await LineConnection.connect(socketPath);
  const at = new Date(fireAt).toISOString();
  const make = (n: number) => `{"event":"event:emit","id":${n},"data":{"event":"${TARGET_EVENT}","data":{"n":${n}},"at":"${at}"}}\n`;
  const check = (line: string, n: number) => {
    const reply = JSON.parse(line) as { id?: unknown; ok?: unknown; data?: { scheduled?: unknown } };
    if (reply.ok !== true || reply.id !== n || reply.data?.scheduled !== true) throw new Error(`schedule ${n}: unexpected reply: ${line.slice(0, 300)}`);
  };
  const started = performance.now();
  try {
    await pipeline(conn, 0, count, window, new Float64Array(count), make, check);
  } finally {
    await conn.close();
  }
  const wallMs = performance.now() - started;
  return { wallMs: Math.round(wallMs), acksPerS: Math.round((count / wallMs) * 1000) };
}

/**
 * Splits a loop's requests at the instant (performance.now() time): before =
 * answered before it; during = answered at or after it and sent by the last
 * push, so a request the burst held up counts whole.
 */
export function burstPhases(requests: Timed[], instant: number, lastPush: number): { before: LatencyStats; during: LatencyStats } {
  return {
    before: latencyStats(requests.filter((r) => r.answeredAt < instant)),
    during: latencyStats(requests.filter((r) => r.answeredAt >= instant && r.sentAt <= lastPush)),
  };
}

// ---------------------------------------------------------------- report

export function formatBurstBench(result: BurstBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const s = result.subscriber;
  const rows = table(
    ["pings during", "ping p50", "ping p99", "ping max", "(before: p50)", "received", "in order", "twice", "monitor:dropped", "first push", "last push"],
    [
      [
        thousands(result.pings.during),
        ms(result.pings.p50_ms),
        ms(result.pings.p99_ms),
        ms(result.pings.max_ms),
        ms(result.pings.before_p50_ms),
        `${thousands(s.received)} / ${thousands(result.count)}`,
        s.in_order ? "yes" : "NO",
        thousands(s.duplicates),
        s.dropped ? "YES" : "no",
        `+${ms(result.first_push_ms)}`,
        `+${ms(result.burst_ms)}`,
      ],
    ],
  );
  const value = (t: Target) => (t.name.includes("(ms)") ? ms(t.value) : thousands(t.value));
  const bound = (t: Target) => (t.max !== undefined ? `≤ ${t.name.includes("(ms)") ? ms(t.max) : thousands(t.max)}` : `≥ ${thousands(t.min!)}`);
  const overlap =
    result.margin_ms >= 0
      ? `scheduling (${(result.schedule_wall_ms / 1000).toFixed(1)} s, ${thousands(result.acks_per_s)} acks/s) ended ${(result.margin_ms / 1000).toFixed(1)} s before the instant`
      : `WARNING: scheduling overran the instant by ${(-result.margin_ms / 1000).toFixed(1)} s; the burst was not all due at once`;
  return [
    `burst: ${thousands(result.count)} delayed event:emit {event:"${TARGET_EVENT}", data:{n}} due at one instant; one subscriber reads every push; ` +
      `system:health every ${result.ping_every_ms} ms on a third connection (ping = its round trip, instant → last push); single round; ${overlap}` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...rows,
    `load average (1 min) ${result.load_1m_before.toFixed(2)} → ${result.load_1m_after.toFixed(2)}`,
    "",
    "targets:",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name.replace(" (ms)", "")} = ${value(t)} (target ${bound(t)})`),
    `stopped: daemon (SIGTERM) ${result.exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
