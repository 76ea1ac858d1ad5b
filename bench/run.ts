/**
 * `npm run bench`: prints the machine, then runs every benchmark in turn
 * (the BENCHES table, in its order), each against its own daemon in a temporary home.
 * Options: --json (one JSON object on stdout, progress on stderr),
 * --only LIST (comma-separated names from the table),
 * --requests N, --rounds N and --warmup N (socket, emit and handler benches; --rounds also
 * sets the restarts of the schedule bench), --schedules N (schedule and peers benches, default
 * 100 000, the daemon's bound on pending schedules), --burst N (burst bench: emits due at one
 * instant, default 50 000; also the bar's), --saves N and --gets N (store
 * bench: measured saves and gets per kind, default 200 and 500; peers bench: saves per system), --patterns N (store
 * and peers benches: patterns in the synthetic store, default 10 000), --log-records N (decisions-log bench
 * and bar: records in the long log, default 30 000; the short one has a hundredth), --state-keys N
 * (state-large bench and bar: keys of 1 KB in the state, default 9 000), --event-log-mb N (event-log
 * bench: megabytes of event log written before the start, default 100), --calls N (mcp bench:
 * measured tool calls per scenario and path, default 500), --sync-patterns N (sync bench: patterns changed on
 * both sides of a sync through a git remote, default 1 000), --daemon-cpu-prof DIR (run
 * every daemon under `node --cpu-prof`; its figures are then not representative),
 * --keep-homes (schedule, burst, store and bar benches: leave their temporary homes, with daemon.log, in place),
 * --store-cache DIR (store bench: generate the synthetic store once per pattern count in DIR and copy it on
 * later runs; 100 000 patterns take minutes to generate and commit).
 * The select bench scores select on the labelled tasks of bench/select-eval and times its ranking at --patterns patterns, in process.
 * The bar bench runs the burst, decisions-log and state-large loads side by side on one daemon.
 * The peers bench sets patternd beside BullMQ on a local redis-server (skipped when Debian's
 * redis-server is not installed) and beside a shell script's git commands.
 */
import { cpus, loadavg, release } from "node:os";
import { parseArgs } from "node:util";
import { formatBarBench, runBarBench } from "./bar.js";
import { formatBurstBench, runBurstBench } from "./burst.js";
import { formatDecisionsLogBench, runDecisionsLogBench } from "./decisions-log.js";
import { formatEmitBench, runEmitBench } from "./emit.js";
import { formatEventLogBench, runEventLogBench } from "./event-log.js";
import { formatHandlerBench, runHandlerBench } from "./handler.js";
import { formatMcpBench, runMcpBench } from "./mcp.js";
import { formatNatsBench, runNatsBench } from "./nats.js";
import { formatPeersBench, runPeersBench } from "./peers.js";
import { formatScheduleBench, runScheduleBench } from "./schedule.js";
import { formatSelectBench, runSelectBench } from "./select-bench.js";
import { formatSocketBench, runSocketBench } from "./socket.js";
import { formatStateLargeBench, runStateLargeBench } from "./state-large.js";
import { formatStoreBench, runStoreBench } from "./store.js";
import { formatSyncBench, runSyncBench } from "./sync.js";

interface Settings {
  requests: number;
  rounds: number;
  warmup: number;
  schedules: number;
  burst: number;
  saves: number;
  gets: number;
  patterns: number;
  logRecords: number;
  stateKeys: number;
  eventLogMb: number;
  calls: number;
  syncPatterns: number;
  daemonCpuProfDir: string | undefined;
  keepHome: boolean;
  storeCache: string | undefined;
  progress: (text: string) => void;
}

interface Bench {
  run(settings: Settings): Promise<{ clean: boolean }>;
  format(result: { clean: boolean }): string;
}

/** A row of the table: each bench's format takes what its own run returned. */
function bench<Result extends { clean: boolean }>(run: (settings: Settings) => Promise<Result>, format: (result: Result) => string): Bench {
  return { run, format: (result) => format(result as Result) };
}

