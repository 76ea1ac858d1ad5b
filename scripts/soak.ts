/**
 * Whole-system fault test (SPEC §6). Several clients at once save, fork,
 * merge, append decisions, emit delayed events (some keyed, cancelled or
 * replaced) and subscribe to their firings while the daemon is SIGKILLed at
 * random moments and restarted on the same home (sometimes killed again
 * during its start-up). Then a protocol fuzz run hammers the socket while a
 * well-formed client must keep being served and memory must stay bounded.
 * After a settle period and a clean stop, every invariant is checked
 * against what the clients were acknowledged: git fsck, nothing left
 * uncommitted, every YAML file parses, every acknowledged mutation tagged
 * in git as answered, every acknowledged schedule fired exactly once, no
 * decision record lost or duplicated, the index equal to the files.
 * After the kills, while the clients go on, the home's disk fills up for a
 * while (the home is a tmpfs of its own when run as root; elsewhere this
 * phase is skipped): writes are then refused as `unavailable` (counted, not
 * failures), nothing acknowledged may be lost, and writes must be taken
 * again once it is freed, without a restart.
 *
 *   npm run soak -- --seconds 120 --kills 5 [--clients 4] [--fuzz-seconds 20] [--seed S]
 *                   [--startup-kill-chance 0.3] [--kill-group] [--disk-full-seconds 3] [--disk-mib 256]
 *                   [--home DIR] [--keep] [--json] [--quiet]
 *
 * The seed fixes every random choice (each worker's operations, the kill
 * plan, the fuzz messages); timing still varies between runs, so a replay
 * with the same seed reproduces the same workload, not the same
 * interleaving. Exits 1 when an invariant fails (the home is then kept).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, listPages, type Client } from "../client/index.js";
import {
  checkCommitted,
  checkDecisionQueries,
  checkDecisions,
  checkFsck,
  checkIndex,
  checkMutations,
  checkSchedules,
  checkTags,
  checkYaml,
  invariant,
  storeFiles,
  type InvariantResult,
} from "./soak/check.js";
import { DaemonRunner } from "./soak/daemon.js";
import { HomeDisk } from "./soak/disk.js";
import { daemonLogProblems } from "./soak/store.js";
import { Fuzzer, type FuzzResult } from "./soak/fuzz.js";
import { asRecord, Ledger, Rng, sleep, subSeed, within } from "./soak/ledger.js";
import { formatCounts, formatSummary } from "./soak/summary.js";
import { parentStrategy, Subscriber, Worker, type WorkerContext } from "./soak/workers.js";

export { formatSummary };

export interface SoakOptions {
  /** Length of the phase with clients and kills. */
  seconds: number;
  /** SIGKILLs spread over that phase (more happen when a restart is killed during its start-up). */
  kills: number;
  clients: number;
  /** Length of the protocol fuzz phase (0: none). */
  fuzzSeconds: number;
  seed: number;
  /** The daemon's home; a fresh temporary one when omitted (removed after a passing run). */
  home?: string;
  log?: (line: string) => void;
  /** Chance that a restart is itself killed at a random moment of its start-up (default 0.3). */
  startupKillChance?: number;
  /** Kill the daemon's process group (its running git commands too), not only the daemon (default false). */
  killGroup?: boolean;
  /** Keep a temporary home even when the run passes. */
  keepHome?: boolean;
  /** RSS growth over the fuzz phase that fails the run, in MiB (default 150). */
  maxRssGrowthMiB?: number;
  /** How long the home's disk stays full after the kills (default 3; 0: no disk-full phase). Needs root. */
  diskFullSeconds?: number;
  /** Size of the tmpfs the home is on for that phase, in MiB (default 256). */
  diskMiB?: number;
}

