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
import {
  atLeast,
  atMost,
  epochOffset,
  LineConnection,
  percentile,
  pipeline,
  round,
  startDaemon,
  stopChild,
  table,
  thousands,
  waitReady,
  type Child,
  type Target,
} from "./common.js";
import { Pinger } from "./pinger.js";
import { PushWatcher } from "./push-watcher.js";

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

const TARGET_EVENT = "bench:burst";
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
    const scheduled = await scheduleAll(socketPath, options, fireAt);
    const marginMs = fireAt - Date.now();
    progress(`burst: scheduled at ${thousands(scheduled.acksPerS)} acks/s; ${(marginMs / 1000).toFixed(1)} s until the instant`);

    const offset = epochOffset();
    const fireAtPerf = fireAt - offset;
    const pinger = new Pinger(await LineConnection.connect(socketPath), options.pingEveryMs);
    await sleep(Math.max(0, fireAtPerf - 500 - performance.now()));
    const loadBefore = loadavg()[0]!;
    pinger.start();
    await subscriber.waitAll(Date.now() + DONE_TIMEOUT_MS);
    const pings = await pinger.stop();
    const loadAfter = loadavg()[0]!;
    await subscriber.close();

    const lastPush = subscriber.lastAt;
    const during = pings.filter((ping) => ping.answeredAt >= fireAtPerf && ping.sentAt <= lastPush).map((ping) => ping.answeredAt - ping.sentAt);
    const before = pings.filter((ping) => ping.answeredAt < fireAtPerf).map((ping) => ping.answeredAt - ping.sentAt);
    const sortedDuring = Float64Array.from(during).sort();
    const sortedBefore = Float64Array.from(before).sort();
    const pingStats = {
      during: sortedDuring.length,
      p50_ms: round(percentile(sortedDuring, 0.5), 2),
      p99_ms: round(percentile(sortedDuring, 0.99), 2),
      max_ms: round(sortedDuring[sortedDuring.length - 1] ?? NaN, 2),
      before_p50_ms: round(percentile(sortedBefore, 0.5), 2),
    };
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

async function scheduleAll(socketPath: string, options: BurstBenchOptions, fireAt: number): Promise<{ wallMs: number; acksPerS: number }> {
  const conn = await LineConnection.connect(socketPath);
  const at = new Date(fireAt).toISOString();
  const make = (n: number) => `{"event":"event:emit","id":${n},"data":{"event":"${TARGET_EVENT}","data":{"n":${n}},"at":"${at}"}}\n`;
  const check = (line: string, n: number) => {
    const reply = JSON.parse(line) as { id?: unknown; ok?: unknown; data?: { scheduled?: unknown } };
    if (reply.ok !== true || reply.id !== n || reply.data?.scheduled !== true) throw new Error(`schedule ${n}: unexpected reply: ${line.slice(0, 300)}`);
  };
  const started = performance.now();
  try {
    await pipeline(conn, 0, options.count, options.window, new Float64Array(options.count), make, check);
  } finally {
    await conn.close();
  }
  const wallMs = performance.now() - started;
  return { wallMs: Math.round(wallMs), acksPerS: Math.round((options.count / wallMs) * 1000) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
