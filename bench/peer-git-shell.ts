/**
 * The saves peer: what a person's script does to keep patterns versioned in
 * git without the daemon. Per change: write the file, `git add`, `git
 * commit`, `git tag <name>@<version>`, each a spawned git process with its
 * arguments (no shell), one after the other, as the script would run them.
 *
 * It saves the same documents as the store bench's update series (one
 * pattern, each change a new patch version with new performance figures and
 * a new variable default), timed from the start of the write to the end of
 * `git tag`.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { percentile, round } from "./common.js";
import { childCpuMs, type Series } from "./series.js";
import { git, updatedDocument, updateTarget } from "./store.js";

/**
 * On the git repository `store`: creates the update target of `tag` (one
 * commit and tag, unmeasured), then `warmup` unmeasured and `count`
 * measured changes of it. Checks the store is clean and holds every tag after.
 */
export async function shellSaveSeries(store: string, tag: string, count: number, warmup: number): Promise<Series> {
  const { name, doc } = updateTarget(tag);
  const path = join("orchestrations", `${name}.yaml`);
  let version = String(doc.version);
  const save = async (document: Record<string, unknown>, message: string) => {
    await writeFile(join(store, path), stringify(document));
    await git(store, ["add", "--", path]);
    await git(store, ["commit", "-q", "-m", message]);
    await git(store, ["tag", `${name}@${version}`]);
  };
  await save(doc, `add ${name}`);
  let n = 0;
  const change = async () => {
    n++;
    version = nextPatch(version);
    await save(updatedDocument(doc, n, version), `${name}: update ${n}`);
  };
  for (let k = 0; k < warmup; k++) await change();

  const latencies = new Float64Array(count);
  const gitBefore = childCpuMs(process.pid);
  const started = performance.now();
  for (let k = 0; k < count; k++) {
    const begun = performance.now();
    await change();
    latencies[k] = performance.now() - begun;
  }
  const wallMs = performance.now() - started;
  const gitAfter = childCpuMs(process.pid);

  const dirty = (await git(store, ["status", "--porcelain"])).trim();
  if (dirty !== "") throw new Error(`shell saves left the store dirty: ${dirty.slice(0, 300)}`);
  const tags = (await git(store, ["tag", "--list", `${name}@*`])).split("\n").filter((line) => line !== "").length;
  if (tags !== 1 + warmup + count) throw new Error(`shell saves made ${tags} tags of ${name}, expected ${1 + warmup + count}`);

  latencies.sort();
  return {
    label: "shell: write + git add + commit + tag",
    count,
    wall_ms: Math.round(wallMs),
    per_s: round((count / wallMs) * 1000, 1),
    p50_ms: round(percentile(latencies, 0.5), 2),
    p99_ms: round(percentile(latencies, 0.99), 2),
    max_ms: round(latencies[count - 1]!, 2),
    daemon_cpu_ms_per_op: null,
    git_cpu_ms_per_op: gitBefore === null || gitAfter === null ? null : round((gitAfter - gitBefore) / count, 2),
  };
}

/** 1.2.3 → 1.2.4 (what the daemon does to a save that sends the current version back). */
function nextPatch(version: string): string {
  const [major, minor, patch] = version.split(".").map(Number);
  return `${major}.${minor}.${patch! + 1}`;
}
