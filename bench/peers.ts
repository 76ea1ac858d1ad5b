/**
 * patternd and its peers, measured side by side in one run:
 *
 * (a) delayed jobs: `count` delayed `event:emit {at}` on a daemon (the
 *     schedule bench's code, bench/schedule-fire.ts), then the same jobs
 *     through BullMQ on a local Redis with `appendfsync always` and with
 *     `everysec` (bench/peer-bullmq.ts): acks/s and fire lateness, the
 *     same fire window and spread for all three;
 * (b) saves: a new version of one pattern per change, `composition:save`
 *     (the store bench's update series) against a person's script doing
 *     write + git add + git commit + git tag (bench/peer-git-shell.ts), on
 *     the starter store and on a synthetic store of `patterns` patterns;
 *     each runs on the same store, the daemon first, then (daemon
 *     stopped) the script.
 *
 * Ratios are patternd ÷ peer: above 1 for acks/s and below 1 for lateness
 * and save latency mean patternd is ahead.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atLeast, atMost, DAEMON_MAIN, round, startChild, stopChild, table, thousands, type Child, type Target } from "./common.js";
import { bullmqMissing, runBullmq, type AppendFsync, type BullmqRun, type BullmqVersions } from "./peer-bullmq.js";
import { shellSaveSeries } from "./peer-git-shell.js";
import { scheduleAndWatch, type FireStats, type ScheduleRun } from "./schedule-fire.js";
import type { Series } from "./series.js";
import { connect, generateStore, updateSeries, waitHealth } from "./store.js";

export interface PeersBenchOptions {
  /** Delayed jobs per system. */
  count: number;
  /** Requests (patternd) or queue.add calls (BullMQ) in flight. */
  window: number;
  /** BullMQ worker concurrency. */
  concurrency: number;
  fireFromS: number;
  fireToS: number;
  /** Measured saves per system on the starter store (a quarter, at least 20, on the synthetic one). */
  saves: number;
  warmup: number;
  /** Patterns in the synthetic store. */
  patterns: number;
  daemonCpuProfDir?: string | undefined;
  keepHome?: boolean;
  progress?: (line: string) => void;
}

export interface DelayedSide {
  system: string;
  run: ScheduleRun;
  fire: FireStats;
}

export interface SavesComparison {
  store: string;
  patterns: number;
  patternd: Series;
  shell: Series;
  /** patternd ÷ shell. */
  p50_ratio: number;
  p99_ratio: number;
}

export interface PeersBenchResult {
  count: number;
  window: number;
  fire_from_s: number;
  fire_to_s: number;
  delayed: {
    patternd: DelayedSide;
    /** null when skipped. */
    bullmq: (BullmqRun & DelayedSide)[] | null;
    skipped: string | null;
    versions: BullmqVersions | null;
    /** patternd ÷ BullMQ, per appendfsync policy. */
    ratios: { fsync: AppendFsync; acks: number; lateness_p99: number }[];
  };
  saves: SavesComparison[];
  targets: Target[];
  exit: string;
  clean: boolean;
  profiled: boolean;
}

const POLICIES: AppendFsync[] = ["always", "everysec"];
const START_TIMEOUT_MS = 180_000;

