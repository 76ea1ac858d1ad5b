/**
 * The options of pat's lifecycle commands reach the daemon or are refused:
 * `pat run/start/restart --store DIR` (relative to pat's working directory)
 * and PATTERND_STORE serve DIR, not the home's default store; `--log-level`
 * reaches the daemon's log; `pat status/stop --store DIR` say so when the
 * running daemon serves another store; an option a lifecycle command does
 * not take is a usage error (exit 2) with did-you-mean. Real `pat` processes
 * (test/pat-process.ts) against real daemons in temporary homes. On the old
 * code every one of these options was silently dropped: the daemon served
 * the home's default store (made on the spot) and `pat start --stroe` started it.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, readJsonLines, socketPathOf, startDaemon, waitUntilHealthy } from "./harness.js";
import { json, pat, patIn, spawnPat, type Run } from "./pat-process.js";

afterAll(cleanup);

const defaultStoreOf = (home: string) => join(home, "var", "lib", "compositions");

interface Health {
  pid: number;
  store: { path: string; patterns: number };
}

/** A pattern store at `<a temp dir>/<folder>` (seeded by a daemon started with --store) that holds the pattern `name`, which no bundled store has. */
async function storeHolding(name: string, folder = "patterns"): Promise<string> {
  const place = await makeHome();
  const store = join(place, folder);
  const seeding = await startDaemon({ home: place, args: ["--store", store] });
  const client = await seeding.client();
  await client.request("composition:fork", { parent: "tournament", name, reason: "only in this store" });
  expect((await seeding.stop()).code).toBe(0);
  return store;
}

async function health(home: string): Promise<Health> {
  const reply = await pat(home, ["send", "system:health"]);
  expect(reply.code, reply.stderr).toBe(0);
  return json<Health>(reply);
}

async function patternNames(home: string): Promise<string[]> {
  const listed = await pat(home, ["ls", "--json"]);
  expect(listed.code, listed.stderr).toBe(0);
  return json<{ compositions: { name: string }[] }>(listed).compositions.map((c) => c.name);
}

/** Stops whatever daemon answers on the home (a test that fails half-way, or the old code, may leave one running). */
async function stopQuietly(home: string): Promise<void> {
  await pat(home, ["stop"]);
}

function expectUsage(run: Run, ...texts: string[]): void {
  expect(run.code, run.stderr).toBe(2);
  for (const text of texts) expect(run.stderr).toContain(text);
}

