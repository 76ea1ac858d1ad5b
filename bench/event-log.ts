/**
 * A large event log against the real daemon (issue 22), `--only event-log`:
 * `megabytes` of records (100 by default) in day files of the past `days`
 * days, written in the daemon's own format before it starts, then:
 *
 * - the start (of a home already seeded): spawn to the first answer of system:health;
 * - the first monitor:get_events after the start, for a filter that matches
 *   nothing (the log is summarised then, or is being summarised);
 * - monitor:get_events p50/p99 for a filter that matches nothing, one that
 *   matches a few recent events (five, at the end of the newest file), and
 *   no filter (the newest 100).
 *
 * Every reply is checked (counts and names). Latency is from the write of a
 * request to the arrival of its reply.
 */
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { atMost, LineConnection, median, round, startDaemon, stopChild, table, thousands, waitReady, type Child, type Reply, type Target } from "./common.js";
import { requestRaw, sequential, type Series } from "./series.js";

export interface EventLogBenchOptions {
  /** Total size of the log written before the start. */
  megabytes: number;
  /** Day files it is spread over (the newest is yesterday's). */
  days: number;
  calls: number;
  warmup: number;
  /** Starts measured (the median is reported). */
  starts: number;
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface EventLogBenchResult {
  bytes: number;
  records: number;
  files: number;
  starts: number;
  start_ms: number;
  first_get_events_ms: number;
  nothing: Series;
  few_recent: Series;
  newest: Series;
  targets: Target[];
  clean: boolean;
  profiled: boolean;
}

const DAY_MS = 86_400_000;
const NAMES = ["orchestration:step", "orchestration:done", "state:set", "composition:select", "event:emit", "agent:spawned", "agent:message"];
const RARE = "incident:raised";

export async function runEventLogBench(options: EventLogBenchOptions): Promise<EventLogBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-events-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = null;
  try {
    // First start: the seeded store, so that the measured start is one of a home in use.
    daemon = startDaemon(home, undefined, "daemon (seeding)");
    await waitReady(daemon, socketPath);
    const seeded = await stopChild(daemon);
    daemon = null;
    if (seeded !== "exit 0") throw new Error(`the seeding daemon did not stop cleanly: ${seeded}`);

    progress(`event-log: writing ${options.megabytes} MB of records over ${options.days} day files`);
    const { bytes, records } = await writeLog(join(home, "var", "log", "events"), options.megabytes * 1024 * 1024, options.days);

    const line = (data: Record<string, unknown>) => (id: number) => JSON.stringify({ event: "monitor:get_events", id, data }) + "\n";
    const nothing = line({ patterns: ["nothing:*"] });
    const checkNothing = (reply: Reply) => {
      if ((reply.data?.events as unknown[]).length !== 0) throw new Error(`nothing:* found: ${JSON.stringify(reply).slice(0, 300)}`);
    };
    const checkFew = (reply: Reply) => {
      const events = reply.data?.events as { event: string }[];
      if (events.length !== 5 || events.some((record) => record.event !== RARE)) throw new Error(`${RARE}: ${JSON.stringify(reply).slice(0, 300)}`);
    };
    const checkNewest = (reply: Reply) => {
      if ((reply.data?.events as unknown[]).length !== 100) throw new Error(`newest 100: ${JSON.stringify(reply).slice(0, 300)}`);
    };

    // Several starts (the machine is shared: one start is a noisy figure); the last daemon stays for the series.
    const startTimes: number[] = [];
    const firstTimes: number[] = [];
    let conn!: LineConnection;
    for (let n = 0; n < options.starts; n++) {
      if (daemon !== null) {
        await conn.close();
        const how = await stopChild(daemon);
        daemon = null;
        if (how !== "exit 0") throw new Error(`the daemon did not stop cleanly: ${how}`);
      }
      const spawned = performance.now();
      daemon = startDaemon(home, options.daemonCpuProfDir);
      await waitReady(daemon, socketPath, 5);
      startTimes.push(performance.now() - spawned);
      conn = await LineConnection.connect(socketPath);
      const sent = performance.now();
      checkNothing((await requestRaw(conn, nothing(-1))).reply);
      firstTimes.push(performance.now() - sent);
      progress(`event-log: start ${n + 1}: ${round(startTimes.at(-1)!, 1)} ms; first get_events ${round(firstTimes.at(-1)!, 1)} ms`);
    }
    if (daemon === null) throw new Error("--starts must be at least 1");
    const startMs = round(median(startTimes), 1);
    const firstMs = round(median(firstTimes), 1);
    await sequential(conn, daemon, "warm-up", options.warmup, nothing, checkNothing);
    const nothingSeries = await sequential(conn, daemon, "get_events, a filter that matches nothing", options.calls, nothing, checkNothing);
    const few = await sequential(conn, daemon, "get_events, a filter that matches 5 recent events", options.calls, line({ patterns: ["incident:*"] }), checkFew);
    const newest = await sequential(conn, daemon, "get_events, no filter (the newest 100)", options.calls, line({}), checkNewest);
    await conn.close();
    const stopped = await stopChild(daemon);
    daemon = null;
    if (stopped !== "exit 0") throw new Error(`the daemon did not stop cleanly: ${stopped}`);
    const size = `${thousands(bytes / 1024 / 1024)} MB`;
    const targets = [
      atMost(`monitor:get_events p50, a filter matching nothing over ${size} (ms)`, nothingSeries.p50_ms, 50),
      atMost(`monitor:get_events p99, a filter matching nothing over ${size} (ms)`, nothingSeries.p99_ms, 50),
    ];
    return { bytes, records, files: options.days, starts: options.starts, start_ms: startMs, first_get_events_ms: firstMs, nothing: nothingSeries, few_recent: few, newest, targets, clean: true, profiled: options.daemonCpuProfDir !== undefined };
  } finally {
    if (daemon !== null) await stopChild(daemon);
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * Day files for the `days` days before today, each `totalBytes / days`,
 * lines exactly as EventLog writes them (about 400 bytes each, the names
 * above, five agents); the newest file ends with five RARE records.
 */
async function writeLog(dir: string, totalBytes: number, days: number): Promise<{ bytes: number; records: number }> {
  await mkdir(dir, { recursive: true });
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  let seq = 0;
  let bytes = 0;
  for (let daysAgo = days; daysAgo >= 1; daysAgo--) {
    const day = today - daysAgo * DAY_MS;
    const file = await open(join(dir, `${new Date(day).toISOString().slice(0, 10)}.ndjson`), "w");
    try {
      let written = 0;
      const perFile = totalBytes / days;
      while (written < perFile) {
        let text = "";
        for (let i = 0; i < 2_000 && written + text.length < perFile; i++) {
          seq++;
          text += record(++seq, day + Math.floor(((written + text.length) / perFile) * (DAY_MS - 60_000)), NAMES[seq % NAMES.length]!);
        }
        await file.write(text);
        written += text.length;
      }
      if (daysAgo === 1) {
        let text = "";
        for (let i = 0; i < 5; i++) text += record(++seq, day + DAY_MS - 50_000 + i, RARE);
        await file.write(text);
        written += text.length;
      }
      bytes += written;
    } finally {
      await file.close();
    }
  }
  return { bytes, records: seq };
}

/** One record line as EventLog writes it, about 400 bytes. */
function record(seq: number, ts: number, event: string): string {
  const data = `{"step":${seq % 97},"note":"${"n".repeat(200 + (seq % 100))}"}`;
  return `{"ts":"${new Date(ts).toISOString()}","seq":${seq},"event":"${event}","id":${seq},"agent_id":"orch_${seq % 5}","ok":true,"ms":0.412,"data":${data}}\n`;
}

export function formatEventLogBench(result: EventLogBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const rows = [
    [`daemon start (spawn → system:health answered), median of ${result.starts}`, ms(result.start_ms), "", ""],
    [`first monitor:get_events after a start, filter matching nothing, median of ${result.starts}`, ms(result.first_get_events_ms), "", ""],
    ...[result.nothing, result.few_recent, result.newest].map((s) => [s.label, ms(s.p50_ms), ms(s.p99_ms), ms(s.max_ms)]),
  ];
  return [
    `event-log: ${thousands(result.bytes / 1024 / 1024)} MB of event log (${thousands(result.records)} records) in ${result.files} day files written before the start; ` +
      "one connection, one request at a time; latency = write → whole reply" +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(["series", "p50", "p99", "max"], rows, 1),
    ...result.targets.map((t) => `${t.met ? "met" : "MISSED"}: ${t.name.replace(/ \(ms\)$/, "")} ${ms(t.value)} (target ≤ ${ms(t.max!)})`),
  ].join("\n");
}