export async function runPeersBench(options: PeersBenchOptions): Promise<PeersBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const base = await mkdtemp(join(tmpdir(), "patternd-bench-peers-"));
  const running = new Set<Child>();
  const exits: string[] = [];
  const start = async (home: string, store?: string): Promise<Child> => {
    const prof = options.daemonCpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", options.daemonCpuProfDir];
    const child = startChild("daemon", [...prof, DAEMON_MAIN, "--home", home, ...(store === undefined ? [] : ["--store", store])]);
    running.add(child);
    await waitHealth(child, socketOf(home), START_TIMEOUT_MS);
    return child;
  };
  const stop = async (child: Child): Promise<void> => {
    const how = await stopChild(child);
    running.delete(child);
    if (how !== "exit 0") throw new Error(`daemon did not stop cleanly on SIGTERM: ${how}`);
    exits.push(how);
  };
  try {
    // ------------------------------------------------ (a) delayed jobs
    const home = join(base, "home-delayed");
    const daemon = await start(home);
    const mine = await scheduleAndWatch(home, socketOf(home), daemon, { ...options, connections: 1 }, (line) => progress(`peers: ${line}`));
    await stop(daemon);
    const patternd: DelayedSide = { system: "patternd event:emit {at}", run: mine.run, fire: mine.fire };

    const skipped = await bullmqMissing();
    let bullmq: (BullmqRun & DelayedSide)[] | null = null;
    let versions: BullmqVersions | null = null;
    if (skipped === null) {
      bullmq = [];
      for (const fsync of POLICIES) {
        const run = await runBullmq({ ...options, dir: join(base, `redis-${fsync}`), fsync, progress });
        versions = run.versions;
        exits.push(run.exit === "exit 0" ? run.exit : `redis-server (${fsync}) ${run.exit}`);
        bullmq.push({ ...run, system: `BullMQ ${run.versions.bullmq}, Redis ${run.versions.redis}, appendfsync ${fsync}` });
      }
    } else {
      progress(`peers: BullMQ skipped: ${skipped}`);
    }
    const ratios = (bullmq ?? []).map((peer) => ({
      fsync: peer.fsync,
      acks: round(patternd.run.acks_per_s / peer.run.acks_per_s, 3),
      lateness_p99: round(patternd.fire.p99_ms / peer.fire.p99_ms, 4),
    }));

    // ------------------------------------------------ (b) saves
    const saves: SavesComparison[] = [];
    const compare = async (label: string, home: string, store: string | undefined, count: number, warmup: number) => {
      const child = await start(home, store);
      const conn = await connect(socketOf(home));
      const health = await conn.request(`{"event":"system:health","id":1}\n`);
      const patterns = Number((health.data?.store as { patterns?: unknown } | undefined)?.patterns);
      progress(`peers: ${count} saves on the ${label} (${thousands(patterns)} patterns): composition:save, then the shell script`);
      const mineSeries = await updateSeries(conn, child, "peers", count, warmup);
      await conn.close();
      await stop(child);
      const shell = await shellSaveSeries(store ?? join(home, "var", "lib", "compositions"), "shell", count, warmup);
      saves.push({
        store: label,
        patterns,
        patternd: { ...mineSeries, label: "patternd: composition:save (new version)" },
        shell,
        p50_ratio: round(mineSeries.p50_ms / shell.p50_ms, 3),
        p99_ratio: round(mineSeries.p99_ms / shell.p99_ms, 3),
      });
    };
    await compare("starter store", join(base, "home-saves"), undefined, options.saves, options.warmup);
    progress(`peers: generating a git store of ${thousands(options.patterns)} patterns`);
    const storeDir = join(base, "synthetic-store");
    await generateStore(storeDir, options.patterns);
    await compare(`synthetic store`, join(base, "home-synthetic"), storeDir, Math.max(20, Math.round(options.saves / 4)), Math.min(options.warmup, 5));

    const exit = exits.find((how) => how !== "exit 0") ?? "exit 0";
    return {
      count: options.count,
      window: options.window,
      fire_from_s: options.fireFromS,
      fire_to_s: options.fireToS,
      delayed: { patternd, bullmq, skipped, versions, ratios },
      saves,
      targets: [
        ...ratios.flatMap((r) => [
          atLeast(`delayed acks/s, patternd ÷ BullMQ (appendfsync ${r.fsync})`, r.acks, 1),
          atMost(`fire lateness p99, patternd ÷ BullMQ (appendfsync ${r.fsync})`, r.lateness_p99, 1),
        ]),
        ...saves.map((s) => atMost(`save p50, patternd ÷ shell git (${s.store}, ${thousands(s.patterns)} patterns)`, s.p50_ratio, 1)),
      ],
      exit,
      clean: exit === "exit 0",
      profiled: options.daemonCpuProfDir !== undefined,
    };
  } finally {
    for (const child of running) child.process.kill("SIGKILL");
    if (options.keepHome === true) progress(`peers: temporary homes and stores kept under ${base}`);
    else await rm(base, { recursive: true, force: true });
  }
}

function socketOf(home: string): string {
  return join(home, "var", "run", "patternd.sock");
}

// ---------------------------------------------------------------- report