describe("pat run / start / restart --store DIR serve DIR", () => {
  it("pat run --store DIR (relative to pat's directory): the daemon serves DIR; the home's default store is never made", async () => {
    const store = await storeHolding("only_in_run_store");
    const home = await makeHome();
    const running = spawnPat(dirname(store), ["run", "--home", home, "--store", "patterns"]);
    try {
      await waitUntilHealthy(running, socketPathOf(home));
      expect((await health(home)).store.path).toBe(store);
      expect(await patternNames(home)).toContain("only_in_run_store");
      expect(existsSync(defaultStoreOf(home)), "the home's default store is not created").toBe(false);
    } finally {
      expect((await running.signal("SIGTERM")).code).toBe(0);
    }
  });

  it("pat start --store DIR serves DIR; pat status/stop --store name a mismatch instead of pretending; pat stop --store DIR stops it", async () => {
    const store = await storeHolding("only_in_start_store");
    const other = await storeHolding("only_in_other_store", "other");
    const home = await makeHome();
    try {
      const started = await patIn(dirname(store), ["start", "--home", home, "--store", "patterns", "--json"]);
      expect(started.code, started.stderr).toBe(0);
      expect(json(started)).toMatchObject({ started: true, home, store });
      const { pid, store: served } = await health(home);
      expect(served.path).toBe(store);
      expect(await patternNames(home)).toContain("only_in_start_store");
      expect(await patternNames(home)).not.toContain("only_in_other_store");
      expect(existsSync(defaultStoreOf(home)), "the home's default store is not created").toBe(false);

      const same = await patIn(dirname(store), ["status", "--home", home, "--store", "patterns", "--json"]);
      expect(same.code, same.stderr).toBe(0);
      expect(json(same)).toMatchObject({ running: true, pid, store: { path: store } });

      const mismatch = `the daemon on ${socketPathOf(home)} (pid ${pid}) serves the store ${store}, not ${other}`;
      const status = await pat(home, ["status", "--store", other]);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(mismatch);

      const secondStart = await pat(home, ["start", "--store", other]);
      expect(secondStart.code).toBe(1);
      expect(secondStart.stderr).toContain(`already running (pid ${pid})`);
      expect(secondStart.stderr).toContain(`serves the store ${store}, not ${other}`);
      expect(secondStart.stderr).toContain(`pat restart --store ${other}`);

      const wrongStop = await pat(home, ["stop", "--store", other]);
      expect(wrongStop.code).toBe(1);
      expect(wrongStop.stderr).toContain(mismatch);
      expect(wrongStop.stderr).toContain("nothing stopped");
      expect((await health(home)).pid, "the daemon still serves").toBe(pid);

      const stopped = await pat(home, ["stop", "--store", store, "--json"]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(json(stopped)).toMatchObject({ stopped: true, pid });
    } finally {
      await stopQuietly(home);
    }
  });

  it("PATTERND_STORE (relative to pat's directory) for pat start; pat restart --store DIR moves the daemon to DIR", async () => {
    const store = await storeHolding("only_in_env_store");
    const other = await storeHolding("only_in_restart_store", "other");
    const home = await makeHome();
    try {
      const started = await patIn(dirname(store), ["start", "--home", home], { PATTERND_STORE: "patterns" });
      expect(started.code, started.stderr).toBe(0);
      expect((await health(home)).store.path).toBe(store);
      expect(await patternNames(home)).toContain("only_in_env_store");

      const restarted = await pat(home, ["restart", "--store", other, "--json"]);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(restarted.stdout).toContain(`"store": "${other}"`);
      expect((await health(home)).store.path).toBe(other);
      expect(await patternNames(home)).toContain("only_in_restart_store");
      expect(existsSync(defaultStoreOf(home)), "the home's default store is not created").toBe(false);
    } finally {
      await stopQuietly(home);
    }
  });
});

describe("pat start --log-level reaches the daemon", () => {
  it("--log-level warn: no info records in daemon.log; a restart without it logs at info again", async () => {
    const home = await makeHome();
    const daemonLog = join(home, "var", "log", "daemon.log");
    const startedRecords = async () => (await readJsonLines(daemonLog)).filter((r) => r.msg === "daemon started").length;
    try {
      const started = await pat(home, ["start", "--log-level", "warn"]);
      expect(started.code, started.stderr).toBe(0);
      expect(await startedRecords()).toBe(0);
      const restarted = await pat(home, ["restart"]);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(await startedRecords()).toBe(1);
    } finally {
      await stopQuietly(home);
    }
  });
});

describe("an option a lifecycle command does not take is a usage error, not dropped", () => {
  it("exit 2 naming it, with did-you-mean; no daemon is started or stopped", async () => {
    const home = await makeHome();
    try {
      // One line: the suggestion, not the usage (issue 16).
      expectUsage(await pat(home, ["start", "--stroe", "elsewhere"]), "unknown option --stroe; did you mean --store?");
      expect((await pat(home, ["start", "--stroe", "elsewhere"])).stderr).toBe("pat: unknown option --stroe; did you mean --store?\n");
      expectUsage(await pat(home, ["run", "--log-levl", "debug"]), "unknown option --log-levl; did you mean --log-level?");
      expectUsage(await pat(home, ["start", "elsewhere"]), "unexpected argument elsewhere");
      expectUsage(await pat(home, ["start", "--log-level", "loud"]), "--log-level must be one of fatal, error, warn, info, debug, trace, silent (got loud)");
      expectUsage(await pat(home, ["start", "--store"]), "--store needs a value");
      expect(existsSync(socketPathOf(home)), "no daemon started").toBe(false);
      expect((await pat(home, ["status"])).code).toBe(3);

      const started = await pat(home, ["start"]);
      expect(started.code, started.stderr).toBe(0);
      const { pid } = await health(home);
      expectUsage(await pat(home, ["stop", "--log-level", "debug"]), "unknown option --log-level");
      expectUsage(await pat(home, ["status", "--stor", "x"]), "unknown option --stor; did you mean --store?");
      expectUsage(await pat(home, ["restart", "--sotre", "x"]), "did you mean --store?");
      expect((await health(home)).pid, "the daemon was neither stopped nor restarted").toBe(pid);
    } finally {
      await stopQuietly(home);
    }
  });

  it("other verbs suggest the option meant: pat ls --typ, pat find --wher", async () => {
    const home = await makeHome();
    expectUsage(await pat(home, ["ls", "--typ", "profile"]), "unknown option --typ; did you mean --type?");
    expectUsage(await pat(home, ["find", "--wher", "a>1"]), "unknown option --wher; did you mean --where?");
    expectUsage(await pat(home, ["discover", "--hme", "x"]), "unknown option --hme; did you mean --home?");
  });
});
