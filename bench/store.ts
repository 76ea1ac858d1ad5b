/**
 * Pattern-store benchmark against the real daemon (git included):
 *
 * 1. composition:save, sequential (one at a time, each reply awaited), in a
 *    fresh home with the seeded starter store: `saves` creates of distinct
 *    new patterns, then `saves` updates of one pattern (each a new version:
 *    the same version is sent back, so the daemon bumps the patch), after a
 *    warm-up of each kind. Every reply must be ok, name the pattern, carry
 *    a new commit and (updates) a newer version.
 * 2. composition:get, sequential: `gets` current versions (served from the
 *    index, plus the last commit of the file from git) and `gets` tagged
 *    versions `name@version` (read from git).
 * 3. start-up with a synthetic store of `patterns` realistic orchestration
 *    patterns (1.5–3 KB each: comments, metadata, variables, components, a
 *    multi-line strategy, an `agents:` section), generated here before the
 *    daemon starts, committed once, with one packed tag per pattern (as a
 *    store that has seen `git gc` keeps them); the daemon gets `--store`.
 *    Per start: spawn → system:health answered, the daemon's own "pattern
 *    store indexed" `ms` (daemon.log), VmRSS right after start and after one
 *    composition:list walked page by page, VmHWM. Then one default page of
 *    composition:list (500 entries) and composition:reload (nothing changed)
 *    on that store, one walk of every page (5 000 a page), and a short
 *    save/get series on it (a tenth of the counts above): what the store's
 *    size does to them.
 *
 * Latency is from the write of a request to the arrival of its whole reply.
 * Daemon CPU is the daemon process's own (all threads, schedstat); git CPU
 * is the user + system time of its reaped child processes (/proc/PID/stat
 * cutime + cstime, clock ticks), i.e. the git commands it ran.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parse as parseYaml } from "yaml";
import { decisionThroughput, discoverySeries, type DecisionThroughput } from "./discovery.js";
import { evolutionSeries } from "./evolution.js";
import { runSelectEval, type SelectEvalResult } from "./select-eval.js";
import { patternYaml, syntheticName } from "./patterns.js";
import { COMMIT, requestRaw, sequential, type Series } from "./series.js";
import {
  atLeast,
  atMost,
  DAEMON_MAIN,
  LineConnection,
  median,
  round,
  startChild,
  stopChild,
  table,
  thousands,
  type Child,
  type Reply,
  type Target,
} from "./common.js";

export interface StoreBenchOptions {
  /** Measured saves per kind (create, update). */
  saves: number;
  /** Measured gets per kind (current, tagged). */
  gets: number;
  /** Unmeasured operations of each kind first. */
  warmup: number;
  /** Patterns in the synthetic store. */
  patterns: number;
  /** Daemon starts on the synthetic store. */
  starts: number;
  /** composition:list and composition:reload calls on the synthetic store. */
  listCalls: number;
  daemonCpuProfDir?: string | undefined;
  keepHome?: boolean;
  /**
   * A folder where the synthetic store is generated once per pattern count
   * and copied from on later runs (generating 100 000 patterns and
   * committing them takes minutes); unset: generated afresh in the run's
   * temporary folder.
   */
  storeCacheDir?: string | undefined;
  progress?: (line: string) => void;
}

export interface StartRound {
  ready_ms: number;
  /** From health answering to the reply of the first composition:select (its ranking index included). */
  first_select_ms: number;
  indexed_ms: number;
  rss_start_mb: number;
  rss_after_list_mb: number;
  hwm_mb: number;
}

export interface StoreBenchResult {
  saves: Series[];
  gets: Series[];
  /** fork, merge, diff ×3 (bench/evolution.ts). */
  evolution: Series[];
  /** track_decision from 8 clients, pipelined (bench/discovery.ts). */
  decisions: DecisionThroughput;
  select_eval: SelectEvalResult;
  synthetic: {
    patterns: number;
    bytes_total: number;
    bytes_min: number;
    bytes_median: number;
    bytes_max: number;
    generate_ms: number;
    git_ms: number;
    /** Reference: spawn → health of the first daemon (fresh home, seeds the starter store). */
    seeded_ready_ms: number;
    starts: StartRound[];
    ready_ms: number;
    indexed_ms: number;
    rss_start_mb: number;
    rss_after_list_mb: number;
    hwm_mb: number;
    /** One default page (500 entries) of composition:list. */
    list: Series & { reply_bytes: number };
    /** Every page of composition:list, 5 000 a page, one walk: wall time and pages. */
    list_walk: { ms: number; pages: number };
    reload: Series;
    /** discover queries and select tasks (bench/discovery.ts). */
    discovery: Series[];
    /** Median of the starts' first_select_ms. */
    first_select_ms: number;
    saves: Series[];
    gets: Series[];
  };
  targets: Target[];
  exit: string;
  clean: boolean;
  profiled: boolean;
}

