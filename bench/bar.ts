/**
 * The bar of issue 22, `--only bar`: its first three loads side by side on
 * ONE daemon in a temporary home —
 *
 * - a decision log of `logRecords` records, written and committed before the
 *   start as the decisions-log bench does;
 * - a state of `stateKeys` keys × 1 KB, set through the socket as the
 *   state-large bench does;
 * - `burst` delayed emits due at one instant, one subscriber reading every
 *   push, as the burst bench does.
 *
 * Once the emits are scheduled, four clients run at the same time, each on
 * its own connection, one request at a time (the next sent once the last
 * reply came): system:health every `pingEveryMs`; composition:decisions
 * (limit 100) back to back; composition:track_decision then at once
 * composition:select for a task the pattern ranks first for (the select is
 * timed); state:set of one key back to back. Each is measured in two
 * phases: quiet (from `warmupMs` after they start to the instant) and the
 * burst (the instant → the last push at the reader).
 *
 * Every reply is checked — ids, `ok`, the log's record count in decisions
 * and in select's evidence — and what is wrong is counted and reported; the
 * reader checks it got every event once and in order.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { burstPhases, scheduleBurst, TARGET_EVENT } from "./burst.js";
import { epochOffset, LineConnection, percentile, round, startDaemon, stopChild, table, thousands, waitReady, type Child } from "./common.js";
import { appendRequest, checkDecisionsPage, checkSelectEvidence, decisionsRequest, seedDecisionLog, selectRequest } from "./decisions-log.js";
import { PushWatcher } from "./push-watcher.js";
import { RequestLoop, sleep, type LatencyStats } from "./request-loop.js";
import { fillState, ONE_KEY, stateSetLine } from "./state-large.js";

export interface BarBenchOptions {
  /** Emits due at the one instant. */
  burst: number;
  logRecords: number;
  stateKeys: number;
  /** Scheduling requests in flight. */
  window: number;
  pingEveryMs: number;
  /** The instant lies this long after the scheduling starts; the quiet phase is what is left of it. */
  leadMs: number;
  /** The clients' first requests, not counted. */
  warmupMs: number;
  daemonCpuProfDir?: string | undefined;
  keepHome?: boolean;
  progress?: (line: string) => void;
}

/** One client's figures in each phase, and what was wrong with its replies (over the whole run). */
export interface BarSeries {
  label: string;
  quiet: LatencyStats;
  burst: LatencyStats;
  errors: number;
  first_error: string | null;
}

export interface BarGoal {
  series: string;
  goal: string;
  met: boolean;
}

export interface BarBenchResult {
  burst: number;
  log_records: number;
  log_mb: number;
  state_keys: number;
  state_mb: number;
  fill_state_s: number;
  /** The first composition:decisions after the start: the whole log is read. */
  first_decisions_ms: number;
  schedule_wall_ms: number;
  acks_per_s: number;
  /** How long before the instant the scheduling ended. */
  margin_ms: number;
  ping_every_ms: number;
  /** Length of the measured quiet phase and of the burst (the instant → the last push). */
  quiet_ms: number;
  burst_ms: number;
  ping: BarSeries;
  decisions: BarSeries;
  select_after_append: BarSeries;
  state_set: BarSeries;
  /** Push arrival − the instant, over the events that came. */
  reader: { received: number; in_order: boolean; duplicates: number; dropped: boolean; p50_ms: number; p99_ms: number; last_ms: number };
  load_1m: { start: number; instant: number; end: number };
  goals: BarGoal[];
  exit: string;
  clean: boolean;
  profiled: boolean;
}

const DONE_TIMEOUT_MS = 120_000;

