/**
 * Pattern evolution series, run by the store bench on its seeded daemon:
 *
 * - composition:fork: `count` forks, round robin over ten parents of the
 *   generator's size (each fork also rewrites its parent's `forks` list, so
 *   a parent ends with count/10 entries); every reply names a new commit.
 * - composition:merge of a 200-line pattern: the fork's strategy gets one
 *   line changed (a save, not measured), then the merge back is measured;
 *   each merge must be clean, bring exactly that change and bump the
 *   target's minor version.
 * - composition:diff: structural diff of the 200-line pattern and its fork
 *   (both current: index only), of two tagged versions (read from git), and
 *   the unified diff of the latter.
 */
import { parse as parseYaml } from "yaml";
import { percentile, round, type Child, type LineConnection, type Reply } from "./common.js";
import { COMMIT, requestRaw, sequential, type Series } from "./series.js";
import { patternYaml } from "./patterns.js";

const STRATEGY_LINES = 170;

export async function evolutionSeries(conn: LineConnection, daemon: Child, count: number, warmup: number): Promise<Series[]> {
  const commits = new Set<string>();
  const newCommit = (reply: Reply, what: string) => {
    const commit = reply.data?.commit;
    if (typeof commit !== "string" || !COMMIT.test(commit) || commits.has(commit)) throw new Error(`${what}: no new commit: ${JSON.stringify(reply).slice(0, 300)}`);
    commits.add(commit);
  };
  const send = async (event: string, data: Record<string, unknown>): Promise<Reply> => {
    const { reply } = await requestRaw(conn, JSON.stringify({ event, id: 0, data }) + "\n");
    if (reply.ok !== true) throw new Error(`${event}: ${JSON.stringify(reply).slice(0, 400)}`);
    return reply;
  };

  // ---- fork
  const parents = Array.from({ length: 10 }, (_, i) => `bench_evo_parent_${i}`);
  for (const [i, name] of parents.entries()) await send("composition:save", { composition: parseYaml(patternYaml(name, 3_000_000 + i)) as Record<string, unknown> });
  const forkName = (k: number) => `bench_evo_fork_${k}`;
  const forkLine = (k: number, id: number) =>
    JSON.stringify({
      event: "composition:fork",
      id,
      data: { parent: parents[k % parents.length], name: forkName(k), reason: `bench fork ${k}`, modifications: { "metadata.bench_round": k } },
    }) + "\n";
  const forkCheck = (k: number) => (reply: Reply) => {
    if (reply.data?.name !== forkName(k) || reply.data.version !== "0.1.0") throw new Error(`fork ${k}: ${JSON.stringify(reply).slice(0, 300)}`);
    newCommit(reply, `fork ${k}`);
  };
  await sequential(conn, daemon, "warm-up", warmup, (k) => forkLine(count + k, k), (reply, k) => forkCheck(count + k)(reply));
  const forks = await sequential(conn, daemon, "fork (2.7 KB parent, + its forks entry)", count, (k) => forkLine(k, k), (reply, k) => forkCheck(k)(reply));

  // ---- merge of a 200-line pattern
  const big = parseYaml(patternYaml("bench_evo_big", 4_000_000)) as Record<string, unknown>;
  const strategyLines = Array.from({ length: STRATEGY_LINES }, (_, i) => `${i + 1}. EMIT step_${i + 1} with the round's candidates; TRACK what it decided`);
  big.orchestration_logic = { description: "A long strategy", strategy: strategyLines.join("\n") + "\n" };
  const bigVersion = String((await send("composition:save", { composition: big })).data?.version);
  const bigText = (await send("composition:get", { name: "bench_evo_big", format: "yaml" })).data?.yaml as string;
  const bigLines = bigText.split("\n").length;
  await send("composition:fork", { parent: "bench_evo_big", name: "bench_evo_big_fork", reason: "bench merges" });
  let targetVersion = "";
  const merges = Math.max(10, Math.round(count / 4));
  const editFork = async (k: number) => {
    const fork = (await send("composition:get", { name: "bench_evo_big_fork" })).data?.composition as Record<string, unknown>;
    const lines = strategyLines.slice();
    lines[k % STRATEGY_LINES] = `${(k % STRATEGY_LINES) + 1}. EMIT step_${(k % STRATEGY_LINES) + 1}, revised in bench round ${k}`;
    await send("composition:save", { composition: { ...fork, orchestration_logic: { description: "A long strategy", strategy: lines.join("\n") + "\n" } } });
  };
  const mergeRound = async (label: string, rounds: number, offset: number): Promise<Series> => {
    const latencies: Series[] = [];
    for (let k = 0; k < rounds; k++) {
      await editFork(offset + k);
      latencies.push(
        await sequential(conn, daemon, label, 1, (id) => JSON.stringify({ event: "composition:merge", id, data: { source: "bench_evo_big_fork" } }) + "\n", (reply) => {
          const changes = reply.data?.changes as { path: string }[] | undefined;
          if (reply.data?.merged !== true || changes?.length !== 1 || changes[0]!.path !== "orchestration_logic.strategy") {
            throw new Error(`merge ${k}: ${JSON.stringify(reply).slice(0, 400)}`);
          }
          const version = String(reply.data.version);
          if (version === targetVersion) throw new Error(`merge ${k}: version did not move from ${targetVersion}`);
          targetVersion = version;
          newCommit(reply, `merge ${k}`);
        }),
      );
    }
    return combine(label, latencies);
  };
  await mergeRound("warm-up", Math.min(warmup, 5), 1000);
  const merged = await mergeRound(`merge (${bigLines}-line pattern, one strategy line changed)`, merges, 0);

  // ---- diff
  const diffs = Math.max(20, count);
  const bigVersions = [`bench_evo_big@${bigVersion}`, `bench_evo_big@${targetVersion}`];
  const diffSeries = async (label: string, data: Record<string, unknown>, check: (reply: Reply) => boolean): Promise<Series> => {
    const line = (id: number) => JSON.stringify({ event: "composition:diff", id, data }) + "\n";
    const verify = (reply: Reply) => {
      if (!check(reply)) throw new Error(`${label}: ${JSON.stringify(reply).slice(0, 300)}`);
    };
    await sequential(conn, daemon, "warm-up", warmup, line, verify);
    return sequential(conn, daemon, label, diffs, line, verify);
  };
  const hasChanges = (reply: Reply) => Array.isArray(reply.data?.changes) && reply.data.changes.length > 0;
  const diffCurrent = await diffSeries("diff: pattern vs its fork (current)", { left: "bench_evo_big", right: "bench_evo_big_fork" }, hasChanges);
  const diffTagged = await diffSeries("diff: two tagged versions (git)", { left: bigVersions[0], right: bigVersions[1] }, hasChanges);
  const diffUnified = await diffSeries("diff: the same, unified", { left: bigVersions[0], right: bigVersions[1], format: "unified" }, (reply) =>
    String(reply.data?.unified).includes("@@"),
  );
  return [forks, merged, diffCurrent, diffTagged, diffUnified];
}

/** One series from single-request series (each merge is preceded by an unmeasured save). */
function combine(label: string, parts: Series[]): Series {
  const latencies = parts.map((p) => p.p50_ms).sort((a, b) => a - b);
  const wall = parts.reduce((sum, p) => sum + p.wall_ms, 0);
  const cpu = (pick: (p: Series) => number | null) => (parts.some((p) => pick(p) === null) ? null : parts.reduce((sum, p) => sum + pick(p)!, 0) / parts.length);
  const sorted = Float64Array.from(latencies);
  return {
    label,
    count: parts.length,
    wall_ms: wall,
    per_s: Math.round((parts.length / Math.max(wall, 1)) * 10_000) / 10,
    p50_ms: round(percentile(sorted, 0.5), 2),
    p99_ms: round(percentile(sorted, 0.99), 2),
    max_ms: latencies[latencies.length - 1]!,
    daemon_cpu_ms_per_op: cpu((p) => p.daemon_cpu_ms_per_op),
    git_cpu_ms_per_op: cpu((p) => p.git_cpu_ms_per_op),
  };
}