/** Every benchmark, in the order a full run takes them; a new one is one row here. */
const BENCHES = {
  socket: bench((s) => runSocketBench({ requests: s.requests, rounds: s.rounds, warmup: s.warmup, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }), formatSocketBench),
  schedule: bench(
    (s) =>
      runScheduleBench({ count: s.schedules, window: 256, connections: 1, fireFromS: 20, fireToS: 35, restarts: s.rounds, daemonCpuProfDir: s.daemonCpuProfDir, keepHome: s.keepHome, progress: s.progress }),
    formatScheduleBench,
  ),
  burst: bench(
    (s) => runBurstBench({ count: s.burst, window: 256, pingEveryMs: 10, leadMs: 8_000, daemonCpuProfDir: s.daemonCpuProfDir, keepHome: s.keepHome, progress: s.progress }),
    formatBurstBench,
  ),
  emit: bench((s) => runEmitBench({ requests: s.requests, rounds: s.rounds, warmup: s.warmup, subscribers: 4, depth: 64, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }), formatEmitBench),
  store: bench(
    (s) =>
      runStoreBench({
        saves: s.saves,
        gets: s.gets,
        warmup: 20,
        patterns: s.patterns,
        starts: 3,
        listCalls: 20,
        daemonCpuProfDir: s.daemonCpuProfDir,
        keepHome: s.keepHome,
        storeCacheDir: s.storeCache,
        progress: s.progress,
      }),
    formatStoreBench,
  ),
  select: bench((s) => runSelectBench({ patterns: s.patterns, queries: 2_000, progress: s.progress }), formatSelectBench),
  handler: bench((s) => runHandlerBench({ requests: s.requests, rounds: s.rounds, warmup: s.warmup, depths: [16, 64, 256], daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }), formatHandlerBench),
  "decisions-log": bench((s) => runDecisionsLogBench({ records: s.logRecords, calls: 100, warmup: 10, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }), formatDecisionsLogBench),
  "state-large": bench(
    (s) => runStateLargeBench({ keys: s.stateKeys, sets: 300, warmup: 20, compactionSets: 60_000, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }),
    formatStateLargeBench,
  ),
  bar: bench(
    (s) =>
      runBarBench({
        burst: s.burst,
        logRecords: s.logRecords,
        stateKeys: s.stateKeys,
        window: 256,
        pingEveryMs: 10,
        leadMs: 15_000,
        warmupMs: 1_000,
        daemonCpuProfDir: s.daemonCpuProfDir,
        keepHome: s.keepHome,
        progress: s.progress,
      }),
    formatBarBench,
  ),
  "event-log": bench(
    (s) => runEventLogBench({ megabytes: s.eventLogMb, days: 8, calls: 200, warmup: 20, starts: 3, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }),
    formatEventLogBench,
  ),
  sync: bench((s) => runSyncBench({ patterns: s.syncPatterns, daemonCpuProfDir: s.daemonCpuProfDir, keepHome: s.keepHome, progress: s.progress }), formatSyncBench),
  mcp: bench((s) => runMcpBench({ calls: s.calls, warmup: 50, daemonCpuProfDir: s.daemonCpuProfDir, progress: s.progress }), formatMcpBench),
  // Issue 19: a handler's call made on another daemon, through a local nats-server, against the same call made locally.
  nats: bench((s) => runNatsBench({ requests: s.requests, rounds: s.rounds, warmup: s.warmup, progress: s.progress }), formatNatsBench),
  // The fire window opens at +25 s for all three: BullMQ with appendfsync always took 21 s here to take 100 000 jobs on a busy machine.
  peers: bench(
    (s) =>
      runPeersBench({
        count: s.schedules,
        window: 256,
        concurrency: 256,
        fireFromS: 25,
        fireToS: 40,
        saves: s.saves,
        warmup: 20,
        patterns: s.patterns,
        daemonCpuProfDir: s.daemonCpuProfDir,
        keepHome: s.keepHome,
        progress: s.progress,
      }),
    formatPeersBench,
  ),
} satisfies Record<string, Bench>;