export interface SoakSummary {
  ok: boolean;
  seed: number;
  home: string;
  homeKept: boolean;
  seconds: number;
  wallSeconds: number;
  clients: number;
  kills: number;
  startupKills: number;
  restarts: number;
  restartMs: { median: number | null; max: number | null };
  acknowledged: Record<string, number>;
  unknown: Record<string, number>;
  mergeConflicts: number;
  schedules: { emitted: number; firings: number; unverifiable: number; latenessP50Ms: number | null; latenessMaxMs: number | null };
  decisions: { enabled: boolean; acknowledged: number; unknown: number };
  pushes: number;
  fuzz: FuzzResult | null;
  /** The disk-full phase: skipped (and why), or how much was filled, for how long, and the writes refused meanwhile. */
  diskFull: { skipped: string | null; filledMiB: number; seconds: number; refused: Record<string, number>; acknowledgedAfter: number };
  /** Daemon RSS before and after the fuzz phase, at the end, and once a second during the fuzz. */
  rssMiB: { beforeFuzz: number | null; afterFuzz: number | null; end: number | null; samples: number[] };
  stops: { code: number | null; signal: string | null; ms: number }[];
  /** What the daemons logged at error and warn level (informational: failures show in the invariants). */
  daemonLog: { errors: Record<string, number>; warnings: Record<string, number> };
  invariants: InvariantResult[];
}

