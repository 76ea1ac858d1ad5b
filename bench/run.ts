/**
 * `npm run bench`: prints the machine, then runs every benchmark in turn
 * (socket, schedule, emit, store, handler, decisions-log, state-large), each against its own daemon in a temporary home.
 * Options: --json (one JSON object on stdout, progress on stderr),
 * --only LIST (comma-separated: socket, schedule, emit, store, handler, decisions-log, state-large),
 * --requests N, --rounds N and --warmup N (socket, emit and handler benches; --rounds also
 * sets the restarts of the schedule bench), --schedules N (schedule bench, default
 * 100 000, the daemon's bound on pending schedules), --saves N and --gets N (store
 * bench: measured saves and gets per kind, default 200 and 500), --patterns N (store
 * bench: patterns in the synthetic store, default 10 000), --log-records N (decisions-log bench:
 * records in the long log, default 30 000; the short one has a hundredth), --state-keys N (state-large
 * bench: keys of 1 KB in the state, default 9 000), --daemon-cpu-prof DIR (run
 * every daemon under `node --cpu-prof`; its figures are then not representative),
 * --keep-homes (schedule and store benches: leave their temporary homes, with daemon.log, in place).
 */
import { cpus, loadavg, release } from "node:os";
import { parseArgs } from "node:util";
import { formatEmitBench, runEmitBench, type EmitBenchResult } from "./emit.js";
import { formatDecisionsLogBench, runDecisionsLogBench, type DecisionsLogBenchResult } from "./decisions-log.js";
import { formatHandlerBench, runHandlerBench, type HandlerBenchResult } from "./handler.js";
import { formatScheduleBench, runScheduleBench, type ScheduleBenchResult } from "./schedule.js";
import { formatSocketBench, runSocketBench, type SocketBenchResult } from "./socket.js";
import { formatStateLargeBench, runStateLargeBench, type StateLargeBenchResult } from "./state-large.js";
import { formatStoreBench, runStoreBench, type StoreBenchResult } from "./store.js";

const BENCHES = ["socket", "schedule", "emit", "store", "handler", "decisions-log", "state-large"] as const;
type BenchName = (typeof BENCHES)[number];

const USAGE =
  "usage: node dist/bench/run.js [--json] [--only socket,schedule,emit,store,handler,decisions-log,state-large] [--requests N] [--rounds N] [--warmup N] " +
  "[--schedules N] [--saves N] [--gets N] [--patterns N] [--log-records N] [--state-keys N] [--daemon-cpu-prof DIR] [--keep-homes]";

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
  if (text === undefined) return [...BENCHES];
  const names = text.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!(BENCHES as readonly string[]).includes(name)) throw new Error(`--only takes ${BENCHES.join(", ")} (comma-separated), got ${name}`);
  }
  return BENCHES.filter((name) => names.includes(name));
}

async function main(): Promise<void> {
  let values;
  let only: BenchName[];
  let requests: number, rounds: number, warmup: number, schedules: number, saves: number, gets: number, patterns: number, logRecords: number, stateKeys: number;
  try {
    ({ values } = parseArgs({
      options: {
        json: { type: "boolean", default: false },
        only: { type: "string" },
        requests: { type: "string" },
        rounds: { type: "string" },
        warmup: { type: "string" },
        schedules: { type: "string" },
        saves: { type: "string" },
        gets: { type: "string" },
        patterns: { type: "string" },
        "log-records": { type: "string" },
        "state-keys": { type: "string" },
        "daemon-cpu-prof": { type: "string" },
        "keep-homes": { type: "boolean", default: false },
      },
      strict: true,
    }));
    only = benchList(values.only);
    requests = positiveInt(values.requests, 20_000, "requests");
    rounds = positiveInt(values.rounds, 5, "rounds");
    warmup = positiveInt(values.warmup, 5_000, "warmup");
    schedules = positiveInt(values.schedules, 100_000, "schedules");
    saves = positiveInt(values.saves, 200, "saves");
    gets = positiveInt(values.gets, 500, "gets");
    patterns = positiveInt(values.patterns, 10_000, "patterns");
    logRecords = positiveInt(values["log-records"], 30_000, "log-records");
    stateKeys = positiveInt(values["state-keys"], 9_000, "state-keys");
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const json = values.json;
  const say = (text: string) => (json ? process.stderr : process.stdout).write(text + "\n");
  const progress = (text: string) => process.stderr.write(`  … ${text}\n`);
  const daemonCpuProfDir = values["daemon-cpu-prof"];

  const host = machine();
  say(`machine: ${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.os}`);
  say(`load average (1 min) at start: ${host.load_1m}; the load generator, echo server and daemon share these cores\n`);

  const results: {
    socket?: SocketBenchResult;
    schedule?: ScheduleBenchResult;
    emit?: EmitBenchResult;
    store?: StoreBenchResult;
    handler?: HandlerBenchResult;
    "decisions-log"?: DecisionsLogBenchResult;
    "state-large"?: StateLargeBenchResult;
  } = {};
  if (only.includes("socket")) {
    results.socket = await runSocketBench({ requests, rounds, warmup, daemonCpuProfDir, progress });
    say(formatSocketBench(results.socket));
  }
  if (only.includes("schedule")) {
    if (results.socket !== undefined) say("");
    results.schedule = await runScheduleBench({
      count: schedules,
      window: 256,
      connections: 1,
      fireFromS: 20,
      fireToS: 35,
      restarts: rounds,
      daemonCpuProfDir,
      keepHome: values["keep-homes"],
      progress,
    });
    say(formatScheduleBench(results.schedule));
  }
  if (only.includes("emit")) {
    if (results.socket !== undefined || results.schedule !== undefined) say("");
    results.emit = await runEmitBench({ requests, rounds, warmup, subscribers: 4, depth: 64, daemonCpuProfDir, progress });
    say(formatEmitBench(results.emit));
  }
  if (only.includes("store")) {
    if (Object.keys(results).length > 0) say("");
    results.store = await runStoreBench({
      saves,
      gets,
      warmup: 20,
      patterns,
      starts: 3,
      listCalls: 20,
      daemonCpuProfDir,
      keepHome: values["keep-homes"],
      progress,
    });
    say(formatStoreBench(results.store));
  }
  if (only.includes("handler")) {
    if (Object.keys(results).length > 0) say("");
    results.handler = await runHandlerBench({ requests, rounds, warmup, depths: [16, 64, 256], daemonCpuProfDir, progress });
    say(formatHandlerBench(results.handler));
  }
  if (only.includes("decisions-log")) {
    if (Object.keys(results).length > 0) say("");
    results["decisions-log"] = await runDecisionsLogBench({ records: logRecords, calls: 100, warmup: 10, daemonCpuProfDir, progress });
    say(formatDecisionsLogBench(results["decisions-log"]));
  }
  if (only.includes("state-large")) {
    if (Object.keys(results).length > 0) say("");
    results["state-large"] = await runStateLargeBench({ keys: stateKeys, sets: 300, warmup: 20, compactionSets: 60_000, daemonCpuProfDir, progress });
    say(formatStateLargeBench(results["state-large"]));
  }

  if (json) process.stdout.write(JSON.stringify({ machine: host, ...results }, null, 2) + "\n");
  if (Object.values(results).some((result) => !result.clean)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
