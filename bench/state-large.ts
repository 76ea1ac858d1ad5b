/**
 * A large state against the real daemon (issue 22), `--only state-large`:
 * `keys` keys of about 1 KB each (9 000 by default, about 9 MB), set through
 * the socket, then:
 *
 * - state:set of one key (a 1 KB value), one request at a time: what a
 *   change costs next to a state this size (p50, p99, max);
 * - event:emit with a condition that reads the state
 *   (`{"==": [{"var": "state.bench.k0"}, 1]}`), each right after a set of
 *   another key (the set untimed): what the first condition after a change
 *   costs (the nested view conditions read was rebuilt from every key);
 * - the same key's sets pipelined at depth 64 until the journal compacts
 *   (daemon.log's "state journal compacted", with its duration, is the
 *   compaction time), while a second connection sends system:health every
 *   5 ms: the longest of those pings is what compaction does to everyone
 *   else. A daemon without a journal never compacts: reported as n/a, after
 *   `compactionSets` sets.
 *
 * Latency is from the write of a request to the arrival of its reply.
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { atMost, LineConnection, percentile, pipeline, round, startDaemon, stopChild, table, thousands, waitReady, type Child, type Target } from "./common.js";
import { sequential, type Series } from "./series.js";

export interface StateLargeBenchOptions {
  keys: number;
  /** Measured sets in the sequential series. */
  sets: number;
  warmup: number;
  /** Pipelined sets to wait at most for a compaction. */
  compactionSets: number;
  daemonCpuProfDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface StateLargeBenchResult {
  keys: number;
  /** The keys' JSON, as state:set sends it. */
  state_mb: number;
  fill_s: number;
  set: Series;
  /** event:emit whose condition reads the state, each right after a set. */
  conditionAfterSet: Series;
  /** One compaction, from daemon.log; null: none happened. */
  compaction: { ms: number; before_mb: number; after_mb: number } | null;
  /** Sets pipelined until the compaction (or all of compactionSets). */
  sets_to_compaction: number;
  /** system:health on another connection, every 5 ms while those sets ran. */
  ping_p50_ms: number;
  ping_p99_ms: number;
  ping_max_ms: number;
  targets: Target[];
  clean: boolean;
  profiled: boolean;
}

const VALUE = { text: "s".repeat(1_000), n: 0 };
/** The one key whose sets are timed (one of those fillState set). */
export const ONE_KEY = "bench.k42";