const PARENTS = 3;
const REQUEST_TIMEOUT_MS = 20_000;

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const log = options.log ?? (() => undefined);
  const began = Date.now();
  const home = options.home ?? (await makeTempHome());
  const runner = new DaemonRunner(home, log, options.killGroup === true);
  const ledger = new Ledger();
  const plan = new Rng(subSeed(options.seed, 1_000));
  const invariants: InvariantResult[] = [];
  const stops: SoakSummary["stops"] = [];
  const rss: SoakSummary["rssMiB"] = { beforeFuzz: null, afterFuzz: null, end: null, samples: [] };
  let fuzz: FuzzResult | null = null;
  let kills = 0;
  let startupKills = 0;
  let decisionsEnabled = false;
  let scheduleStats = { firings: 0, unverifiable: 0, latenessP50Ms: null as number | null, latenessMaxMs: null as number | null };
  const subscribers: Subscriber[] = [];
  let subscribersStopping = false;
  const subscriberRuns: Promise<void>[] = [];
  const diskFullSeconds = options.diskFullSeconds ?? 3;
  const disk = diskFullSeconds > 0 ? HomeDisk.mount(home, options.diskMiB ?? 256) : "no disk-full phase asked for";
  const diskFull: SoakSummary["diskFull"] = { skipped: typeof disk === "string" ? disk : null, filledMiB: 0, seconds: 0, refused: ledger.refused, acknowledgedAfter: 0 };
  if (typeof disk === "string" && diskFullSeconds > 0) log(`soak: disk-full phase skipped: ${disk}`);

  try {
    // ---------------------------------------------------------------- start and shared patterns
    log(
      `soak: home ${home}, seed ${options.seed}, ${options.clients} clients, ${options.seconds} s with ${options.kills} kills` +
        `${options.killGroup === true ? " (of the whole process group)" : ""}, ${options.fuzzSeconds} s fuzz`,
    );
    await runner.start();
    const runTag = `s${options.seed}`;
    const parents = Array.from({ length: PARENTS }, (_, i) => `soak_parent_${i}`);
    {
      const admin = await adminClient(runner.socketPath);
      for (const name of parents) {
        const token = `${runTag}-setup-${name}`;
        const saved = await admin.request<{ version: string; commit: string }>("composition:save", {
          composition: {
            name,
            type: "orchestration",
            version: "1.0.0",
            description: "Shared parent of the soak: forked and merged by every worker",
            metadata: { tags: ["soak"], soak_token: token },
            orchestration_logic: { description: "soak", strategy: parentStrategy(options.clients) },
          },
          message: `soak setup ${name}`,
        });
        ledger.addMutation({ kind: "save", worker: -1, name, version: saved.version, commit: saved.commit, path: `orchestrations/${name}.yaml`, expect: { token } });
      }
      decisionsEnabled = (await admin.send("system:help", { event: "composition:track_decision" })).ok;
      if (!decisionsEnabled) log("soak: composition:track_decision is not available in this daemon; decision appends are skipped");
      await admin.close();
    }
    const ctx: WorkerContext = {
      socketPath: runner.socketPath,
      ledger,
      parents,
      decisionPatterns: [parents[0]!, parents[1]!, "tournament"],
      decisionsEnabled,
      runTag,
    };

    // ---------------------------------------------------------------- clients and kills
    for (let i = 0; i < options.clients; i++) {
      const subscriber = new Subscriber(i, ctx);
      subscribers.push(subscriber);
      subscriberRuns.push(subscriber.run(() => subscribersStopping));
    }
    await within(Promise.all(subscribers.map((s) => s.ready)), 10_000);
    const chaosStart = Date.now();
    const chaosEnd = chaosStart + options.seconds * 1000;
    let killsDone = options.kills === 0;
    let diskDone = false;
    // Set from the kill loop (a daemon that cannot be restarted); a holder, as the compiler cannot see closures assign.
    const abort: { error: Error | null } = { error: null };
    const stopWorkers = () => abort.error !== null || (killsDone && diskDone && Date.now() >= chaosEnd);
    const workers = Array.from({ length: options.clients }, (_, i) => new Worker(i, new Rng(subSeed(options.seed, i)), ctx));
    const workerRuns = workers.map((w) => w.run(stopWorkers));
    const killLoop = (async () => {
      const slot = (options.seconds * 1000) / Math.max(1, options.kills);
      for (let k = 0; k < options.kills; k++) {
        const target = Math.max(chaosStart + slot * (k + 0.15 + 0.7 * plan.float()), runner.healthyAt + 1_000);
        await sleep(target - Date.now());
        const pid = runner.pid;
        await runner.kill();
        kills++;
        const startupKill = plan.chance(options.startupKillChance ?? 0.3) ? plan.int(50, 450) : undefined;
        log(`kill ${kills}/${options.kills}: SIGKILL pid ${pid} at ${((Date.now() - chaosStart) / 1000).toFixed(1)} s; restarting${startupKill === undefined ? "" : ` (and killing it again ${startupKill} ms into its start-up)`}`);
        await runner.start(startupKill === undefined ? {} : { startupKillAfterMs: startupKill });
        if (startupKill !== undefined) startupKills++;
        log(`  pid ${runner.pid} answering after ${runner.restartMs[runner.restartMs.length - 1]} ms`);
      }
      killsDone = true;
    })().catch((err: unknown) => {
      // A daemon that cannot be restarted ends the run (the workers stop reconnecting).
      abort.error = err instanceof Error ? err : new Error(String(err));
    });
    await killLoop;
    if (disk instanceof HomeDisk && abort.error === null) {
      // While the clients go on: the disk fills up, stays full a while, and is freed; the daemon is not restarted.
      await sleep(runner.healthyAt + 500 - Date.now());
      ledger.diskFull = true;
      const filledAt = Date.now();
      diskFull.filledMiB = Math.round(disk.fill() / 1024 / 1024);
      log(`disk full: ${diskFull.filledMiB} MiB filler on the home's tmpfs; holding ${diskFullSeconds} s`);
      await sleep(diskFullSeconds * 1000);
      disk.free();
      diskFull.seconds = Math.round((Date.now() - filledAt) / 100) / 10;
      const acknowledgedAtFree = total(ledger.acknowledged);
      // Replies to requests sent while it was full may still say so; after that, every write must go through again.
      await sleep(500);
      ledger.diskFull = false;
      await sleep(1_000);
      diskFull.acknowledgedAfter = total(ledger.acknowledged) - acknowledgedAtFree;
      log(`disk freed: ${formatCounts(ledger.refused) || "no"} writes refused meanwhile; ${diskFull.acknowledgedAfter} acknowledged since`);
    }
    diskDone = true;
    await Promise.all(workerRuns);
    if (abort.error !== null) throw abort.error;
    log(`clients done after ${((Date.now() - chaosStart) / 1000).toFixed(1)} s: ${formatCounts(ledger.acknowledged)} acknowledged, ${formatCounts(ledger.unknown) || "none"} unknown`);

    // ---------------------------------------------------------------- protocol fuzz
    if (options.fuzzSeconds > 0) {
      rss.beforeFuzz = mib(runner.rssKiB());
      log(`fuzz: ${options.fuzzSeconds} s, RSS before ${rss.beforeFuzz} MiB`);
      const oversized = options.fuzzSeconds >= 20 ? 2 : 1;
      const sampler = setInterval(() => {
        const now = mib(runner.rssKiB());
        if (now !== null) rss.samples.push(now);
      }, 1_000);
      try {
        fuzz = await new Fuzzer(runner.socketPath, subSeed(options.seed, 2_000), log).run(options.fuzzSeconds, 4, oversized);
      } finally {
        clearInterval(sampler);
      }
      rss.afterFuzz = mib(runner.rssKiB());
      log(`fuzz done: ${fuzz.lines} lines, ${fuzz.replies} replies checked, RSS after ${rss.afterFuzz} MiB`);
    }

    // ---------------------------------------------------------------- settle, live checks, clean stop
    const lastDue = Math.max(0, ...[...ledger.emits.values()].map((e) => e.fireAt ?? e.latestFireAt));
    await sleep(Math.max(lastDue + 1_500, Date.now() + 1_200) - Date.now());
    let pendingLive: unknown;
    {
      const admin = await adminClient(runner.socketPath);
      const listed = await listedAll(admin);
      pendingLive = (await admin.request<{ total?: number }>("event:scheduled", { event: "soak:**" })).total;
      invariants.push(checkIndex("index matches the files (running daemon)", listed, await storeFiles(runner.storeDir)));
      rss.end = mib(runner.rssKiB());
      await admin.close();
    }
    subscribersStopping = true;
    await Promise.all(subscribers.map((s) => s.shutdown()));
    await within(Promise.all(subscriberRuns), 5_000);
    stops.push(await runner.stop());
    log(`clean stop: exit ${stops[0]!.code} after ${stops[0]!.ms} ms; checking`);

    // ---------------------------------------------------------------- offline checks
    const store = runner.storeDir;
    const files = await storeFiles(store);
    invariants.push(await checkFsck(store));
    invariants.push(await checkCommitted(store, ledger));
    invariants.push(checkYaml(files));
    invariants.push(await checkTags(store));
    invariants.push(await checkMutations(store, ledger, files));
    const schedules = await checkSchedules(home, ledger, runner.incarnations);
    invariants.push(...schedules.results);
    scheduleStats = schedules.stats;
    invariants.push(await checkDecisions(store, ledger, files, decisionsEnabled));

    // ---------------------------------------------------------------- a last restart: the index, reload, nothing pending
    await runner.start();
    {
      const admin = await adminClient(runner.socketPath);
      const listed = await listedAll(admin);
      const reload = asRecord(await admin.request("composition:reload"));
      const pendingAfter = (await admin.request<{ total?: number }>("event:scheduled", { event: "soak:**" })).total;
      invariants.push(checkIndex("index matches the files after a restart; composition:reload finds no invalid file", listed, await storeFiles(store), reload.invalid));
      const pendingFailures = [pendingLive, pendingAfter].some((n) => n !== 0) ? [`soak schedules pending after the settle period: ${String(pendingLive)} (running), ${String(pendingAfter)} (after a restart)`] : [];
      invariants.push(invariant("no soak schedule left pending", ledger.emits.size, "event:scheduled soak:** before the stop and after the restart", pendingFailures));
      const answers = [];
      if (decisionsEnabled) {
        for (const file of files.filter((f) => f.path.endsWith("_decisions.yaml"))) {
          const pattern = basename(file.path, "_decisions.yaml");
          answers.push({ pattern, file: file.path, reply: await admin.request("composition:decisions", { pattern, limit: 1000 }) });
        }
      }
      invariants.push(checkDecisionQueries(answers, files, decisionsEnabled));
      await admin.close();
    }
    stops.push(await runner.stop());
    const afterRestart = await checkCommitted(store, ledger);
    if (!afterRestart.ok) invariants.push({ ...afterRestart, name: `${afterRestart.name} (after the last restart)` });

    // ---------------------------------------------------------------- process-level invariants
    invariants.push(
      invariant(
        "SIGTERM stops cleanly (exit 0)",
        stops.length,
        stops.map((s) => `exit ${s.code} in ${s.ms} ms`).join(", "),
        stops.filter((s) => s.code !== 0).map((s) => `stop ended with code ${s.code}, signal ${s.signal}`),
      ),
    );
    invariants.push(
      invariant(
        "every request answered as SPEC §2 says (no unexpected error, no timeout)",
        Object.values(ledger.acknowledged).reduce((a, b) => a + b, 0),
        `${ledger.mergeConflicts} merge_conflict answers (legitimate)`,
        [...ledger.unexpected, ...ledger.timeouts],
      ),
    );
    if (disk instanceof HomeDisk) {
      invariants.push(
        invariant(
          "a full disk: the daemon stayed up, writes refused as unavailable/no_space (counted), taken again once freed without a restart",
          total(ledger.refused) + diskFull.acknowledgedAfter,
          `${diskFull.filledMiB} MiB filled for ${diskFull.seconds} s; refused: ${formatCounts(ledger.refused) || "none"}; ${diskFull.acknowledgedAfter} acknowledged after the free`,
          diskFull.acknowledgedAfter === 0 ? ["no write was acknowledged after the disk was freed"] : [],
        ),
      );
    }
    if (fuzz !== null) {
      const missing = fuzz.expected - fuzz.replies;
      invariants.push(
        invariant(
          "fuzz: every line answered in order with JSON and a known code (never internal); too_large closes",
          fuzz.expected + fuzz.tooLarge.sent,
          `${fuzz.lines} lines, ${fuzz.replies} replies (${fuzz.okReplies} ok; ${formatCounts(fuzz.byCode)}), ${fuzz.pushes} pushes, ` +
            `${fuzz.halfLinesClosed} half lines closed, too_large ${fuzz.tooLarge.answered}/${fuzz.tooLarge.sent} answered and closed ${fuzz.tooLarge.closed}`,
          [...fuzz.problems.filter((p) => !p.startsWith("well-formed")), ...(missing > 0 && fuzz.problems.length === 0 ? [`${missing} lines unanswered`] : [])],
        ),
      );
      invariants.push(
        invariant(
          "fuzz: a well-formed client kept being served",
          fuzz.wellFormed.requests,
          `${fuzz.wellFormed.ok}/${fuzz.wellFormed.requests} ok, slowest ${fuzz.wellFormed.maxMs.toFixed(1)} ms`,
          fuzz.problems.filter((p) => p.startsWith("well-formed")).concat(fuzz.wellFormed.ok < fuzz.wellFormed.requests && fuzz.problems.length === 0 ? ["not every reply was ok"] : []),
        ),
      );
      const limit = options.maxRssGrowthMiB ?? 150;
      const growth = rss.beforeFuzz === null || rss.afterFuzz === null ? null : rss.afterFuzz - rss.beforeFuzz;
      invariants.push(
        invariant(
          `memory bounded under fuzz (RSS growth ≤ ${limit} MiB)`,
          3,
          `RSS ${rss.beforeFuzz} MiB before, ${rss.afterFuzz} MiB after, ${rss.end} MiB at the end`,
          growth === null ? ["RSS could not be read"] : growth > limit ? [`RSS grew by ${growth} MiB`] : [],
        ),
      );
    }
  } catch (err) {
    invariants.push(invariant("the soak ran to its end", 1, "", [(err as Error).stack ?? String(err), `daemon stderr: ${runner.stderr().trim().slice(0, 2000)}`]));
  } finally {
    subscribersStopping = true;
    await Promise.all(subscribers.map((s) => s.shutdown().catch(() => undefined)));
    await runner.dispose();
  }
  invariants.push(
    invariant(
      "every restart after SIGKILL succeeded; no daemon died on its own",
      runner.incarnations.length,
      `${runner.incarnations.length} daemon processes`,
      [...runner.failedStarts, ...runner.unexpectedExits],
    ),
  );

  const daemonLog = await daemonLogProblems(home);
  const ok = invariants.every((i) => i.ok);
  const homeKept = options.home === undefined && (!ok || options.keepHome === true);
  // A home given by the caller is theirs to keep, like a failed run's: what the tmpfs held is copied back.
  if (disk instanceof HomeDisk) disk.unmount(options.home !== undefined || homeKept);
  if (options.home === undefined && !homeKept) await rm(home, { recursive: true, force: true });
  const restartMs = [...runner.restartMs].sort((a, b) => a - b);
  return {
    ok,
    seed: options.seed,
    home,
    homeKept,
    seconds: options.seconds,
    wallSeconds: Math.round((Date.now() - began) / 100) / 10,
    clients: options.clients,
    kills: kills + startupKills,
    startupKills,
    restarts: runner.incarnations.length - 1,
    restartMs: { median: restartMs[Math.floor(restartMs.length / 2)] ?? null, max: restartMs[restartMs.length - 1] ?? null },
    acknowledged: { ...ledger.acknowledged },
    unknown: { ...ledger.unknown },
    mergeConflicts: ledger.mergeConflicts,
    schedules: { emitted: ledger.emits.size, ...scheduleStats },
    decisions: {
      enabled: decisionsEnabled,
      acknowledged: ledger.decisions.filter((d) => d.status === "acked").length,
      unknown: ledger.decisions.filter((d) => d.status === "unknown").length,
    },
    pushes: ledger.pushCount,
    fuzz,
    diskFull,
    rssMiB: rss,
    stops,
    daemonLog,
    invariants,
  };
}

