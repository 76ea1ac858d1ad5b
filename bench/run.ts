/**
 * `npm run bench`: prints the machine, then runs every benchmark in turn.
 * Options: --json (one JSON object on stdout, progress on stderr),
 * --requests N, --rounds N and --warmup N (socket bench), --daemon-cpu-prof DIR (run
 * the daemon under `node --cpu-prof`; its figures are then not representative).
 */
import { cpus, loadavg, release } from "node:os";
import { parseArgs } from "node:util";
import { formatSocketBench, runSocketBench } from "./socket.js";

const USAGE = "usage: node dist/bench/run.js [--json] [--requests N] [--rounds N] [--warmup N] [--daemon-cpu-prof DIR]";

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

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        json: { type: "boolean", default: false },
        requests: { type: "string" },
        rounds: { type: "string" },
        warmup: { type: "string" },
        "daemon-cpu-prof": { type: "string" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const json = values.json;
  const say = (text: string) => (json ? process.stderr : process.stdout).write(text + "\n");
  const progress = (text: string) => process.stderr.write(`  … ${text}\n`);

  const host = machine();
  say(`machine: ${host.cpu}, ${host.cores} cores, Node ${host.node}, ${host.os}`);
  say(`load average (1 min) at start: ${host.load_1m}; the load generator, echo server and daemon share these cores\n`);

  const socket = await runSocketBench({
    requests: positiveInt(values.requests, 20_000, "requests"),
    rounds: positiveInt(values.rounds, 5, "rounds"),
    warmup: positiveInt(values.warmup, 5_000, "warmup"),
    daemonCpuProfDir: values["daemon-cpu-prof"],
    progress,
  });
  say(formatSocketBench(socket));

  if (json) process.stdout.write(JSON.stringify({ machine: host, socket }, null, 2) + "\n");
  if (!socket.clean) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
