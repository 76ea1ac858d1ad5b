import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { activeHooks } from "./git-hooks.js";
import { spawnHook } from "./git-process.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-hooks-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function script(name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

describe("activeHooks", () => {
  it("finds the commit hooks that are executable files, as git does, and nothing else", () => {
    script("pre-commit", "exit 0");
    script("commit-msg", "exit 0", 0o644);
    script("pre-push", "exit 0");
    mkdirSync(join(dir, "post-commit"));
    expect([...activeHooks(dir)]).toEqual(["pre-commit"]);
    expect(activeHooks(join(dir, "missing")).size).toBe(0);
  });
});

describe("spawnHook", () => {
  it("runs in the given folder with stdout and stderr together, and reports the exit code", async () => {
    const run = await spawnHook(script("h", 'echo "out $1 $(pwd)"; echo err >&2; exit 4'), ["arg"], dir, { PATH: process.env.PATH }, 5_000);
    expect(run).toEqual({ code: 4, timedOut: false, output: `out arg ${dir}\nerr\n` });
  });

  it("stops a hook that runs past the deadline, with what it started", async () => {
    const started = Date.now();
    const run = await spawnHook(script("h", "sleep 30 & sleep 30"), [], dir, { PATH: process.env.PATH }, 200);
    expect(run).toMatchObject({ code: null, timedOut: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("is done when the hook exits, even if a job it left in the background keeps its output open", async () => {
    const started = Date.now();
    const run = await spawnHook(script("h", "echo bye; sleep 5 & exit 0"), [], dir, { PATH: process.env.PATH }, 10_000);
    expect(run).toMatchObject({ code: 0, timedOut: false, output: "bye\n" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