/** Every pattern composition:list gives, page after page, as one reply would have held them. */
async function listedAll(client: Client): Promise<{ compositions: unknown[] }> {
  const compositions: unknown[] = [];
  for await (const page of listPages(client)) compositions.push(...page.compositions);
  return { compositions };
}

async function adminClient(socketPath: string): Promise<Client> {
  return connect({ socketPath, agentId: "soak_admin", timeoutMs: REQUEST_TIMEOUT_MS });
}

/** A short temporary home: the socket path under it must stay within the ~107-byte limit. */
async function makeTempHome(): Promise<string> {
  let base = tmpdir();
  if (Buffer.byteLength(join(base, "soak-XXXXXX", "var", "run", "patternd.sock")) > 100) base = "/tmp";
  return mkdtemp(join(base, "soak-"));
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function mib(kib: number | null): number | null {
  return kib === null ? null : Math.round(kib / 1024);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "120" },
      kills: { type: "string", default: "5" },
      clients: { type: "string", default: "4" },
      "fuzz-seconds": { type: "string" },
      seed: { type: "string" },
      "startup-kill-chance": { type: "string" },
      "kill-group": { type: "boolean", default: false },
      "disk-full-seconds": { type: "string" },
      "disk-mib": { type: "string" },
      home: { type: "string" },
      keep: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  });
  const number = (name: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
      process.stderr.write(`soak: --${name} must be a number ≥ 0, not ${text}\n`);
      process.exit(2);
    }
    return value;
  };
  const seconds = number("seconds", values.seconds, 120);
  const summary = await runSoak({
    seconds,
    kills: Math.round(number("kills", values.kills, 5)),
    clients: Math.max(1, Math.round(number("clients", values.clients, 4))),
    fuzzSeconds: number("fuzz-seconds", values["fuzz-seconds"], Math.min(20, Math.max(3, Math.round(seconds / 6)))),
    seed: Math.round(number("seed", values.seed, Date.now() % 1_000_000)),
    ...(values["startup-kill-chance"] === undefined ? {} : { startupKillChance: number("startup-kill-chance", values["startup-kill-chance"], 0.3) }),
    ...(values.home === undefined ? {} : { home: resolve(values.home) }),
    ...(values["disk-full-seconds"] === undefined ? {} : { diskFullSeconds: number("disk-full-seconds", values["disk-full-seconds"], 3) }),
    ...(values["disk-mib"] === undefined ? {} : { diskMiB: Math.max(8, Math.round(number("disk-mib", values["disk-mib"], 256))) }),
    keepHome: values.keep,
    killGroup: values["kill-group"],
    log: values.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
  process.exitCode = summary.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}


