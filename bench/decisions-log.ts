/**
 * A long decision log against the real daemon (issue 22), `--only
 * decisions-log`: one pattern whose `_decisions.yaml` holds `records`
 * records (30 000 by default, about 7 MB), written and committed before the
 * daemon starts, and the same on a log of 300 records, to show what the
 * log's length does to:
 *
 * - composition:decisions (default limit 100), sequential, after a first
 *   call that reads the log (reported apart), and with filters (decision
 *   text + outcome);
 * - what that first read does to everyone else: a `system:health` ping
 *   every 10 ms on another connection, from the daemon's first answer
 *   after the start (the log may be indexed in the background by then)
 *   until 200 ms after the first decisions reply; its longest round trip
 *   is the longest stall;
 * - composition:select right after an append: track_decision, then select
 *   for a task the pattern ranks first for (so its evidence is asked), in
 *   turn; the select is what is timed.
 *
 * Every reply is checked (record counts, evidence counted in the reason).
 * Latency is from the write of a request to the arrival of its reply.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { formatRecord, makeRecord } from "../daemon/modules/composition/model/decisions.js";
import { atMost, LineConnection, round, startDaemon, stopChild, table, thousands, waitReady, type Child, type Reply, type Target } from "./common.js";
import { latencyStats, RequestLoop, type LatencyStats } from "./request-loop.js";
import { requestRaw, sequential, type Series } from "./series.js";

export interface DecisionsLogBenchOptions {
  /** Records in the long log; the short one has a hundredth of them (at least 1). */
  records: number;
  /** Measured calls per series. */
  calls: number;
  warmup: number;
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface LogRun {
  records: number;
  bytes: number;
  /** The first composition:decisions after the start: the whole log is read. */
  first_decisions_ms: number;
  /** system:health every PING_EVERY_MS on another connection, from the start until the first decisions reply: round trips. */
  first_read_pings: LatencyStats;
  decisions: Series;
  filtered: Series;
  append: Series;
  select_after_append: Series;
  rss_mb: number;
}

export interface DecisionsLogBenchResult {
  runs: LogRun[];
  targets: Target[];
  clean: boolean;
  profiled: boolean;
}

const PATTERN = "bench_referee";
const PING_EVERY_MS = 10;
const TASK = { task: "Referee a chess tournament between many engines and record each pairing" };
const DECISIONS = ["pair by rating", "pair at random", "add a judge", "shorten the time control", "replay the round", "drop the slowest engine", "swiss pairing for round 3"];
const OUTCOMES = ["success", "success", "failure", "timeout", "partial", "success with errors", null];

export async function runDecisionsLogBench(options: DecisionsLogBenchOptions): Promise<DecisionsLogBenchResult> {
  const runs: LogRun[] = [];
  for (const records of [Math.max(1, Math.round(options.records / 100)), options.records]) runs.push(await runOne(records, options));
  const long = runs.at(-1)!;
  const targets = [
    atMost(`composition:decisions p50 on ${thousands(long.records)} records (ms)`, long.decisions.p50_ms, 10),
    atMost(`composition:select right after an append p50 on ${thousands(long.records)} records (ms)`, long.select_after_append.p50_ms, 15),
    atMost(`longest system:health stall during the first read of ${thousands(long.records)} records (ms)`, long.first_read_pings.max_ms, 50),
  ];
  return { runs, targets, clean: true, profiled: options.daemonCpuProfDir !== undefined };
}