export async function runBarBench(options: BarBenchOptions): Promise<BarBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-bar-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = null;
  try {
    const loadStart = loadavg()[0]!;
    progress(`bar: writing a decision log of ${thousands(options.logRecords)} records`);
    const logBytes = await seedDecisionLog(home, options.logRecords);
    daemon = startDaemon(home, options.daemonCpuProfDir);
    await waitReady(daemon, socketPath);

    progress(`bar: setting ${thousands(options.stateKeys)} keys of 1 KB`);
    const setup = await LineConnection.connect(socketPath);
    const filled = await fillState(setup, options.stateKeys);
    const readStarted = performance.now();
    const first = await setup.request(decisionsRequest(0));
    const firstDecisionsMs = round(performance.now() - readStarted, 1);
    if (first.ok !== true) throw new Error(`the first composition:decisions: ${JSON.stringify(first).slice(0, 300)}`);
    checkDecisionsPage(first, options.logRecords, options.logRecords);
    await setup.close();

    const reader = await PushWatcher.open(socketPath, TARGET_EVENT, options.burst);
    const fireAt = Date.now() + options.leadMs;
    progress(`bar: ${thousands(options.burst)} delayed emits due at one instant, ${(options.leadMs / 1000).toFixed(0)} s from now`);
    const scheduled = await scheduleBurst(socketPath, options.burst, options.window, fireAt);
    const marginMs = fireAt - Date.now();
    progress(`bar: scheduled at ${thousands(scheduled.acksPerS)} acks/s; the four clients run until the last push, ${(marginMs / 1000).toFixed(1)} s from now and on`);

    const clients = await startClients(socketPath, options);
    const quietFrom = performance.now() + options.warmupMs;
    const instant = fireAt - epochOffset();
    await sleep(Math.max(0, instant - performance.now()));
    const loadInstant = loadavg()[0]!;
    await reader.waitAll(Date.now() + DONE_TIMEOUT_MS);
    const lastPush = Number.isNaN(reader.lastAt) ? performance.now() : reader.lastAt;
    await Promise.all(Object.values(clients).map((client) => client.loop.stop(200)));
    const loadEnd = loadavg()[0]!;
    await reader.close();

    const series = (name: keyof typeof clients): BarSeries => {
      const { label, loop } = clients[name];
      const phases = burstPhases(
        loop.answered.filter((request) => request.sentAt >= quietFrom),
        instant,
        lastPush,
      );
      return { label, quiet: phases.before, burst: phases.during, errors: loop.errors, first_error: loop.firstError };
    };
    const ping = series("ping");
    const decisions = series("decisions");
    const selectAfterAppend = series("select_after_append");
    const stateSet = series("state_set");
    const lateness = readerLateness(reader, instant);
    const exit = await stopChild(daemon);
    daemon = null;

    const p50Within = (s: BarSeries, ms: number) => s.errors === 0 && s.quiet.p50_ms <= ms && s.burst.p50_ms <= ms;
    const everyEvent = lateness.received === options.burst && lateness.in_order && lateness.duplicates === 0 && !lateness.dropped;
    const goals: BarGoal[] = [
      { series: ping.label, goal: "max ≤ 100 ms", met: ping.errors === 0 && Math.max(ping.quiet.max_ms, ping.burst.max_ms) <= 100 },
      { series: decisions.label, goal: "p50 ≤ 10 ms", met: p50Within(decisions, 10) },
      { series: selectAfterAppend.label, goal: "p50 ≤ 15 ms", met: p50Within(selectAfterAppend, 15) },
      { series: stateSet.label, goal: "p50 ≤ 5 ms", met: p50Within(stateSet, 5) },
      { series: "reader", goal: "every event, once, in order", met: everyEvent },
    ];
    const errors = [ping, decisions, selectAfterAppend, stateSet].reduce((sum, s) => sum + s.errors, 0);
    return {
      burst: options.burst,
      log_records: options.logRecords,
      log_mb: round(logBytes / 1e6, 1),
      state_keys: options.stateKeys,
      state_mb: round(filled.bytes / 1e6, 1),
      fill_state_s: filled.seconds,
      first_decisions_ms: firstDecisionsMs,
      schedule_wall_ms: scheduled.wallMs,
      acks_per_s: scheduled.acksPerS,
      margin_ms: Math.round(marginMs),
      ping_every_ms: options.pingEveryMs,
      quiet_ms: Math.round(Math.max(0, instant - quietFrom)),
      burst_ms: round(lastPush - instant, 1),
      ping,
      decisions,
      select_after_append: selectAfterAppend,
      state_set: stateSet,
      reader: lateness,
      load_1m: { start: round(loadStart, 2), instant: round(loadInstant, 2), end: round(loadEnd, 2) },
      goals,
      exit,
      clean: exit === "exit 0" && errors === 0,
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    if (daemon !== null) await stopChild(daemon);
    if (options.keepHome === true) progress(`bar: home kept at ${home}`);
    else await rm(base, { recursive: true, force: true });
  }
}

/**
 * The four clients, each on its own connection, started. The decision log
 * grows while they run (one record before each select), so a decisions
 * page must count between the records acknowledged when it was asked and
 * those sent by its answer, and select's evidence exactly those acknowledged.
 */
async function startClients(socketPath: string, options: BarBenchOptions) {
  const connect = () => LineConnection.connect(socketPath);
  let appendsSent = 0;
  let appendsAcked = 0;
  let decisionsFloor = 0;

  const appendConn = await connect();
  const appendBefore = async (id: number) => {
    appendsSent++;
    const reply = await appendConn.request(appendRequest(id));
    if (reply.ok === true) appendsAcked++;
    else appendsSent--;
    if (reply.ok !== true || reply.id !== id) throw new Error(`composition:track_decision #${id}: ${JSON.stringify(reply).slice(0, 300)}`);
  };

  const clients = {
    ping: { label: `system:health every ${options.pingEveryMs} ms`, loop: new RequestLoop(await connect(), { make: (id) => `{"event":"system:health","id":${id}}\n`, everyMs: options.pingEveryMs }) },
    decisions: {
      label: "composition:decisions (limit 100)",
      loop: new RequestLoop(await connect(), {
        make: (id) => {
          decisionsFloor = options.logRecords + appendsAcked;
          return decisionsRequest(id);
        },
        check: (reply) => checkDecisionsPage(reply, decisionsFloor, options.logRecords + appendsSent),
      }),
    },
    select_after_append: {
      label: "composition:select right after an append",
      loop: new RequestLoop(appendConn, { before: appendBefore, make: selectRequest, check: (reply) => checkSelectEvidence(reply, options.logRecords + appendsAcked) }),
    },
    state_set: { label: "state:set of one key (1 KB)", loop: new RequestLoop(await connect(), { make: (id) => stateSetLine(ONE_KEY, id + 1, id) }) },
  };
  for (const client of Object.values(clients)) client.loop.start();
  return clients;
}