export function formatPeersBench(result: PeersBenchResult): string {
  const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
  const ratio = (value: number) => (!Number.isFinite(value) ? "n/a" : `×${value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)}`);
  const { delayed } = result;
  const sides: DelayedSide[] = [delayed.patternd, ...(delayed.bullmq ?? [])];
  const delayedTable = table(
    ["system", "acks/s", "ack p50", "ack p99", "server CPU/job", "received", "lateness p50", "p99", "p99.9", "max", "margin", "server CPU in window", "load (1 min)"],
    sides.map((side) => [
      side.system,
      thousands(side.run.acks_per_s),
      ms(side.run.ack_p50_ms),
      ms(side.run.ack_p99_ms),
      side.run.daemon_cpu_us_per_schedule === null ? "n/a" : `${side.run.daemon_cpu_us_per_schedule.toFixed(1)} µs`,
      `${thousands(side.fire.received)} / ${thousands(side.fire.expected)}`,
      ms(side.fire.p50_ms),
      ms(side.fire.p99_ms),
      ms(side.fire.p999_ms),
      ms(side.fire.max_ms),
      `${(side.fire.margin_ms / 1000).toFixed(1)} s`,
      side.fire.daemon_cpu_share === null ? "n/a" : `${Math.round(side.fire.daemon_cpu_share * 100)}%`,
      `${side.fire.load_1m_before.toFixed(2)} → ${side.fire.load_1m_after.toFixed(2)}`,
    ]),
  );
  const workers = (delayed.bullmq ?? []).map((peer) => `${peer.fsync}: ${Math.round(peer.worker_cpu_share * 100)}% of a core`).join(", ");
  const overran = sides.filter((side) => side.fire.margin_ms < 0).map((side) => side.system);
  const short = sides.filter((side) => side.fire.received < side.fire.expected).map((side) => side.system);
  const delayedLines =
    delayed.bullmq === null
      ? [...delayedTable, `BullMQ: skipped: ${delayed.skipped}`]
      : [
          ...delayedTable,
          `BullMQ worker (in the bench process, concurrency ${delayed.bullmq[0]?.concurrency}) CPU in the window: ${workers}`,
          ...delayed.ratios.map((r) => `patternd ÷ BullMQ (appendfsync ${r.fsync}): acks/s ${ratio(r.acks)}, lateness p99 ${ratio(r.lateness_p99)}`),
        ];
  const seriesRows = result.saves.flatMap((s) =>
    [s.patternd, s.shell].map((x) => [
      x === s.patternd ? `${s.store} (${thousands(s.patterns)})` : "",
      x.label,
      thousands(x.count),
      x.per_s.toFixed(1),
      ms(x.p50_ms),
      ms(x.p99_ms),
      ms(x.max_ms),
      x.daemon_cpu_ms_per_op === null ? "—" : ms(x.daemon_cpu_ms_per_op),
      x.git_cpu_ms_per_op === null ? "n/a" : ms(x.git_cpu_ms_per_op),
    ]),
  );
  const savesTable = table(["store (patterns)", "saves, one at a time", "count", "ops/s", "p50", "p99", "max", "daemon CPU/op", "git CPU/op"], seriesRows, 2);
  const bound = (t: Target) => (t.max !== undefined ? `≤ ×${t.max}` : `≥ ×${t.min}`);
  return [
    `peers: delayed jobs, ${thousands(result.count)} per system, ${result.window} in flight, due uniformly over +${result.fire_from_s}…+${result.fire_to_s} s ` +
      `(${thousands(result.count / (result.fire_to_s - result.fire_from_s))}/s) in the same seeded order;\n` +
      `lateness = arrival at the subscriber (patternd) or in the worker (BullMQ) − the due time the system acknowledged (fire_at; job timestamp + delay); ` +
      `margin = scheduling end → first due time (negative: they overlapped)` +
      (result.profiled ? "\n(daemon under --cpu-prof: its figures are not representative)" : ""),
    ...delayedLines,
    ...(overran.length > 0 ? [`WARNING: scheduling overran the first due time for ${overran.join(", ")}: their lateness includes scheduling load`] : []),
    ...(short.length > 0 ? [`WARNING: not every job arrived within the wait for ${short.join(", ")}: their lateness covers only those that did`] : []),
    "",
    `peers: saves, a new version of one pattern per change; patternd = composition:save on one connection (write → reply); ` +
      `shell = a script's write + git add + git commit + git tag\n(spawned git processes, one after another; git CPU = those processes), on the same store after the daemon stopped`,
    ...savesTable,
    ...result.saves.map((s) => `patternd ÷ shell (${s.store}): p50 ${ratio(s.p50_ratio)}, p99 ${ratio(s.p99_ratio)}`),
    "",
    "targets (patternd ahead of both peers):",
    ...result.targets.map((t) => `  ${t.met ? "met   " : "MISSED"}  ${t.name} = ${ratio(t.value)} (target ${bound(t)})`),
    `stopped: every daemon (SIGTERM)${delayed.bullmq === null ? "" : " and redis-server"} ${result.exit}${result.clean ? "" : "  <-- not clean"}`,
  ].join("\n");
}
