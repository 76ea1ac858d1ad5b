/**
 * The delayed-jobs peer: BullMQ on a local Redis (Debian's `redis-server`),
 * measured the way the schedule bench measures `event:emit {at}`.
 *
 * Each run starts its own redis-server on a temporary dir, on a unix
 * socket only (`--port 0`), AOF on (`appendonly yes`, no RDB snapshots),
 * with `appendfsync always` (each write fsync'd before its reply: what
 * patternd does before an ack) or `everysec` (as users run it). Then:
 *
 * 1. acks: `count` `queue.add` calls (data `{n}`, `delay` so that the job
 *    is due at t0 + its offset, `removeOnComplete`), `window` in flight,
 *    each awaited: acks/s and ack latency (call → resolved);
 * 2. fire lateness: a Worker (started before the adds, like the schedule
 *    bench's subscriber) stamps each job; lateness = arrival − the job's
 *    own due time (`timestamp + delay`, both passed to queue.add, so the
 *    due time is exactly the one asked). Every n must arrive exactly once
 *    within the wait.
 *
 * The due times are spread over the same window, in the same seeded order,
 * as the schedule bench's (`spread`), and the lateness statistics are the
 * same code (`fireStats`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createConnection } from "node:net";
import { loadavg } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { epochOffset, percentile, processCpuNs, round, thousands } from "./common.js";
import { fireStats, sleep, spread, type Arrivals, type FireStats, type FireWindow, type ScheduleRun } from "./schedule-fire.js";

export type AppendFsync = "always" | "everysec";

export interface BullmqRunOptions extends FireWindow {
  /** A fresh directory for this run's Redis (AOF files and socket). */
  dir: string;
  fsync: AppendFsync;
  count: number;
  /** queue.add calls in flight. */
  window: number;
  /** Jobs the worker processes at once. */
  concurrency: number;
  progress: (line: string) => void;
}

export interface BullmqRun {
  fsync: AppendFsync;
  run: ScheduleRun;
  /** daemon_cpu_share is redis-server's; the worker runs in the bench process (worker_cpu_share). */
  fire: FireStats;
  worker_cpu_share: number;
  concurrency: number;
  /** How redis-server ended on SIGTERM ("exit 0" when clean). */
  exit: string;
}

/** BullMQ and Redis versions, for the report. */
export interface BullmqVersions {
  bullmq: string;
  redis: string;
}

const QUEUE = "patternd-bench";
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 30_000;
/** BullMQ may fall behind the fire rate; its backlog gets this long after the last due time. */
const FIRE_TIMEOUT_AFTER_LAST_MS = 60_000;

/** The redis-server on PATH, or null. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Why BullMQ cannot be measured here, or null when it can. */
export async function bullmqMissing(): Promise<string | null> {
  if (findRedisServer() === null) return "redis-server not installed (apt-get install redis-server)";
  try {
    await import("bullmq");
    await import("ioredis");
    return null;
  } catch {
    return "bullmq/ioredis not installed (npm install: they are devDependencies)";
  }
}