const AGENT = "bench_store";
/** The task of the first select after each start (one of discovery.ts's tasks). */
const FIRST_SELECT = { task: "Review a long research report and check every claim against its sources" };
/** A start that misses the 3 s target by far is still measured (waitReady gives up after 15 s). */
const START_TIMEOUT_MS = 180_000;

export async function runStoreBench(options: StoreBenchOptions): Promise<StoreBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-store-"));
  const running = new Set<Child>();
  const start = (name: string, home: string, store?: string): Child => {
    const prof = options.daemonCpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.daemonCpuProfDir];
    const child = startChild(name, [...prof, DAEMON_MAIN, "--home", home, ...(store === undefined ? [] : ["--store", store])]);
    running.add(child);
    return child;
  };
  const stop = async (child: Child): Promise<string> => {
    const how = await stopChild(child);
    running.delete(child);
    if (how !== "exit 0") throw new Error(`${child.name} did not stop cleanly on SIGTERM: ${how}`);
    return how;
  };
  const exits: string[] = [];
  try {
    // ------------------------------------------------ 1 + 2: save and get on the seeded store
    const home = join(base, "home");
    const socketPath = join(home, "var", "run", "patternd.sock");
    progress(`store: ${options.saves} creates and ${options.saves} updates (after ${options.warmup} of each), then ${options.gets} gets of each kind`);
    const spawned = performance.now();
    const daemon = start("daemon", home);
    await waitHealth(daemon, socketPath, START_TIMEOUT_MS);
    const seededReadyMs = round(performance.now() - spawned, 1);
    const conn = await connect(socketPath);
    const saves = await saveSeries(conn, daemon, "seeded", options.saves, options.warmup);
    const gets = await getSeries(conn, daemon, "seeded", options.gets, options.warmup);
    progress(`store: ${options.saves} forks, merges of a 200-line pattern, diffs`);
    const evolution = await evolutionSeries(conn, daemon, options.saves, options.warmup);
    await conn.close();
    progress("store: composition:track_decision from 8 clients, 16 in flight each");
    const decisions = await decisionThroughput(socketPath, 8, Math.max(50, options.saves * 2), 16);
    exits.push(await stop(daemon));

    // ------------------------------------------------ 3: start-up on a synthetic store
    progress(`store: generating a git store of ${thousands(options.patterns)} patterns`);
    const storeDir = join(base, "synthetic-store");
    const generated = await syntheticStore(storeDir, options.patterns, options.storeCacheDir, progress);
    const bigHome = join(base, "home-synthetic");
    const bigSocket = join(bigHome, "var", "run", "patternd.sock");
    const logPath = join(bigHome, "var", "log", "daemon.log");
    const starts: StartRound[] = [];
    let big: Child | null = null;
    for (let i = 0; i < options.starts; i++) {
      progress(`store: start ${i + 1} of ${options.starts} on the ${thousands(options.patterns)}-pattern store`);
      const spawned = performance.now();
      big = start("daemon (synthetic store)", bigHome, storeDir);
      await waitHealth(big, bigSocket, START_TIMEOUT_MS);
      const ready = performance.now();
      const readyMs = ready - spawned;
      const rssStart = memory(big.process.pid);
      const c = await connect(bigSocket);
      // The first select, right after start: its ranking index is built by now, or built for it.
      const selected = await c.request(`${JSON.stringify({ event: "composition:select", id: 3, data: FIRST_SELECT })}\n`);
      const firstSelectMs = performance.now() - ready;
      if (selected.ok !== true || !Array.isArray(selected.data?.candidates)) throw new Error(`composition:select after start: ${JSON.stringify(selected).slice(0, 300)}`);
      const health = await c.request(`{"event":"system:health","id":1}\n`);
      const patterns = (health.data?.store as { patterns?: unknown } | undefined)?.patterns;
      if (health.ok !== true || patterns !== options.patterns) throw new Error(`system:health reports ${String(patterns)} patterns, expected ${options.patterns}: ${JSON.stringify(health).slice(0, 300)}`);
      const listed = await listNames(c, {});
      if (listed.names.length !== options.patterns) throw new Error(`composition:list did not list ${options.patterns} patterns, but ${listed.names.length}`);
      const rssList = memory(big.process.pid);
      await c.close();
      const line = await indexedLine(logPath, i + 1);
      if (line.indexed !== options.patterns || line.invalid !== 0) {
        throw new Error(`daemon.log: indexed ${line.indexed}, invalid ${line.invalid}; expected ${options.patterns} and 0`);
      }
      starts.push({
        ready_ms: round(readyMs, 1),
        first_select_ms: round(firstSelectMs, 1),
        indexed_ms: line.ms,
        rss_start_mb: rssStart.rss_mb,
        rss_after_list_mb: rssList.rss_mb,
        hwm_mb: rssList.hwm_mb,
      });
      if (i < options.starts - 1) {
        exits.push(await stop(big));
        big = null;
      }
    }

    progress(`store: composition:list and composition:reload ×${options.listCalls}, then saves and gets on the synthetic store`);
    const c = await connect(bigSocket);
    let replyBytes = 0;
    const pageSize = Math.min(DEFAULT_PAGE, options.patterns);
    const list = await sequential(c, big!, `composition:list, one default page (${pageSize})`, options.listCalls, (k) => `{"event":"composition:list","id":${k}}\n`, (reply, _k, raw) => {
      const length = (reply.data?.compositions as unknown[] | undefined)?.length;
      if (length !== pageSize || reply.data?.total !== options.patterns) throw new Error(`composition:list returned ${String(length)} entries of ${String(reply.data?.total)}`);
      replyBytes = raw;
    });
    const walkStarted = performance.now();
    const walk = await listNames(c, { limit: 5_000 });
    const listWalk = { ms: round(performance.now() - walkStarted, 1), pages: walk.pages };
    if (walk.names.length !== options.patterns) throw new Error(`a walk of composition:list gave ${walk.names.length} patterns, not ${options.patterns}`);
    const reload = await sequential(c, big!, "composition:reload (no changes)", options.listCalls, (k) => `{"event":"composition:reload","id":${k}}\n`, (reply) => {
      const invalid = reply.data?.invalid as unknown[] | undefined;
      if (reply.data?.indexed !== options.patterns || invalid?.length !== 0) throw new Error(`composition:reload: ${JSON.stringify(reply.data).slice(0, 300)}`);
    });
    progress(`store: composition:discover and composition:select on the synthetic store`);
    const discovery = await discoverySeries(c, big!, Math.max(20, options.listCalls * 5), Math.min(options.warmup, 5));
    const bigSaves = await saveSeries(c, big!, "synthetic", Math.max(10, Math.round(options.saves / 10)), Math.min(options.warmup, 5));
    const bigGets = await getSeries(c, big!, "synthetic", Math.max(10, Math.round(options.gets / 10)), Math.min(options.warmup, 5));
    await c.close();
    exits.push(await stop(big!));

    const mid = (pick: (s: StartRound) => number) => round(median(starts.map(pick)), 1);
    const synthetic = {
      ...generated,
      seeded_ready_ms: seededReadyMs,
      starts,
      ready_ms: mid((s) => s.ready_ms),
      indexed_ms: mid((s) => s.indexed_ms),
      rss_start_mb: mid((s) => s.rss_start_mb),
      rss_after_list_mb: mid((s) => s.rss_after_list_mb),
      hwm_mb: mid((s) => s.hwm_mb),
      list: { ...list, reply_bytes: replyBytes },
      list_walk: listWalk,
      reload,
      discovery: discovery.series,
      first_select_ms: mid((s) => s.first_select_ms),
      saves: bigSaves,
      gets: bigGets,
    };
    const exit = exits.every((how) => how === "exit 0") ? "exit 0" : exits.find((how) => how !== "exit 0")!;
    const selectEval = runSelectEval();
    const later = starts.slice(1).map((s) => s.ready_ms);
    const laterReady = later.length === 0 ? NaN : round(median(later), 1);
    const discoverWorst = Math.max(...discovery.series.slice(0, -1).map((x) => x.p50_ms));
    return {
      saves,
      gets,
      evolution,
      decisions,
      select_eval: selectEval,
      synthetic,
      targets: [
        atMost("save p50 on the starter store, create (ms)", saves[0]!.p50_ms, 20),
        atMost("save p50 on the starter store, update (ms)", saves[1]!.p50_ms, 20),
        atMost("fork p50 on the starter store (ms)", evolution[0]!.p50_ms, 20),
        atMost(`save p50 on ${thousands(options.patterns)} patterns, create (ms)`, bigSaves[0]!.p50_ms, 20),
        atMost(`save p50 on ${thousands(options.patterns)} patterns, update (ms)`, bigSaves[1]!.p50_ms, 20),
        atMost(`discover p50 on ${thousands(options.patterns)} patterns, slowest query (ms)`, discoverWorst, 5),
        atMost(`select p50 on ${thousands(options.patterns)} patterns (ms)`, discovery.series.at(-1)!.p50_ms, 20),
        atLeast("decision appends acknowledged per second, 8 clients (/s)", decisions.per_s, 2000),
        atMost(`first start-up with ${thousands(options.patterns)} patterns (no index cache), spawn → health (ms)`, starts[0]!.ready_ms, 5000),
        atMost(`later start-ups with ${thousands(options.patterns)} patterns (index cache), spawn → health, median (ms)`, laterReady, 2000),
        atMost(`first composition:select after start, health → reply, median (ms)`, synthetic.first_select_ms, 100),
        atMost(`composition:list p50 on ${thousands(options.patterns)} patterns, one default page (ms)`, list.p50_ms, 5),
        atMost(`RSS after start + composition:list, median (MB)`, Math.max(synthetic.rss_start_mb, synthetic.rss_after_list_mb), 600),
      ],
      exit,
      clean: exit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    for (const child of running) child.process.kill("SIGKILL");
    if (options.keepHome === true) progress(`store: temporary homes and stores kept under ${base}`);
    else await rm(base, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- series

export async function connect(socketPath: string): Promise<LineConnection> {
  const conn = await LineConnection.connect(socketPath);
  const hello = await conn.request(`{"event":"system:hello","id":0,"data":{"agent_id":"${AGENT}","client":"bench"}}\n`);
  if (hello.ok !== true) throw new Error(`system:hello: ${JSON.stringify(hello).slice(0, 300)}`);
  return conn;
}

/** A check that each reply carries a commit not seen before by this check. */
function newCommitCheck(): (reply: Reply, what: string) => void {
  const commits = new Set<string>();
  return (reply, what) => {
    const commit = reply.data?.commit;
    if (typeof commit !== "string" || !COMMIT.test(commit) || commits.has(commit) || reply.data?.unchanged === true) {
      throw new Error(`${what}: no new commit in the reply: ${JSON.stringify(reply).slice(0, 300)}`);
    }
    commits.add(commit);
  };
}

/**
 * Creates of distinct new patterns, then updates of one pattern, each
 * measured after `warmup` unmeasured ones. Names carry `tag` so a series
 * can run again on the same store.
 */
async function saveSeries(conn: LineConnection, daemon: Child, tag: string, count: number, warmup: number): Promise<Series[]> {
  const checkCommit = newCommitCheck();
  const createName = (n: number) => `bench_${tag}_create_${n}`;
  const createLine = (n: number, id: number) => {
    const doc = parseYaml(patternYaml(createName(n), 1_000_000 + n)) as Record<string, unknown>;
    return JSON.stringify({ event: "composition:save", id, data: { composition: doc, message: `bench create ${n}` } }) + "\n";
  };
  const createCheck = (n: number) => (reply: Reply) => {
    if (reply.data?.name !== createName(n)) throw new Error(`create ${n}: reply names ${String(reply.data?.name)}`);
    checkCommit(reply, `create ${n}`);
  };
  await sequential(conn, daemon, "warm-up", warmup, (k) => createLine(count + k, k), (reply, k) => createCheck(count + k)(reply));
  const creates = await sequential(conn, daemon, "save: create (new pattern)", count, (k) => createLine(k, k), (reply, k) => createCheck(k)(reply));
  return [creates, await updateSeries(conn, daemon, tag, count, warmup, checkCommit)];
}

/** The update target of a series tagged `tag`: its name and generated document. */
export function updateTarget(tag: string): { name: string; doc: Record<string, unknown> } {
  const name = `bench_${tag}_update`;
  return { name, doc: parseYaml(patternYaml(name, 2_000_000)) as Record<string, unknown> };
}

/** Update n of `doc` at `version`: new performance figures and a new variable default. */
export function updatedDocument(doc: Record<string, unknown>, n: number, version: string): Record<string, unknown> {
  const performance = { runs: 10 + n, avg_score: round(0.5 + ((n * 37) % 50) / 100, 2), success_rate: round(0.6 + ((n * 13) % 40) / 100, 2) };
  const variables = { ...(doc.variables as Record<string, unknown>), max_rounds: { type: "integer", default: 2 + (n % 7), description: "Rounds before the lead must decide." } };
  return { ...doc, version, performance, variables };
}

/**
 * Updates of one pattern (created first, unmeasured), each a new version, measured after
 * `warmup` unmeasured ones; every reply must carry a new commit (`checkCommit`) and a newer version.
 */
export async function updateSeries(
  conn: LineConnection,
  daemon: Child,
  tag: string,
  count: number,
  warmup: number,
  checkCommit: (reply: Reply, what: string) => void = newCommitCheck(),
): Promise<Series> {
  // Each update sends the current version back (the daemon bumps the patch).
  const { name, doc } = updateTarget(tag);
  let version = String(doc.version);
  const first = await requestRaw(conn, JSON.stringify({ event: "composition:save", id: 0, data: { composition: doc, message: "bench update target" } }) + "\n");
  if (first.reply.ok !== true) throw new Error(`creating ${name}: ${JSON.stringify(first.reply).slice(0, 300)}`);
  let n = 0;
  const updateLine = (id: number) => {
    n++;
    return JSON.stringify({ event: "composition:save", id, data: { composition: updatedDocument(doc, n, version), message: `bench update ${n}` } }) + "\n";
  };
  const updateCheck = (reply: Reply, k: number) => {
    const next = reply.data?.version;
    if (reply.data?.name !== name || typeof next !== "string" || compareSemver(next, version) <= 0) {
      throw new Error(`update ${k}: expected a version newer than ${version}: ${JSON.stringify(reply).slice(0, 300)}`);
    }
    checkCommit(reply, `update ${k}`);
    version = next;
  };
  await sequential(conn, daemon, "warm-up", warmup, updateLine, updateCheck);
  return sequential(conn, daemon, "save: update (new version)", count, updateLine, updateCheck);
}

/** Current versions of the created patterns (round robin), then tagged versions `name@version` of the update target. */
async function getSeries(conn: LineConnection, daemon: Child, tag: string, count: number, warmup: number): Promise<Series[]> {
  // The update target's versions: 0.1.0 and each patch after it.
  const history = await requestRaw(conn, `{"event":"composition:history","id":0,"data":{"name":"bench_${tag}_update"}}\n`);
  const versions = ((history.reply.data?.versions as { version: string | null }[] | undefined) ?? []).map((v) => v.version).filter((v): v is string => v !== null);
  if (history.reply.ok !== true || versions.length < 2) throw new Error(`composition:history: ${JSON.stringify(history.reply).slice(0, 300)}`);
  const names = (await listNames(conn, { type: "orchestration", fields: ["name"], limit: 5_000 })).names.filter((n) => n.startsWith(`bench_${tag}_create_`));
  if (names.length === 0) throw new Error(`no bench_${tag}_create_* patterns listed`);

  const current = (k: number) => `{"event":"composition:get","id":${k},"data":{"name":"${names[k % names.length]}"}}\n`;
  const currentCheck = (reply: Reply, k: number) => {
    if (reply.data?.name !== names[k % names.length] || typeof reply.data?.commit !== "string" || !COMMIT.test(reply.data.commit) || typeof reply.data.composition !== "object") {
      throw new Error(`get ${names[k % names.length]}: ${JSON.stringify(reply).slice(0, 300)}`);
    }
  };
  const tagged = (k: number) => `{"event":"composition:get","id":${k},"data":{"name":"bench_${tag}_update@${versions[k % versions.length]}"}}\n`;
  const taggedCheck = (reply: Reply, k: number) => {
    const composition = reply.data?.composition as { version?: unknown } | undefined;
    if (reply.data?.version !== versions[k % versions.length] || composition?.version !== versions[k % versions.length]) {
      throw new Error(`get bench_${tag}_update@${versions[k % versions.length]}: ${JSON.stringify(reply).slice(0, 300)}`);
    }
  };
  await sequential(conn, daemon, "warm-up", warmup, current, currentCheck);
  const a = await sequential(conn, daemon, "get: current (name)", count, current, currentCheck);
  await sequential(conn, daemon, "warm-up", warmup, tagged, taggedCheck);
  const b = await sequential(conn, daemon, "get: tagged (name@version)", count, tagged, taggedCheck);
  return [a, b];
}

function compareSemver(a: string, b: string): number {
  const pa = a.split(/[.+-]/).slice(0, 3).map(Number);
  const pb = b.split(/[.+-]/).slice(0, 3).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** Polls every 2 ms (a refused connect returns at once) until `system:health` answers ok, or fails at the deadline. */
export async function waitHealth(child: Child, socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const ended: { how: string | null } = { how: null };
  void child.exited.then((how) => (ended.how = how));
  for (;;) {
    if (ended.how !== null) throw new Error(`${child.name} ended before answering (${ended.how}): ${child.stderr().trim()}`);
    // A stat per poll until the socket exists: connect attempts every 2 ms would take CPU from a daemon still indexing.
    const conn = existsSync(socketPath) ? await LineConnection.connect(socketPath).catch(() => null) : null;
    if (conn !== null) {
      try {
        const reply = await conn.request(`{"event":"system:health","id":0}\n`);
        if (reply.ok === true) return;
      } catch {
        // closed under us: try again
      } finally {
        await conn.close();
      }
    }
    if (performance.now() > deadline) throw new Error(`${child.name} did not answer system:health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// ---------------------------------------------------------------- /proc

/** VmRSS and VmHWM of `pid` in MB (Linux). */
function memory(pid: number | undefined): { rss_mb: number; hwm_mb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rss_mb: round(kb("VmRSS") / 1024, 1), hwm_mb: round(kb("VmHWM") / 1024, 1) };
  } catch {
    return { rss_mb: NaN, hwm_mb: NaN };
  }
}

/** The `starts`-th "pattern store indexed" record of daemon.log. */
async function indexedLine(logPath: string, starts: number): Promise<{ ms: number; indexed: number; invalid: number }> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const records = (await readFile(logPath, "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line.includes(`"pattern store indexed"`))
      .map((line) => JSON.parse(line) as { msg?: unknown; ms?: unknown; indexed?: unknown; invalid?: unknown })
      .filter((record) => record.msg === "pattern store indexed");
    if (records.length >= starts) {
      const record = records[starts - 1]!;
      if (typeof record.ms !== "number" || typeof record.indexed !== "number" || typeof record.invalid !== "number") {
        throw new Error(`"pattern store indexed" without ms/indexed/invalid: ${JSON.stringify(record)}`);
      }
      return { ms: record.ms, indexed: record.indexed, invalid: record.invalid };
    }
    if (Date.now() > deadline) throw new Error(`daemon.log has ${records.length} "pattern store indexed" lines after ${starts} starts`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** composition:list's default page (the daemon's DEFAULT_LIMIT). */
const DEFAULT_PAGE = 500;

/** Every name composition:list gives for `query`, page after page (next_cursor), and how many pages that took. */
async function listNames(conn: LineConnection, query: Record<string, unknown>): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { reply } = await requestRaw(conn, JSON.stringify({ event: "composition:list", id: pages, data: cursor === undefined ? query : { ...query, cursor } }) + "\n");
    if (reply.ok !== true) throw new Error(`composition:list: ${JSON.stringify(reply).slice(0, 300)}`);
    for (const entry of reply.data?.compositions as { name: string }[]) names.push(entry.name);
    cursor = reply.data?.next_cursor as string | undefined;
    pages++;
  } while (cursor !== undefined);
  return { names, pages };
}

// ---------------------------------------------------------------- the synthetic store

export function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      ["-c", "user.name=b", "-c", "user.email=b@b", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null", ...args],
      // No user or system config, no ambient GIT_* variables.
      { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`git ${args.join(" ")}: ${err.message} ${stderr}`))),
    );
  });
}

/** What generateStore reports of the store it made (kept beside a cached store, so a reused one reports the same). */
interface Generated {
  patterns: number;
  bytes_total: number;
  bytes_min: number;
  bytes_median: number;
  bytes_max: number;
  generate_ms: number;
  git_ms: number;
}

/** Bumped whenever generateStore or patterns.ts makes a different store: a cached one of another version is not reused. */
const GENERATOR_VERSION = 1;

/**
 * The synthetic store at `dir`: generated there, or (with `cacheDir`)
 * generated once into the cache and copied, so that later runs skip the
 * minutes 100 000 patterns take. The copy's index is refreshed (a copy has
 * new inodes and ctimes), as a store a person works in would be.
 */
async function syntheticStore(dir: string, count: number, cacheDir: string | undefined, progress: (line: string) => void): Promise<Generated> {
  if (cacheDir === undefined) return generateStore(dir, count);
  const cached = join(cacheDir, `synthetic-${count}-v${GENERATOR_VERSION}`);
  const report = join(cacheDir, `synthetic-${count}-v${GENERATOR_VERSION}.json`);
  if (!existsSync(report)) {
    await rm(cached, { recursive: true, force: true });
    await mkdir(cacheDir, { recursive: true });
    await writeFile(report + ".tmp", JSON.stringify(await generateStore(cached, count)));
    await rename(report + ".tmp", report);
  } else {
    progress(`store: copying the cached ${thousands(count)}-pattern store from ${cached}`);
  }
  await new Promise<void>((resolve, reject) => execFile("cp", ["-a", "--", cached, dir], (err) => (err === null ? resolve() : reject(new Error(`cp -a ${cached} ${dir}: ${err.message}`)))));
  await git(dir, ["update-index", "-q", "--really-refresh"]).catch(() => undefined);
  return JSON.parse(await readFile(report, "utf8")) as Generated;
}

/** `count` patterns under orchestrations/, one commit, one packed tag `<name>@<version>` per pattern. */
export async function generateStore(dir: string, count: number): Promise<Generated> {
  const started = performance.now();
  await mkdir(join(dir, "orchestrations"), { recursive: true });
  const sizes: number[] = [];
  const tags: string[] = [];
  const BATCH = 64;
  for (let from = 0; from < count; from += BATCH) {
    const writes: Promise<void>[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      const name = syntheticName(i);
      const text = patternYaml(name, i);
      sizes.push(Buffer.byteLength(text));
      tags.push(`${name}@${/^version: (\S+)$/m.exec(text)![1]}`);
      writes.push(writeFile(join(dir, "orchestrations", `${name}.yaml`), text));
    }
    await Promise.all(writes);
  }
  const generated = performance.now();
  await git(dir, ["init", "-q"]);
  await git(dir, ["add", "--", "orchestrations"]);
  await git(dir, ["commit", "-q", "--no-verify", "-m", `bench: ${count} synthetic patterns\n\nOp: seed\nPatterns: ${count}`]);
  const commit = (await git(dir, ["rev-parse", "HEAD"])).trim();
  const refs = tags.map((t) => `refs/tags/${t}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  await writeFile(join(dir, ".git", "packed-refs"), `# pack-refs with: peeled fully-peeled sorted \n${refs.map((ref) => `${commit} ${ref}\n`).join("")}`);
  const probe = (await git(dir, ["rev-parse", "--verify", "--quiet", `${tags[count - 1]}^{commit}`])).trim();
  if (probe !== commit) throw new Error(`packed tag ${tags[count - 1]} does not resolve to the seed commit`);
  const sorted = [...sizes].sort((a, b) => a - b);
  return {
    patterns: count,
    bytes_total: sizes.reduce((a, b) => a + b, 0),
    bytes_min: sorted[0]!,
    bytes_median: sorted[sorted.length >> 1]!,
    bytes_max: sorted[sorted.length - 1]!,
    generate_ms: Math.round(generated - started),
    git_ms: Math.round(performance.now() - generated),
  };
}

// ---------------------------------------------------------------- report

export function formatStoreBench(result: StoreBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const cpu = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(2)} ms`);
  const seriesTable = (rows: Series[], unit: string) =>
    table(
      ["series (sequential)", "count", "wall", `${unit}/s`, "p50", "p99", "max", "daemon CPU/op", "git CPU/op"],
      rows.map((s) => [s.label, thousands(s.count), `${(s.wall_ms / 1000).toFixed(2)} s`, s.per_s.toFixed(1), ms(s.p50_ms), ms(s.p99_ms), ms(s.max_ms), cpu(s.daemon_cpu_ms_per_op), cpu(s.git_cpu_ms_per_op)]),
    );
  const s = result.synthetic;
  const spreadOf = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
  const startTable = table(
    ["start (same store)", "ready (spawn → health)", "first select", "indexed (daemon)", "RSS after start", "RSS after list", "VmHWM"],
    [
      ...s.starts.map((r, i) => [`#${i + 1}`, `${r.ready_ms.toFixed(0)} ms`, `${r.first_select_ms.toFixed(0)} ms`, `${r.indexed_ms} ms`, `${r.rss_start_mb.toFixed(1)} MB`, `${r.rss_after_list_mb.toFixed(1)} MB`, `${r.hwm_mb.toFixed(1)} MB`]),
      ["median", `${s.ready_ms.toFixed(0)} ms`, `${s.first_select_ms.toFixed(0)} ms`, `${s.indexed_ms.toFixed(0)} ms`, `${s.rss_start_mb.toFixed(1)} MB`, `${s.rss_after_list_mb.toFixed(1)} MB`, `${s.hwm_mb.toFixed(1)} MB`],
      [
        "min–max",
        `${spreadOf(s.starts.map((r) => r.ready_ms))} ms`,
        `${spreadOf(s.starts.map((r) => r.first_select_ms))} ms`,
        `${spreadOf(s.starts.map((r) => r.indexed_ms))} ms`,
        `${spreadOf(s.starts.map((r) => r.rss_start_mb), 1)} MB`,
        `${spreadOf(s.starts.map((r) => r.rss_after_list_mb), 1)} MB`,
        `${spreadOf(s.starts.map((r) => r.hwm_mb), 1)} MB`,
      ],
    ],
  );
  const bound = (t: Target) =>
    t.name.endsWith("(MB)")
      ? `${t.value.toFixed(1)} MB (target ≤ ${t.max} MB)`
      : t.name.endsWith("(/s)")
        ? `${thousands(t.value)}/s (target ≥ ${thousands(t.min!)}/s)`
        : `${ms(t.value)} (target ≤ ${ms(t.max!)})`;
  return [
    `store: composition:save / composition:get on a fresh home (seeded starter store), one connection, one request at a time; ` +
      `latency = write → whole reply;\ngit CPU = the daemon's reaped child processes (the git commands it runs), daemon CPU = its own threads` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...seriesTable(result.saves, "ops"),
    ...seriesTable(result.gets, "ops").slice(2),
    ...seriesTable(result.evolution, "ops").slice(2),
    "",
    `composition:track_decision, ${result.decisions.clients} clients × ${result.decisions.depth} in flight, one log: ${thousands(result.decisions.records)} records acknowledged ` +
      `(each after its fsync) in ${(result.decisions.wall_ms / 1000).toFixed(2)} s = ${thousands(result.decisions.per_s)}/s; latency p50 ${ms(result.decisions.p50_ms)}, p99 ${ms(result.decisions.p99_ms)}`,
    `select evaluation (bench/select-eval): ${result.select_eval.cases} labelled tasks, top-1 ${result.select_eval.top1.toFixed(3)}, MRR ${result.select_eval.mrr.toFixed(3)}` +
      (result.select_eval.misses.length === 0 ? "" : `; misses: ${result.select_eval.misses.map((m) => `"${m.task.slice(0, 40)}…" → ${m.got ?? "none"} (want ${m.expected})`).join("; ")}`),
    "",
    `synthetic store: ${thousands(s.patterns)} orchestration patterns, ${(s.bytes_total / 1024 / 1024).toFixed(1)} MiB ` +
      `(${thousands(s.bytes_min)}–${thousands(s.bytes_max)} B each, median ${thousands(s.bytes_median)} B), one commit, one packed tag each; ` +
      `written in ${(s.generate_ms / 1000).toFixed(1)} s, git add + commit ${(s.git_ms / 1000).toFixed(1)} s;\n` +
      `daemon started with --store on it ${s.starts.length} times; first select = health answered → reply of a composition:select sent right then; ` +
      `indexed = the daemon's "pattern store indexed" ms; RSS from /proc/PID/status; ` +
      `for reference, the first daemon (fresh home, seeding the starter store) answered ${s.seeded_ready_ms.toFixed(0)} ms after spawn`,
    ...startTable,
    "",
    `on the synthetic store (one default page of composition:list: ${(s.list.reply_bytes / 1024).toFixed(0)} KiB; ` +
      `every page, 5 000 a page: ${s.list_walk.pages} pages in ${ms(s.list_walk.ms)}):`,
    ...seriesTable([s.list, s.reload, ...s.discovery, ...s.saves, ...s.gets], "ops"),
    "",
    "targets:",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name.replace(/ \((ms|MB|\/s)\)$/, "")} = ${bound(t)}`),
    `stopped: every daemon (SIGTERM) ${result.exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