async function runOne(records: number, options: DecisionsLogBenchOptions): Promise<LogRun> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-decisions-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = null;
  try {
    progress(`decisions-log: writing a log of ${thousands(records)} records`);
    const bytes = await seedDecisionLog(home, records);

    daemon = startDaemon(home, options.daemonCpuProfDir);
    await waitReady(daemon, socketPath);
    const pinger = new RequestLoop(await LineConnection.connect(socketPath), { make: (id) => `{"event":"system:health","id":${id}}\n`, everyMs: PING_EVERY_MS });
    pinger.start();
    const conn = await LineConnection.connect(socketPath);
    let total = records;
    const decisionsLine = (filter: Record<string, unknown>) => (id: number) => decisionsRequest(id, filter);
    const checkAll = (reply: Reply) => checkDecisionsPage(reply, total, total);
    const checkFiltered = (reply: Reply) => {
      if (!Array.isArray(reply.data?.decisions) || typeof (reply.data?.stats as { total?: unknown }).total !== "number") throw new Error(`decisions: ${JSON.stringify(reply).slice(0, 300)}`);
    };

    const started = performance.now();
    checkAll((await requestRaw(conn, decisionsLine({})(0))).reply);
    const firstMs = round(performance.now() - started, 1);
    await pinger.stop(200); // a stall right at the end still counts
    if (pinger.errors > 0) throw new Error(`system:health during the first read: ${pinger.firstError}`);
    const pings = latencyStats(pinger.answered);
    progress(`decisions-log: ${thousands(records)} records, first decisions ${firstMs} ms, longest ping meanwhile ${pings.max_ms} ms`);
    await sequential(conn, daemon, "warm-up", options.warmup, decisionsLine({}), checkAll);
    const decisions = await sequential(conn, daemon, `composition:decisions (limit 100), ${thousands(records)} records`, options.calls, decisionsLine({}), checkAll);
    const filtered = await sequential(conn, daemon, `composition:decisions decision "pair" + outcome failure`, options.calls, decisionsLine({ decision: "pair", outcome: "failure" }), checkFiltered);

    // Append, then select, in turn: each select comes right after an append.
    const appendLatencies: number[] = [];
    const selectThenCheck = async (k: number) => {
      const sent = performance.now();
      const { reply } = await requestRaw(conn, appendRequest(k));
      appendLatencies.push(performance.now() - sent);
      if (reply.ok !== true) throw new Error(`track_decision: ${JSON.stringify(reply).slice(0, 300)}`);
      total++;
    };
    const select = await sequential(
      conn,
      daemon,
      `composition:select right after an append, ${thousands(records)} records`,
      options.calls,
      selectRequest,
      (reply) => checkSelectEvidence(reply, total),
      (k) => selectThenCheck(k),
    );
    const append = appendSeries(appendLatencies, `composition:track_decision (before each select)`);
    const rss = rssMb(daemon.process.pid);
    await conn.close();
    const stopped = await stopChild(daemon);
    daemon = null;
    if (stopped !== "exit 0") throw new Error(`the daemon did not stop cleanly: ${stopped}`);
    return { records, bytes, first_decisions_ms: firstMs, first_read_pings: pings, decisions, filtered, append, select_after_append: select, rss_mb: rss };
  } finally {
    if (daemon !== null) await stopChild(daemon);
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * Seeds a store in `home` (a first start of the daemon, which is stopped
 * again) with the pattern and a committed decision log of `records` records,
 * as if the daemon had appended them; its size in bytes.
 */
export async function seedDecisionLog(home: string, records: number): Promise<number> {
  const socketPath = join(home, "var", "run", "patternd.sock");
  const store = join(home, "var", "lib", "compositions");
  const daemon = startDaemon(home, undefined, "daemon (seeding)");
  try {
    await waitReady(daemon, socketPath);
    const setup = await LineConnection.connect(socketPath);
    const saved = await setup.request(
      JSON.stringify({
        event: "composition:save",
        id: 1,
        data: { composition: { name: PATTERN, type: "orchestration", version: "1.0.0", description: "Referee a chess tournament between engines: pairings, judges, time controls", metadata: { tags: ["chess", "referee", "tournament"] } } },
      }) + "\n",
    );
    if (saved.ok !== true) throw new Error(`save: ${JSON.stringify(saved).slice(0, 300)}`);
    await setup.close();
  } catch (err) {
    await stopChild(daemon);
    throw err;
  }
  const how = await stopChild(daemon);
  if (how !== "exit 0") throw new Error(`the seeding daemon did not stop cleanly: ${how}`);

  const text = logText(records);
  const path = join(store, "orchestrations", `${PATTERN}_decisions.yaml`);
  await mkdir(join(store, "orchestrations"), { recursive: true });
  await writeFile(path, text);
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@localhost", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@localhost" };
  execFileSync("git", ["-C", store, "add", "--", path], { env: gitEnv });
  execFileSync("git", ["-C", store, "commit", "-q", "-m", "bench: a long decision log", "-m", "Op: decisions"], { env: gitEnv });
  return Buffer.byteLength(text);
}

/** composition:decisions of the seeded pattern (default limit 100), with `filter`. */
export function decisionsRequest(id: number, filter: Record<string, unknown> = {}): string {
  return JSON.stringify({ event: "composition:decisions", id, data: { pattern: PATTERN, ...filter } }) + "\n";
}