export async function runBullmq(options: BullmqRunOptions): Promise<BullmqRun & { versions: BullmqVersions }> {
  const { Queue, Worker } = await import("bullmq");
  const { Redis } = await import("ioredis");
  const redis = await startRedis(options.dir, options.fsync);
  const connection = { path: redis.socket, maxRetriesPerRequest: null };
  const clients: { close(): Promise<unknown> }[] = [];
  try {
    const info = new Redis(connection);
    const serverInfo = await info.info("server");
    await info.quit();
    const versions = { bullmq: await bullmqVersion(), redis: /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? "unknown" };

    const queue = new Queue(QUEUE, { connection });
    clients.push(queue);
    await queue.waitUntilReady();
    const arrivals = new WorkerArrivals(options.count);
    const dueAt = new Float64Array(options.count);
    const worker = new Worker(
      QUEUE,
      (job) => {
        const now = performance.now();
        const n = (job.data as { n?: unknown }).n;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= options.count) throw new Error(`unexpected job data ${JSON.stringify(job.data)}`);
        arrivals.arrive(n, now);
        return Promise.resolve();
      },
      { connection, concurrency: options.concurrency },
    );
    clients.unshift(worker);
    worker.on("error", (err) => arrivals.fail(err));
    await worker.waitUntilReady();

    // 1: the adds.
    options.progress(`peers: BullMQ (appendfsync ${options.fsync}): ${thousands(options.count)} delayed jobs due in +${options.fireFromS}…+${options.fireToS} s`);
    const t0 = Date.now();
    const offsets = spread(options.count, options.fireFromS * 1000, options.fireToS * 1000);
    const latencies = new Float64Array(options.count);
    const cpuBefore = processCpuNs(redis.process.pid);
    const started = performance.now();
    await inFlight(options.count, options.window, async (n) => {
      const sent = performance.now();
      // The job's own due time is timestamp + delay (BullMQ zeroes `delay` when it promotes the job).
      const timestamp = Date.now();
      const delay = Math.max(0, t0 + offsets[n]! - timestamp);
      dueAt[n] = timestamp + delay;
      await queue.add("fire", { n }, { timestamp, delay, removeOnComplete: true, removeOnFail: true });
      latencies[n] = performance.now() - sent;
    });
    const wallMs = performance.now() - started;
    const cpuAfter = processCpuNs(redis.process.pid);
    latencies.sort();
    const run: ScheduleRun = {
      label: `BullMQ, appendfsync ${options.fsync}`,
      schedules: options.count,
      wall_ms: Math.round(wallMs),
      acks_per_s: Math.round((options.count / wallMs) * 1000),
      ack_p50_ms: round(percentile(latencies, 0.5), 2),
      ack_p99_ms: round(percentile(latencies, 0.99), 2),
      ack_max_ms: round(latencies[options.count - 1]!, 2),
      daemon_cpu_us_per_schedule: cpuBefore === null || cpuAfter === null ? null : round((cpuAfter - cpuBefore) / 1000 / options.count, 1),
    };

    // 2: the fires.
    const firstDue = t0 + options.fireFromS * 1000;
    const lastDue = t0 + options.fireToS * 1000;
    const marginMs = firstDue - Date.now();
    options.progress(`peers: BullMQ ${thousands(run.acks_per_s)} acks/s; waiting for the jobs (${Math.max(0, Math.round((lastDue - Date.now()) / 1000))} s)`);
    if (marginMs > 200) await sleep(marginMs - 200);
    const loadBefore = loadavg()[0]!;
    const redisBefore = processCpuNs(redis.process.pid);
    const workerBefore = process.cpuUsage();
    const windowStarted = performance.now();
    const offsetBefore = epochOffset();
    await arrivals.waitAll(lastDue + FIRE_TIMEOUT_AFTER_LAST_MS);
    await sleep(200);
    arrivals.throwIfFailed();
    const offsetAfter = epochOffset();
    const windowMs = performance.now() - windowStarted;
    const redisAfter = processCpuNs(redis.process.pid);
    const workerCpu = process.cpuUsage(workerBefore);
    const loadAfter = loadavg()[0]!;
    const fire = fireStats(arrivals, dueAt, firstDue, (offsetBefore + offsetAfter) / 2, {
      clock_drift_ms: round(offsetAfter - offsetBefore, 3),
      margin_ms: Math.round(marginMs),
      window_s: options.fireToS - options.fireFromS,
      load_1m_before: round(loadBefore, 2),
      load_1m_after: round(loadAfter, 2),
      daemon_cpu_share: redisBefore === null || redisAfter === null ? null : round((redisAfter - redisBefore) / 1e6 / windowMs, 3),
    });
    for (const client of clients.splice(0)) await client.close();
    return {
      fsync: options.fsync,
      run,
      fire,
      worker_cpu_share: round((workerCpu.user + workerCpu.system) / 1000 / windowMs, 3),
      concurrency: options.concurrency,
      exit: await stopRedis(redis),
      versions,
    };
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    redis.process.kill("SIGKILL");
  }
}

