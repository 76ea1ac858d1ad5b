import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, type ManualClock } from "../../../core/clock.js";
import { silentLog } from "../../../core/log.js";
import { DecisionLogs } from "./decision-log.js";
import { StoreFiles } from "./files.js";
import { GitRepo } from "./git.js";

let root: string;
let clock: ManualClock;
let git: GitRepo;
let logs: DecisionLogs;

function gitOut(...args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-decisions-"));
  mkdirSync(join(root, "orchestrations"));
  git = new GitRepo(root);
  await git.init();
  writeFileSync(join(root, "orchestrations", "p.yaml"), "name: p\n");
  await git.commitPaths(["orchestrations/p.yaml"], "seed\n\nOp: seed\n", undefined);
  clock = manualClock();
  logs = new DecisionLogs(new StoreFiles(root), git, clock, silentLog());
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const LOG = "orchestrations/p_decisions.yaml";

function item(n: number): string {
  return `- id: d${n}\n  decision: "line one\\nline two of ${n}"\n`;
}

describe("DecisionLogs", () => {
  it("names the log beside its pattern", () => {
    expect(DecisionLogs.pathFor("orchestrations/tournament.yaml")).toBe("orchestrations/tournament_decisions.yaml");
    expect(DecisionLogs.pathFor("profiles/judge.yaml")).toBe("profiles/judge_decisions.yaml");
  });

  it("holds appends back while a sync rewrites logs, after committing those made so far (issue 19)", async () => {
    await logs.append(LOG, item(1), "p", 1, "agent_a");
    let appended = false;
    let during = "";
    await logs.holdingAppends(async () => {
      // What was appended before is committed: the sync's merge starts from it.
      expect(gitOut("show", `HEAD:${LOG}`)).toBe(item(1));
      void logs.append(LOG, item(2), "p", 1, "agent_a").then(() => (appended = true));
      await new Promise((resolve) => setTimeout(resolve, 20));
      during = readFileSync(join(root, LOG), "utf8");
      // The sync replaces the log (as its merge would); the held record lands in what it wrote.
      writeFileSync(join(root, LOG), item(0) + item(1));
    });
    expect(during).toBe(item(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(appended).toBe(true);
    expect(readFileSync(join(root, LOG), "utf8")).toBe(item(0) + item(1) + item(2));
  });

  it("appends concurrent records whole and in call order; the file only grows", async () => {
    await Promise.all(Array.from({ length: 200 }, (_, n) => logs.append(LOG, item(n), "p", 1, `agent_${n % 4}`)));
    expect(logs.read(LOG)).toBe(Array.from({ length: 200 }, (_, n) => item(n)).join(""));
    expect(logs.read("orchestrations/none_decisions.yaml")).toBeUndefined();
  });

  it("commits a batch about a second after its first append, one Op: decisions commit naming the records", async () => {
    await logs.append(LOG, item(1), "p", 1, "agent_a");
    await logs.append(LOG, item(2), "p", 1, "agent_a");
    clock.advance(999);
    expect(gitOut("rev-list", "--count", "HEAD").trim()).toBe("1");
    clock.advance(1);
    // The timer's commit is under way; flush waits for it (and finds nothing more to commit).
    await logs.flush();
    expect(gitOut("rev-list", "--count", "HEAD").trim()).toBe("2");
    expect(gitOut("log", "-1", "--format=%an|%s").trim()).toBe("agent_a|decisions: 2 records (p 2)");
    expect(gitOut("log", "-1", "--format=%(trailers:only,unfold)")).toContain("Op: decisions");
    expect(gitOut("show", `HEAD:${LOG}`)).toBe(item(1) + item(2));
    expect(gitOut("status", "--porcelain")).toBe("");
  });

  it("flush commits what is pending at once; nothing pending, no commit", async () => {
    await logs.flush();
    expect(gitOut("rev-list", "--count", "HEAD").trim()).toBe("1");
    await logs.append(LOG, item(1), "p", 1, undefined);
    await logs.append("orchestrations/q_decisions.yaml", item(2), "q", 1, "agent_b");
    await logs.flush();
    expect(gitOut("log", "-1", "--format=%an|%s").trim()).toBe("agent_b|decisions: 2 records (p 1, q 1)");
    expect(gitOut("status", "--porcelain")).toBe("");
  });

  it("a batch whose records an earlier commit already took is done, not retried forever", async () => {
    await logs.append(LOG, item(1), "p", 1, undefined);
    gitOut("add", LOG);
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "took it"], { cwd: root, env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
    const messages: string[] = [];
    const watched = new DecisionLogs(new StoreFiles(root), git, clock, { ...silentLog(), error: (_: unknown, message: string) => void messages.push(message) } as never);
    await watched.append(LOG, item(2), "p", 1, undefined);
    gitOut("add", LOG);
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "took it too"], { cwd: root, env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" } });
    await watched.flush();
    expect(messages).toEqual([]);
    await watched.append(LOG, item(3), "p", 1, undefined);
    await watched.flush();
    expect(gitOut("show", `HEAD:${LOG}`)).toBe(item(1) + item(2) + item(3));
  });

  it("a log whose last record was torn gets a newline before the next one", async () => {
    writeFileSync(join(root, LOG), "- id: d0\n  decision: cut in the mid");
    await logs.append(LOG, item(1), "p", 1, undefined);
    expect(readFileSync(join(root, LOG), "utf8")).toBe(`- id: d0\n  decision: cut in the mid\n${item(1)}`);
  });

  it("recover commits logs a crash left uncommitted, and only those", async () => {
    writeFileSync(join(root, LOG), item(1));
    writeFileSync(join(root, "orchestrations", "p.yaml"), "name: p\nedited: by hand\n");
    await logs.recover();
    expect(gitOut("log", "-1", "--format=%s").trim()).toMatch(/^decisions: 1 log committed at start/);
    expect(gitOut("show", "--format=", "--name-only", "HEAD").trim()).toBe(LOG);
    expect(gitOut("status", "--porcelain").trim()).toBe("M orchestrations/p.yaml");
    await logs.recover();
    expect(gitOut("rev-list", "--count", "HEAD").trim()).toBe("2");
  });

  it("a log that is a link: appends and reads refused, no evidence, and its batch waits until the file is a file again", async () => {
    const outside = `${root}-outside`;
    writeFileSync(outside, "export TOKEN=secret\n");
    try {
      await logs.append(LOG, item(1), "p", 1, "a");
      unlinkSync(join(root, LOG));
      symlinkSync(outside, join(root, LOG));
      await expect(logs.append(LOG, item(2), "p", 1, "a")).rejects.toMatchObject({ code: "unsafe_path", details: { path: LOG, target: outside } });
      expect(() => logs.read(LOG)).toThrow(expect.objectContaining({ code: "unsafe_path" }));
      expect(logs.evidenceNow(LOG)?.total).toBe(0);
      await logs.flush();
      expect(gitOut("log", "--format=%s")).toBe("seed\n");
      expect(readFileSync(outside, "utf8")).toBe("export TOKEN=secret\n");
      unlinkSync(join(root, LOG));
      writeFileSync(join(root, LOG), item(1));
      await logs.flush();
      expect(gitOut("show", `HEAD:${LOG}`)).toBe(item(1));
    } finally {
      unlinkSync(outside);
    }
  });
});

describe("an append whose sync fails is refused, and leaves nothing (issue 24)", () => {
  it("the records of the failed sync are cut back out of the log; earlier and later ones stay, and only they are committed", async () => {
    let fail = false;
    const failing = new DecisionLogs(new StoreFiles(root), git, clock, silentLog(), () =>
      fail ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) : Promise.resolve(),
    );
    await failing.append(LOG, item(1), "p", 1, "a");
    fail = true;
    const refused = await Promise.allSettled([failing.append(LOG, item(2), "p", 1, "a"), failing.append(LOG, item(3), "p", 1, "a")]);
    expect(refused.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(failing.read(LOG)).toBe(item(1));
    fail = false;
    await failing.append(LOG, item(4), "p", 1, "a");
    expect(failing.read(LOG)).toBe(item(1) + item(4));
    await failing.flush();
    expect(gitOut("show", `HEAD:${LOG}`)).toBe(item(1) + item(4));
    expect(gitOut("log", "-1", "--format=%s")).toMatch(/^decisions: 2 records/);
  });

  it("a log the refused append created is removed again", async () => {
    const failing = new DecisionLogs(new StoreFiles(root), git, clock, silentLog(), () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" })));
    await expect(failing.append(LOG, item(1), "p", 1, "a")).rejects.toThrow();
    expect(failing.read(LOG)).toBeUndefined();
    expect(gitOut("status", "--porcelain")).toBe("");
  });
});
