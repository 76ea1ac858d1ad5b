/**
 * Plain git in a daemon's pattern store, run the way a person runs it (no
 * user or system config, no ambient GIT_* variables): what the end-to-end
 * tests check the store's story with.
 */
import { expect } from "vitest";

// The runner the soak reads stores with: one way to run git the way a person does.
import { git, gitRun, lines } from "../scripts/soak/store.js";
export { git, gitRun, lines, type GitResult } from "../scripts/soak/store.js";

export async function head(store: string): Promise<string> {
  return (await git(store, "rev-parse", "HEAD")).trim();
}

export async function commitCount(store: string): Promise<number> {
  return Number((await git(store, "rev-list", "--count", "HEAD")).trim());
}

/** The trailers of a commit message, parsed by git itself. */
export async function trailers(store: string, commit: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of lines(await git(store, "log", "-1", "--format=%(trailers:only,unfold)", commit))) {
    const colon = line.indexOf(": ");
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 2);
  }
  return out;
}

/** What must not move when a request is refused: HEAD, the working tree, the tags. */
export async function snapshot(store: string): Promise<{ head: string; status: string; tags: string }> {
  return {
    head: await head(store),
    status: await git(store, "status", "--porcelain", "--untracked-files=all"),
    tags: await git(store, "tag", "-l"),
  };
}

/** `git fsck --full` passes: exit 0 and nothing reported as broken. */
export async function expectFsckClean(store: string): Promise<void> {
  const fsck = await gitRun(store, ["fsck", "--full", "--no-progress"]);
  expect(fsck.code, `git fsck failed:\n${fsck.stdout}${fsck.stderr}`).toBe(0);
  expect(fsck.stdout + fsck.stderr).not.toMatch(/error|missing|broken|corrupt|bad /i);
}


/**
 * One truth in the store (issue 24): `git status` is clean, and every
 * pattern's version has its tag, naming a commit whose file holds that
 * version. Patterns are the `.yaml` files HEAD holds with a top-level
 * `name` and `version` (decision logs have none). `versions`, when given,
 * must be what the daemon serves (name → version), each one tagged.
 */
export async function expectStoreTruth(store: string, versions?: Record<string, string>): Promise<void> {
  expect(await git(store, "status", "--porcelain", "--untracked-files=all"), `git status in ${store}`).toBe("");
  const tags = new Set(lines(await git(store, "tag", "-l")));
  const served = new Map(Object.entries(versions ?? {}));
  for (const path of lines(await git(store, "ls-tree", "-r", "--name-only", "HEAD")).filter((p) => p.endsWith(".yaml"))) {
    const text = await git(store, "show", `HEAD:${path}`);
    const name = /^name: *"?([a-z0-9][a-z0-9_-]*)"? *$/m.exec(text)?.[1];
    const version = /^version: *"?([0-9][^"\s]*)"? *$/m.exec(text)?.[1];
    if (name === undefined || version === undefined) continue;
    if (served.has(name)) expect(version, `${name}: HEAD holds what is served`).toBe(served.get(name));
    const tag = `${name}@${version}`;
    expect(tags.has(tag), `tag ${tag} (for ${path} at HEAD)`).toBe(true);
    const tagged = await git(store, "show", `${tag}:${path}`).catch(async () => {
      // The pattern may have moved since its tag; the tag's commit must still hold that version somewhere.
      const holding = lines(await git(store, "ls-tree", "-r", "--name-only", tag)).find((p) => p.endsWith(`/${name}.yaml`));
      return holding === undefined ? "" : git(store, "show", `${tag}:${holding}`);
    });
    expect(tagged, `${tag} holds version ${version}`).toMatch(new RegExp(`^version: *"?${version.replace(/\./g, "\\.")}"? *$`, "m"));
  }
}