function readerLateness(reader: PushWatcher, instant: number): BarBenchResult["reader"] {
  const lateness: number[] = [];
  for (let n = 0; n < reader.count; n++) if (reader.seen[n] === 1) lateness.push(reader.arrivedAt[n]! - instant);
  const sorted = Float64Array.from(lateness).sort();
  return {
    received: reader.unique,
    in_order: reader.inOrder,
    duplicates: reader.duplicates,
    dropped: reader.dropped,
    p50_ms: round(percentile(sorted, 0.5), 2),
    p99_ms: round(percentile(sorted, 0.99), 2),
    last_ms: round(sorted[sorted.length - 1] ?? NaN, 2),
  };
}

// ---------------------------------------------------------------- report

export function formatBarBench(result: BarBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
  const metCell = (met: boolean) => (met ? "met" : "MISSED");
  const goalFor = (name: string) => result.goals.find((g) => g.series === name)!;
  const client = (s: BarSeries) => {
    const goal = goalFor(s.label);
    return [s.label, goal.goal, thousands(s.quiet.count), ms(s.quiet.p50_ms), ms(s.quiet.p99_ms), thousands(s.burst.count), ms(s.burst.p50_ms), ms(s.burst.p99_ms), ms(s.burst.max_ms), thousands(s.errors), metCell(goal.met)];
  };
  const r = result.reader;
  const readerProblems = [
    r.received < result.burst ? `${thousands(result.burst - r.received)} missing` : "",
    r.in_order ? "" : "out of order",
    r.duplicates > 0 ? `${thousands(r.duplicates)} twice` : "",
    r.dropped ? "monitor:dropped" : "",
  ].filter((problem) => problem !== "");
  const readerGoal = goalFor("reader");
  const rows = [
    client(result.ping),
    client(result.decisions),
    client(result.select_after_append),
    client(result.state_set),
    ["reader: push arrival − the instant", readerGoal.goal, "", "", "", `${thousands(r.received)} / ${thousands(result.burst)}`, ms(r.p50_ms), ms(r.p99_ms), ms(r.last_ms), readerProblems.join(", ") || "0", metCell(readerGoal.met)],
  ];
  const errorLines = [result.ping, result.decisions, result.select_after_append, result.state_set]
    .filter((s) => s.errors > 0)
    .map((s) => `errors: ${s.label}: ${thousands(s.errors)}, the first: ${s.first_error}`);
  const overlap =
    result.margin_ms >= 0
      ? `scheduled in ${seconds(result.schedule_wall_ms)} (${thousands(result.acks_per_s)} acks/s), ${seconds(result.margin_ms)} before the instant`
      : `WARNING: scheduling overran the instant by ${seconds(-result.margin_ms)}; the burst was not all due at once`;
  return [
    `bar: one daemon with a decision log of ${thousands(result.log_records)} records (${result.log_mb} MB), a state of ${thousands(result.state_keys)} keys × 1 KB (${result.state_mb} MB) ` +
      `and ${thousands(result.burst)} delayed emits due at one instant with one subscriber reading every push; four clients at once, each on its own connection, ` +
      `one request at a time; quiet = before the instant (${seconds(result.quiet_ms)} measured), burst = the instant → the last push (${seconds(result.burst_ms)}); ` +
      "latency = write → whole reply; a goal is met when it holds in both phases with no error" +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(["client", "goal", "quiet n", "quiet p50", "quiet p99", "burst n", "burst p50", "burst p99", "burst max", "errors", ""], rows, 2),
    ...errorLines,
    `setup: state set in ${result.fill_state_s} s; first composition:decisions (reads the log) ${ms(result.first_decisions_ms)}; ${thousands(result.burst)} emits ${overlap}; ` +
      `ping max in the quiet phase ${ms(result.ping.quiet.max_ms)}`,
    `load average (1 min) ${result.load_1m.start.toFixed(2)} at the start → ${result.load_1m.instant.toFixed(2)} at the instant → ${result.load_1m.end.toFixed(2)} after`,
    `stopped: daemon (SIGTERM) ${result.exit}${result.exit === "exit 0" ? "" : "  <-- not clean"}`,
  ].join("\n");
}