export async function runStateLargeBench(options: StateLargeBenchOptions): Promise<StateLargeBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-state-"));
  const home = join(base, "home");
  const socketPath = join(home, "var", "run", "patternd.sock");
  let daemon: Child | null = null;
  try {
    daemon = startDaemon(home, options.daemonCpuProfDir);
    await waitReady(daemon, socketPath);
    const conn = await LineConnection.connect(socketPath);

    progress(`state-large: setting ${thousands(options.keys)} keys of 1 KB`);
    const { seconds: fillS, bytes: stateBytes } = await fillState(conn, options.keys);

    const one = (k: number) => stateSetLine(ONE_KEY, k + 1, k);
    await sequential(conn, daemon, "warm-up", options.warmup, one, () => undefined);
    const set = await sequential(conn, daemon, `state:set of one key, ${thousands(options.keys)} keys`, options.sets, one, () => undefined);
    progress(`state-large: state:set p50 ${set.p50_ms} ms`);

    const probe = (k: number) => JSON.stringify({ event: "event:emit", id: k, data: { event: "bench:probe", condition: { "==": [{ var: "state.bench.k0" }, 1] } } }) + "\n";
    let setId = 1_000_000;
    const setOther = async (k: number) => {
      const reply = await conn.request(stateSetLine(`bench.k${1 + (k % (options.keys - 1))}`, k, setId++));
      if (reply.ok !== true) throw new Error(`state:set before a condition: ${JSON.stringify(reply).slice(0, 300)}`);
    };
    const conditionAfterSet = await sequential(conn, daemon, "event:emit with a condition on state, after each set", options.sets, probe, () => undefined, setOther);
    progress(`state-large: condition after a set p50 ${conditionAfterSet.p50_ms} ms`);

    progress(`state-large: pipelined sets until the journal compacts (at most ${thousands(options.compactionSets)})`);
    const log = join(home, "var", "log", "daemon.log");
    const compactedBefore = (await compactions(log)).length;
    const pings = await LineConnection.connect(socketPath);
    const pingLatencies: number[] = [];
    let pinging = true;
    const pinger = (async () => {
      for (let id = 0; pinging; id++) {
        const sent = performance.now();
        await pings.request(JSON.stringify({ event: "system:health", id }) + "\n");
        pingLatencies.push(performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    let sets = 0;
    let compaction: StateLargeBenchResult["compaction"] = null;
    const chunk = 2_000;
    while (compaction === null && sets < options.compactionSets) {
      await pipeline(conn, 0, chunk, 64, new Float64Array(chunk), (k) => stateSetLine(`bench.k${(sets + k) % options.keys}`, sets + k, k), checkSet);
      sets += chunk;
      const found = (await compactions(log)).slice(compactedBefore);
      if (found.length > 0) compaction = { ms: found[0]!.ms, before_mb: round(found[0]!.before / 1e6, 1), after_mb: round(found[0]!.after / 1e6, 1) };
    }
    pinging = false;
    await pinger;
    await pings.close();
    await conn.close();
    const sorted = Float64Array.from(pingLatencies).sort();
    const pingP50 = round(percentile(sorted, 0.5), 2);
    const stopped = await stopChild(daemon);
    daemon = null;
    if (stopped !== "exit 0") throw new Error(`the daemon did not stop cleanly: ${stopped}`);
    const targets = [
      atMost(`state:set p50 on ${thousands(options.keys)} keys × 1 KB (ms)`, set.p50_ms, 5),
      atMost(`event:emit with a condition on state, after a set, p50 (ms)`, conditionAfterSet.p50_ms, 5),
    ];
    return {
      keys: options.keys,
      state_mb: round(stateBytes / 1e6, 1),
      fill_s: fillS,
      set,
      conditionAfterSet,
      compaction,
      sets_to_compaction: sets,
      ping_p50_ms: pingP50,
      ping_p99_ms: round(percentile(sorted, 0.99), 2),
      ping_max_ms: round(sorted[sorted.length - 1] ?? NaN, 2),
      targets,
      clean: true,
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    if (daemon !== null) await stopChild(daemon);
    await rm(base, { recursive: true, force: true });
  }
}

/** state:set of `key` to a 1 KB value carrying `n`. */
export function stateSetLine(key: string, n: number, id: number): string {
  return JSON.stringify({ event: "state:set", id, data: { key, value: { ...VALUE, n } } }) + "\n";
}

function checkSet(line: string): void {
  if (!line.startsWith('{"') || !line.includes('"ok":true')) throw new Error(`state:set: ${line.slice(0, 300)}`);
}

/** Sets `keys` keys of 1 KB (bench.k0 …), pipelined at depth 64; how long it took and the values' bytes. */
export async function fillState(conn: LineConnection, keys: number): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  await pipeline(conn, 0, keys, 64, new Float64Array(keys), (k) => stateSetLine(`bench.k${k}`, 0, k), checkSet);
  return { seconds: round((performance.now() - started) / 1000, 1), bytes: keys * Buffer.byteLength(JSON.stringify(VALUE)) };
}

async function compactions(log: string): Promise<{ ms: number; before: number; after: number }[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.includes('"state journal compacted"'))
    .map((line) => JSON.parse(line) as { ms: number; before: number; after: number });
}

export function formatStateLargeBench(result: StateLargeBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const s = result.set;
  const compaction =
    result.compaction === null
      ? [`no compaction in ${thousands(result.sets_to_compaction)} sets`, "n/a", "", ""]
      : [`one compaction (${result.compaction.before_mb} MB → ${result.compaction.after_mb} MB)`, ms(result.compaction.ms), "", ""];
  return [
    `state-large: ${thousands(result.keys)} keys × 1 KB (${result.state_mb} MB of values, set in ${result.fill_s} s); one connection; latency = write → whole reply` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...table(
      ["series", "p50", "p99", "max"],
      [
        [s.label, ms(s.p50_ms), ms(s.p99_ms), ms(s.max_ms)],
        [result.conditionAfterSet.label, ms(result.conditionAfterSet.p50_ms), ms(result.conditionAfterSet.p99_ms), ms(result.conditionAfterSet.max_ms)],
        compaction,
        [`system:health every 5 ms on another connection during ${thousands(result.sets_to_compaction)} pipelined sets`, ms(result.ping_p50_ms), ms(result.ping_p99_ms), ms(result.ping_max_ms)],
      ],
    ),
    ...result.targets.map((t) => `${t.met ? "met" : "MISSED"}: ${t.name.replace(/ \(ms\)$/, "")} ${ms(t.value)} (target ≤ ${ms(t.max!)})`),
  ].join("\n");
}
