/**
 * Where `pat` takes its home from when neither --home nor PATTERND_HOME is
 * given: the nearest directory at or above the current one that is a home
 * (var/run/patternd.sock or var/lib/compositions/.git), the way git finds
 * `.git`; and `pat start` / `pat run` refusing to make a new home inside a
 * pattern store. The compiled CLI runs as a real process in a chosen
 * directory (test/pat-process.ts patIn) against real daemons in temporary
 * homes. Each test first shows what taking the working directory as the home
 * (the old rule, which the daemon's own process keeps) did there.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, spawnDaemon, startDaemon, waitUntilHealthy } from "./harness.js";
import { json, pat, patIn } from "./pat-process.js";
import { git } from "./store-git.js";

afterAll(cleanup);

const storeOf = (home: string) => join(home, "var", "lib", "compositions");

/** The old rule from `dir`: the daemon itself, started with the directory as its home, makes a new home (and store) there. */
async function daemonMakesHomeIn(dir: string): Promise<void> {
  const proc = spawnDaemon(dir);
  await waitUntilHealthy(proc, join(dir, "var", "run", "patternd.sock"));
  expect(existsSync(join(dir, "var", "lib", "compositions", ".git")), "a second store, nested in the first").toBe(true);
  const exit = await proc.signal("SIGTERM");
  expect(exit, `the daemon's stderr: ${proc.stderr()}`).toEqual({ code: 0, signal: null });
  await rm(join(dir, "var"), { recursive: true, force: true });
}

describe("pat finds the home above the current directory", () => {
  it("pat status, send and ls from inside the store reach the home's running daemon, and leave nothing in the store", async () => {
    const d = await startDaemon();
    const inside = join(storeOf(d.home), "orchestrations");

    // The old rule: the working directory is the home, so pat looks for a socket inside the store and finds none.
    const old = await pat(inside, ["status"]);
    expect(old.code).toBe(3);
    expect(old.stderr).toContain(join(inside, "var", "run", "patternd.sock"));

    const status = await patIn(inside, ["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({ running: true, pid: d.pid, home: d.home, socket: d.socketPath });

    const health = await patIn(storeOf(d.home), ["send", "system:health"]);
    expect(health.code, health.stderr).toBe(0);
    expect(json(health)).toMatchObject({ status: "ok", pid: d.pid });

    const listed = await patIn(join(d.home, "var", "lib"), ["ls", "--type", "profile", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(json<{ compositions: { name: string }[] }>(listed).compositions.map((c) => c.name)).toContain("base_orchestrator");

    expect(existsSync(join(inside, "var")), "no var/ made inside the store").toBe(false);
    expect(await git(storeOf(d.home), "status", "--porcelain", "--untracked-files=all")).toBe("");
  });

  it("with the daemon stopped: pat status from the store names the home's socket, pat start there starts the home's daemon", async () => {
    const first = await startDaemon();
    const home = first.home;
    expect((await first.stop()).code).toBe(0);
    const inside = join(storeOf(home), "profiles");
    await daemonMakesHomeIn(inside);

    const status = await patIn(inside, ["status"]);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain(`no daemon answers on ${join(home, "var", "run", "patternd.sock")}`);

    const started = await patIn(inside, ["start", "--json"]);
    try {
      expect(started.code, started.stderr).toBe(0);
      expect(json(started)).toMatchObject({ started: true, home, socket: join(home, "var", "run", "patternd.sock") });
      expect(existsSync(join(inside, "var")), "no var/ made inside the store").toBe(false);
    } finally {
      const stopped = await patIn(inside, ["stop"]);
      expect(stopped.code, stopped.stderr).toBe(0);
    }
  });

  it("a folder below a home that is not in its store finds it too; a directory under no home stays the home", async () => {
    const d = await startDaemon();
    const notes = join(d.home, "notes", "today");
    await mkdir(notes, { recursive: true });
    expect(json(await patIn(notes, ["status", "--json"]))).toMatchObject({ pid: d.pid, home: d.home });

    const elsewhere = await makeHome();
    const alone = await patIn(elsewhere, ["status"]);
    expect(alone.code).toBe(3);
    expect(alone.stderr).toContain(join(elsewhere, "var", "run", "patternd.sock"));
  });
});

describe("pat start / pat run refuse to make a new home inside a pattern store", () => {
  it("pat start --home <a folder of a home's store>: usage error naming the home to use; nothing is created", async () => {
    const first = await startDaemon();
    const home = first.home;
    expect((await first.stop()).code).toBe(0);
    const inside = join(storeOf(home), "orchestrations");
    await daemonMakesHomeIn(inside);

    for (const verb of ["start", "run"]) {
      const refused = await pat(inside, [verb]);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(`${inside} is inside the pattern store of the home ${home}, not a home itself`);
      expect(refused.stderr).toContain(`pat ${verb} --home ${home}`);
    }
    expect(existsSync(join(inside, "var")), "no var/ made inside the store").toBe(false);
    expect(existsSync(join(home, "var", "run", "patternd.sock")), "no daemon started").toBe(false);
  });

  it("pat start in a clone of a store (no home above it): usage error suggesting a home of its own with --store", async () => {
    const first = await startDaemon();
    const place = await makeHome();
    const clone = join(place, "patterns");
    await git(storeOf(first.home), "clone", "--quiet", storeOf(first.home), clone);
    await daemonMakesHomeIn(clone);

    for (const where of [clone, join(clone, "orchestrations")]) {
      for (const verb of ["start", "run"]) {
        const refused = await patIn(where, [verb]);
        expect(refused.code, refused.stderr).toBe(2);
        expect(refused.stderr).toContain(`${where} is inside ${clone}, a git work tree of patterns (it holds orchestrations/), not a home`);
        expect(refused.stderr).toContain(`pat ${verb} --home DIR --store ${clone}`);
      }
    }
    expect(existsSync(join(clone, "var")), "no var/ made in the clone").toBe(false);
    expect(await git(clone, "status", "--porcelain", "--untracked-files=all")).toBe("");
    // the other daemon was never disturbed
    expect(json(await pat(first.home, ["status", "--json"]))).toMatchObject({ pid: first.pid });
  });
});
