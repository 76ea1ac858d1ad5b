/**
 * Sync through a git remote (issue 19): two daemons on two homes share a
 * bare remote. Both start from the same `patterns` patterns (made on one,
 * synced to the other), then each changes every one of them in a different
 * field, so each is a real 3-way merge, and each side makes the same
 * versions (every tag collides and is renamed). Measured: the wall time of
 * the second side's one composition:sync (fetch, merge, commit, tags,
 * push), then of the first side's fast-forward. Each reply is checked:
 * every pattern merged, no conflict, every collision renamed.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parse as parseYaml } from "yaml";
import { Client } from "../client/client.js";
import { round, startDaemon, stopChild, table, type Child } from "./common.js";
import { patternYaml, syntheticName } from "./patterns.js";

export interface SyncBenchOptions {
  /** Patterns changed on both sides. */
  patterns: number;
  daemonCpuProfDir?: string | undefined;
  keepHome?: boolean | undefined;
  progress?: (line: string) => void;
}

export interface SyncBenchResult {
  clean: boolean;
  patterns: number;
  /** The merging side's sync: fetch + merge of every pattern + commit + tags + push. */
  merge_ms: number;
  merged: number;
  renamed_tags: number;
  /** The other side's sync afterwards: fetch + fast-forward of the same. */
  fast_forward_ms: number;
  problems: string[];
}

interface SyncReply {
  applied: boolean;
  fast_forward: boolean;
  merged: unknown[];
  renamed_tags: unknown[];
  conflicts: unknown[];
  pushed_branch: boolean;
}

export async function runSyncBench(options: SyncBenchOptions): Promise<SyncBenchResult> {
  const say = options.progress ?? (() => undefined);
  const root = await mkdtemp(join(tmpdir(), "pd-bench-sync-"));
  const remote = join(root, "remote.git");
  execFileSync("git", ["init", "--quiet", "--bare", remote]);
  const daemons: Child[] = [];
  const clients: Client[] = [];
  const problems: string[] = [];
  try {
    const [a, b] = await Promise.all(
      ["a", "b"].map(async (side) => {
        const home = join(root, side);
        const child = startDaemon(home, options.daemonCpuProfDir, `daemon ${side}`);
        daemons.push(child);
        const client = await connectWhenUp(join(home, "var", "run", "patternd.sock"));
        clients.push(client);
        await client.request("composition:remote", { action: "add", name: "origin", url: remote });
        return client;
      }),
    );
    const names = Array.from({ length: options.patterns }, (_, i) => syntheticName(i));
    say(`sync: ${names.length} patterns made on one side, synced to the other`);
    await Promise.all(names.map((name, i) => a!.request("composition:save", { composition: parseYaml(patternYaml(name, 7_000_000 + i)) as Record<string, unknown> })));
    await a!.request("composition:sync", { remote: "origin" });
    await b!.request("composition:sync", { remote: "origin" });
    await a!.request("composition:sync", { remote: "origin" });
    say(`sync: every pattern changed on both sides (a different field each)`);
    await Promise.all([
      Promise.all(names.map((name, i) => a!.request("composition:update", { name, set: { "metadata.bench_side_a": i } }))),
      Promise.all(names.map((name, i) => b!.request("composition:update", { name, set: { "metadata.bench_side_b": i } }))),
    ]);
    await a!.request("composition:sync", { remote: "origin" });
    say("sync: measuring the merging side's sync");
    let started = performance.now();
    const merge = await b!.request<SyncReply>("composition:sync", { remote: "origin" }, { timeoutMs: 600_000 });
    const mergeMs = performance.now() - started;
    if (merge.conflicts.length > 0) problems.push(`${merge.conflicts.length} conflicts`);
    if (merge.merged.length !== names.length) problems.push(`merged ${merge.merged.length} of ${names.length}`);
    if (merge.renamed_tags.length !== names.length) problems.push(`renamed ${merge.renamed_tags.length} tags of ${names.length}`);
    if (!merge.pushed_branch) problems.push("the merge was not pushed");
    started = performance.now();
    const ff = await a!.request<SyncReply>("composition:sync", { remote: "origin" }, { timeoutMs: 600_000 });
    const ffMs = performance.now() - started;
    if (!ff.fast_forward || !ff.applied) problems.push("the other side did not fast-forward");
    return { clean: problems.length === 0, patterns: names.length, merge_ms: round(mergeMs, 0), merged: merge.merged.length, renamed_tags: merge.renamed_tags.length, fast_forward_ms: round(ffMs, 0), problems };
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const child of daemons) await stopChild(child);
    if (options.keepHome !== true) await rm(root, { recursive: true, force: true });
    else say(`sync: homes kept in ${root}`);
  }
}

/** A client once the daemon answers (it seeds its store first). */
async function connectWhenUp(socketPath: string): Promise<Client> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const client = await Client.connect({ socketPath, timeoutMs: 600_000 });
      await client.request("system:health", {});
      return client;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export function formatSyncBench(r: SyncBenchResult): string {
  const lines = [
    `sync through a git remote: ${r.patterns} patterns changed on both sides (every one a 3-way merge, every tag a collision)`,
    ...table(
      ["what", "wall ms", "per pattern ms"],
      [
        [`pull + merge + push (${r.merged} merged, ${r.renamed_tags} tags renamed)`, String(r.merge_ms), String(round(r.merge_ms / r.patterns, 2))],
        ["the other side: fetch + fast-forward", String(r.fast_forward_ms), String(round(r.fast_forward_ms / r.patterns, 2))],
      ],
    ),
  ];
  if (r.problems.length > 0) lines.push(`PROBLEMS: ${r.problems.join("; ")}`);
  return lines.join("\n");
}