/** Runs `task(0 .. count-1)` with at most `window` unsettled at once; the first failure fails the lot. */
async function inFlight(count: number, window: number, task: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}

/** The worker's receipts: the same shape as the schedule bench's subscriber. */
class WorkerArrivals implements Arrivals {
  readonly seen: Uint8Array;
  readonly arrivedAt: Float64Array;
  unique = 0;
  duplicates = 0;
  private problem: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(readonly count: number) {
    this.seen = new Uint8Array(count);
    this.arrivedAt = new Float64Array(count);
  }

  arrive(n: number, now: number): void {
    if (this.seen[n] === 1) {
      this.duplicates++;
      return;
    }
    this.seen[n] = 1;
    this.arrivedAt[n] = now;
    if (++this.unique === this.count) this.wake?.();
  }

  fail(err: Error): void {
    this.problem ??= err;
    this.wake?.();
  }

  /** Until every n arrived or `deadline` (epoch ms); a worker error throws. */
  async waitAll(deadline: number): Promise<void> {
    while (this.unique < this.count && this.problem === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1_000, Math.max(1, deadline - Date.now())));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.problem !== null) throw this.problem;
  }
}

// ---------------------------------------------------------------- redis-server

interface RedisServer {
  socket: string;
  process: ChildProcess;
  exited: Promise<string>;
  output(): string;
}

/** redis-server on `dir`, unix socket only, AOF with this fsync policy and no RDB snapshots. */
async function startRedis(dir: string, fsync: AppendFsync): Promise<RedisServer> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "redis.sock");
  const settings: [string, string][] = [
    ["port", "0"],
    ["unixsocket", socket],
    ["unixsocketperm", "700"],
    ["dir", dir],
    ["appendonly", "yes"],
    ["appendfsync", fsync],
    ["save", ""],
    // BullMQ requires that Redis never evicts its keys.
    ["maxmemory-policy", "noeviction"],
    ["daemonize", "no"],
    ["logfile", ""],
  ];
  const args = settings.flatMap(([key, value]) => [`--${key}`, value]);
  const child = spawn(findRedisServer() ?? "redis-server", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (text: string) => {
    if (output.length < 64 * 1024) output += text;
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => resolve(signal === null ? `exit ${code}` : `signal ${signal}`));
    child.on("error", (err) => resolve(`spawn error: ${err.message}`));
  });
  const server = { socket, process: child, exited, output: () => output };
  const ended: { how: string | null } = { how: null };
  void exited.then((how) => (ended.how = how));
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!(await answersPing(socket))) {
    if (ended.how !== null) throw new Error(`redis-server ended before answering (${ended.how}): ${output.trim().slice(-2000)}`);
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms: ${output.trim().slice(-2000)}`);
    }
    await sleep(20);
  }
  return server;
}

function answersPing(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    conn.setEncoding("utf8");
    conn.on("error", () => done(false));
    conn.on("connect", () => conn.write("PING\r\n"));
    conn.on("data", (text: string) => done(text.startsWith("+PONG")));
  });
}

/** SIGTERM (Redis flushes and fsyncs the AOF), then how it ended. */
async function stopRedis(server: RedisServer): Promise<string> {
  server.process.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS)));
  const how = await Promise.race([server.exited, timeout]);
  clearTimeout(timer);
  if (how === "timeout") {
    server.process.kill("SIGKILL");
    return `did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed)`;
  }
  return how === "exit 0" ? how : `${how}: ${server.output().trim().slice(-500)}`;
}

async function bullmqVersion(): Promise<string> {
  try {
    const path = createRequire(import.meta.url).resolve("bullmq/package.json");
    return (JSON.parse(await readFile(path, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}