type BenchName = keyof typeof BENCHES;
const NAMES = Object.keys(BENCHES) as BenchName[];

const USAGE =
  `usage: node dist/bench/run.js [--json] [--only ${NAMES.join(",")}] [--requests N] [--rounds N] [--warmup N] ` +
  "[--schedules N] [--burst N] [--saves N] [--gets N] [--patterns N] [--log-records N] [--state-keys N] [--event-log-mb N] [--calls N] [--sync-patterns N] [--daemon-cpu-prof DIR] [--keep-homes] [--store-cache DIR]";

function machine() {
  const all = cpus();
  return {
    cpu: all[0]?.model.trim() ?? "unknown",
    cores: all.length,
    node: process.version,
    os: `${process.platform} ${release()}`,
    /** 1-minute load average when the run started: other work on the machine skews every figure. */
    load_1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}

function positiveInt(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

function benchList(text: string | undefined): BenchName[] {
  if (text === undefined) return NAMES;
  const names = text.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!Object.hasOwn(BENCHES, name)) throw new Error(`--only takes ${NAMES.join(", ")} (comma-separated), got ${name}`);
  }
  return NAMES.filter((name) => names.includes(name));
}

function parseSettings(json: boolean): { json: boolean; only: BenchName[]; settings: Settings } {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      only: { type: "string" },
      requests: { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      schedules: { type: "string" },
      burst: { type: "string" },
      saves: { type: "string" },
      gets: { type: "string" },
      patterns: { type: "string" },
      "log-records": { type: "string" },
      "state-keys": { type: "string" },
      "event-log-mb": { type: "string" },
      calls: { type: "string" },
      "sync-patterns": { type: "string" },
      "daemon-cpu-prof": { type: "string" },
      "keep-homes": { type: "boolean", default: false },
      "store-cache": { type: "string" },
    },
    strict: true,
  });
  return {
    json: values.json || json,
    only: benchList(values.only),
    settings: {
      requests: positiveInt(values.requests, 20_000, "requests"),
      rounds: positiveInt(values.rounds, 5, "rounds"),
      warmup: positiveInt(values.warmup, 5_000, "warmup"),
      schedules: positiveInt(values.schedules, 100_000, "schedules"),
      burst: positiveInt(values.burst, 50_000, "burst"),
      saves: positiveInt(values.saves, 200, "saves"),
      gets: positiveInt(values.gets, 500, "gets"),
      patterns: positiveInt(values.patterns, 10_000, "patterns"),
      logRecords: positiveInt(values["log-records"], 30_000, "log-records"),
      stateKeys: positiveInt(values["state-keys"], 9_000, "state-keys"),
      eventLogMb: positiveInt(values["event-log-mb"], 100, "event-log-mb"),
      calls: positiveInt(values.calls, 500, "calls"),
      syncPatterns: positiveInt(values["sync-patterns"], 1_000, "sync-patterns"),
      daemonCpuProfDir: values["daemon-cpu-prof"],
      keepHome: values["keep-homes"],
      storeCache: values["store-cache"],
      progress: (text) => process.stderr.write(`  … ${text}\n`),
    },
  };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseSettings(false);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { json, only, settings } = parsed;
  const say = (text: string) => (json ? process.stderr : process.stdout).write(text + "\n");

  const host = machine();
  say(`machine: ${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.os}`);
  say(`load average (1 min) at start: ${host.load_1m}; the load generator, echo server and daemon share these cores\n`);

  const results: Partial<Record<BenchName, { clean: boolean }>> = {};
  for (const name of only) {
    if (Object.keys(results).length > 0) say("");
    const entry = BENCHES[name];
    const result = await entry.run(settings);
    results[name] = result;
    say(entry.format(result));
  }

  if (json) process.stdout.write(JSON.stringify({ machine: host, ...results }, null, 2) + "\n");
  if (Object.values(results).some((result) => !result.clean)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
