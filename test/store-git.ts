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