/** An unfiltered page: the log's total between `minTotal` and `maxTotal` (appends may be under way), and the last 100 of them. */
export function checkDecisionsPage(reply: Reply, minTotal: number, maxTotal: number): void {
  const total = (reply.data?.stats as { total?: unknown } | undefined)?.total;
  const page = reply.data?.decisions;
  if (typeof total !== "number" || total < minTotal || total > maxTotal || !Array.isArray(page) || page.length !== Math.min(100, total)) {
    throw new Error(`decisions (expected a total of ${minTotal === maxTotal ? minTotal : `${minTotal}–${maxTotal}`}): ${JSON.stringify(reply).slice(0, 300)}`);
  }
}

/** composition:track_decision of a new record for the seeded pattern. */
export function appendRequest(id: number): string {
  return (
    JSON.stringify({ event: "composition:track_decision", id, data: { pattern: PATTERN, decision: DECISIONS[id % DECISIONS.length], outcome: id % 3 === 0 ? "failure" : "success", confidence: 0.7, context: { round: id } } }) +
    "\n"
  );
}

/** composition:select for a task the seeded pattern ranks first for, so its evidence is asked. */
export function selectRequest(id: number): string {
  return JSON.stringify({ event: "composition:select", id, data: TASK }) + "\n";
}

/** The seeded pattern first, its evidence counted over every one of the log's `total` records. */
export function checkSelectEvidence(reply: Reply, total: number): void {
  const first = (reply.data?.candidates as { name?: string; reasons?: string[] }[] | undefined)?.[0];
  if (first?.name !== PATTERN || !first.reasons?.some((reason) => reason.includes(`in ${total} record(s)`))) throw new Error(`select after ${total} records: ${JSON.stringify(reply).slice(0, 400)}`);
}

/** `records` records as the daemon appends them, about 230 bytes each, a few minutes apart. */
function logText(records: number): string {
  const t0 = Date.UTC(2026, 0, 1);
  const parts: string[] = [];
  for (let n = 0; n < records; n++) {
    const outcome = OUTCOMES[n % OUTCOMES.length];
    const record = makeRecord(
      { pattern: PATTERN, decision: DECISIONS[n % DECISIONS.length]!, ...(outcome === null ? {} : { outcome }), confidence: (n % 10) / 10, context: { round: n % 12, engines: 16, note: "seeded by the bench" } },
      { now: t0 + n * 60_000, sequence: n, agentId: `orch_${n % 5}`, patternVersion: "1.0.0" },
    );
    parts.push(formatRecord(record));
  }
  return parts.join("");
}

function appendSeries(latencies: number[], label: string): Series {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => round(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN, 2);
  return { label, count: sorted.length, wall_ms: NaN, per_s: NaN, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1), daemon_cpu_ms_per_op: null, git_cpu_ms_per_op: null };
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024, 1);
  } catch {
    return NaN;
  }
}

export function formatDecisionsLogBench(result: DecisionsLogBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const rows = result.runs.flatMap((run) => [
    [`${thousands(run.records)} records (${(run.bytes / 1e6).toFixed(2)} MB)`, "first composition:decisions (reads the log)", ms(run.first_decisions_ms), "", ""],
    ["", `system:health every ${PING_EVERY_MS} ms meanwhile (${run.first_read_pings.count} pings, start → first reply)`, ms(run.first_read_pings.p50_ms), "", ms(run.first_read_pings.max_ms)],
    ...[run.decisions, run.filtered, run.append, run.select_after_append].map((s) => ["", s.label.replace(/, [\d ]+ records$/, ""), ms(s.p50_ms), ms(s.p99_ms), ms(s.max_ms)]),
    ["", "daemon RSS after the series", `${run.rss_mb.toFixed(1)} MB`, "", ""],
  ]);
  return [
    "decisions-log: one pattern's decision log, long and short; one connection, one request at a time; latency = write → whole reply" +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(["log", "series", "p50", "p99", "max"], rows, 2),
    ...result.targets.map((t) => `${t.met ? "met" : "MISSED"}: ${t.name.replace(/ \(ms\)$/, "")} ${ms(t.value)} (target ≤ ${ms(t.max!)})`),
  ].join("\n");
}
