import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_EVENT_LOG_RETENTION, enclosingStore, findHome, isBranchName, isHome, resolveConfig, settingProblems, type EnclosingStore } from "./config.js";

describe("resolveConfig", () => {
  it("derives every path from the home given as an option", () => {
    const config = resolveConfig({ home: "h" }, { PATTERND_HOME: "/ignored" }, "/work");
    expect(config.home).toBe("/work/h");
    expect(config.socketPath).toBe("/work/h/var/run/patternd.sock");
    expect(config.socketInHome).toBe(true);
    expect(config.pidFile).toBe("/work/h/var/run/patternd.pid");
    expect(config.daemonLog).toBe("/work/h/var/log/daemon.log");
    expect(config.eventLogDir).toBe("/work/h/var/log/events");
    expect(config.storeDir).toBe("/work/h/var/lib/compositions");
    expect(config.storeInHome).toBe(true);
    expect(config.scheduleJournal).toBe("/work/h/var/lib/schedule.ndjson");
    expect(config.stateJournal).toBe("/work/h/var/lib/state.ndjson");
    expect(config.legacyStateFile).toBe("/work/h/var/lib/state.json");
  });

  it.each<[string | undefined, number]>([
    [undefined, 64 * 1024 * 1024],
    ["", 64 * 1024 * 1024],
    ["1048576", 1048576],
    ["0", NaN],
    ["-5", NaN],
    ["1e6", NaN],
    ["64MiB", NaN],
  ])("PATTERND_STATE_MAX_BYTES=%j: the state's byte cap is %d (NaN: main.ts refuses it)", (value, cap) => {
    expect(resolveConfig({}, { PATTERND_STATE_MAX_BYTES: value }, "/w").limits.maxStateBytes).toBe(cap);
  });

  it("falls back to PATTERND_HOME, then the working directory", () => {
    expect(resolveConfig({}, { PATTERND_HOME: "/srv/p" }, "/work").home).toBe("/srv/p");
    expect(resolveConfig({}, { PATTERND_HOME: "" }, "/work").home).toBe("/work");
  });

  it("takes the socket and store from options before the environment", () => {
    const env = { PATTERND_SOCKET: "/env.sock", PATTERND_STORE: "/env-store" };
    expect(resolveConfig({}, env, "/w").socketPath).toBe("/env.sock");
    expect(resolveConfig({}, env, "/w").socketInHome).toBe(false);
    expect(resolveConfig({ socket: "s.sock", store: "st" }, env, "/w")).toMatchObject({
      socketPath: "/w/s.sock",
      storeDir: "/w/st",
      storeInHome: false,
    });
    expect(resolveConfig({}, env, "/w")).toMatchObject({ storeDir: "/env-store", storeInHome: false });
  });

  it("takes the branch from --branch, else PATTERND_BRANCH, else none (the one checked out at start)", () => {
    expect(resolveConfig({ branch: "patterns" }, { PATTERND_BRANCH: "env" }, "/w").branch).toBe("patterns");
    expect(resolveConfig({}, { PATTERND_BRANCH: "env" }, "/w").branch).toBe("env");
    expect(resolveConfig({}, { PATTERND_BRANCH: "" }, "/w").branch).toBeUndefined();
  });
});

describe("event-log retention from the environment", () => {
  it("defaults to 14 days and 256 MB", () => {
    expect(resolveConfig({}, {}, "/w").eventLogRetention).toEqual({ maxBytes: 256 * 1024 * 1024, maxDays: 14 });
    expect(DEFAULT_EVENT_LOG_RETENTION).toEqual({ maxBytes: 256 * 1024 * 1024, maxDays: 14 });
    expect(settingProblems({})).toEqual([]);
  });

  it.each<[Record<string, string>, { maxBytes: number; maxDays: number }]>([
    [{ PATTERND_EVENT_LOG_MAX_MB: "64", PATTERND_EVENT_LOG_MAX_DAYS: "3" }, { maxBytes: 64 * 1024 * 1024, maxDays: 3 }],
    [{ PATTERND_EVENT_LOG_MAX_MB: "0.5" }, { maxBytes: 512 * 1024, maxDays: 14 }],
    [{ PATTERND_EVENT_LOG_MAX_MB: "", PATTERND_EVENT_LOG_MAX_DAYS: "" }, { maxBytes: 256 * 1024 * 1024, maxDays: 14 }],
  ])("%j", (env, expected) => {
    expect(resolveConfig({}, env, "/w").eventLogRetention).toEqual(expected);
    expect(settingProblems(env)).toEqual([]);
  });

  it.each<[Record<string, string>, string]>([
    [{ PATTERND_EVENT_LOG_MAX_MB: "lots" }, 'PATTERND_EVENT_LOG_MAX_MB must be a positive number of megabytes, e.g. 256 or 0.5 (got "lots")'],
    [{ PATTERND_EVENT_LOG_MAX_MB: "0" }, 'PATTERND_EVENT_LOG_MAX_MB must be a positive number of megabytes, e.g. 256 or 0.5 (got "0")'],
    [{ PATTERND_EVENT_LOG_MAX_MB: "-5" }, 'PATTERND_EVENT_LOG_MAX_MB must be a positive number of megabytes, e.g. 256 or 0.5 (got "-5")'],
    [{ PATTERND_EVENT_LOG_MAX_DAYS: "1.5" }, 'PATTERND_EVENT_LOG_MAX_DAYS must be a positive whole number of days, e.g. 14 (got "1.5")'],
    [{ PATTERND_EVENT_LOG_MAX_DAYS: "2w" }, 'PATTERND_EVENT_LOG_MAX_DAYS must be a positive whole number of days, e.g. 14 (got "2w")'],
  ])("refuses %j", (env, message) => {
    expect(settingProblems(env)).toEqual([message]);
  });
});

describe("isBranchName", () => {
  it.each([
    ["main", true],
    ["feature/x-1", true],
    ["release_2.0", true],
    ["", false],
    ["-x", false],
    ["a..b", false],
    ["a b", false],
    ["a~1", false],
    ["a:b", false],
    ["x.lock", false],
    ["a/.hidden", false],
    ["a//b", false],
    ["end/", false],
    ["end.", false],
    ["a@{1}", false],
    ["HEAD", false],
    ["a\\b", false],
  ])("%j → %s", (name, ok) => {
    expect(isBranchName(name)).toBe(ok);
  });
});

/** A file-system view: the paths that exist. */
const view = (...paths: string[]) => {
  const present = new Set(paths);
  return (path: string) => present.has(path);
};

describe("finding the home above the working directory (pat)", () => {
  const running = view("/srv/h/var/run/patternd.sock");
  const stopped = view("/srv/h/var/lib/compositions/.git", "/srv/h/var/lib/compositions/orchestrations");
  const cases: { what: string; cwd: string; exists: (path: string) => boolean; home: string }[] = [
    { what: "the home itself", cwd: "/srv/h", exists: running, home: "/srv/h" },
    { what: "inside the store, daemon running", cwd: "/srv/h/var/lib/compositions/orchestrations", exists: running, home: "/srv/h" },
    { what: "inside the store, daemon stopped", cwd: "/srv/h/var/lib/compositions/orchestrations", exists: stopped, home: "/srv/h" },
    { what: "any folder below the home", cwd: "/srv/h/notes/a", exists: stopped, home: "/srv/h" },
    { what: "the nearest home wins", cwd: "/srv/h/sub/x", exists: view("/srv/h/var/run/patternd.sock", "/srv/h/sub/var/run/patternd.sock"), home: "/srv/h/sub" },
    { what: "no home above: the working directory", cwd: "/srv/other", exists: running, home: "/srv/other" },
    { what: "a var/ that patternd did not make is no home", cwd: "/srv/p/src", exists: view("/srv/p/var", "/srv/p/var/run", "/srv/p/var/lib"), home: "/srv/p/src" },
  ];
  for (const c of cases) {
    it(c.what, () => {
      expect(resolveConfig({}, {}, c.cwd, c.exists).home).toBe(c.home);
      expect(resolveConfig({}, {}, c.cwd, c.exists).socketPath).toBe(join(c.home, "var", "run", "patternd.sock"));
    });
  }

  it("--home and PATTERND_HOME come before any search; without a search (the daemon) the working directory is the home", () => {
    const cwd = "/srv/h/var/lib/compositions";
    expect(resolveConfig({ home: "/x" }, {}, cwd, running).home).toBe("/x");
    expect(resolveConfig({}, { PATTERND_HOME: "/y" }, cwd, running).home).toBe("/y");
    expect(resolveConfig({}, {}, cwd).home).toBe(cwd);
  });

  it("findHome and isHome", () => {
    expect(findHome("/srv/h/a/b", running)).toBe("/srv/h");
    expect(findHome("/", running)).toBeUndefined();
    expect(isHome("/srv/h", stopped)).toBe(true);
    expect(isHome("/srv", stopped)).toBe(false);
  });

  it("a home whose store is a submodule (KSI's var/lib/compositions: its .git is a file) is a home, as pat finds it with fs.existsSync", () => {
    const home = mkdtempSync(join(tmpdir(), "patternd-home-"));
    try {
      mkdirSync(join(home, "var", "lib", "compositions"), { recursive: true });
      writeFileSync(join(home, "var", "lib", "compositions", ".git"), "gitdir: ../../../.git/modules/var/lib/compositions\n");
      expect(isHome(home, existsSync)).toBe(true);
      expect(findHome(join(home, "var", "lib", "compositions"), existsSync)).toBe(home);
      expect(enclosingStore(join(home, "var", "lib", "compositions"), existsSync)).toEqual({ store: join(home, "var", "lib", "compositions"), home });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("enclosingStore: is a directory inside a pattern store?", () => {
  const cases: { what: string; dir: string; exists: (path: string) => boolean; found: EnclosingStore | undefined }[] = [
    {
      what: "a home's store: names the home",
      dir: "/srv/h/var/lib/compositions/orchestrations",
      exists: view("/srv/h/var/lib/compositions/.git"),
      found: { store: "/srv/h/var/lib/compositions", home: "/srv/h" },
    },
    {
      what: "a clone of a store elsewhere (it holds orchestrations/)",
      dir: "/srv/clone/profiles",
      exists: view("/srv/clone/.git", "/srv/clone/orchestrations"),
      found: { store: "/srv/clone" },
    },
    {
      what: "the project checkout (compositions/ and profiles/, no orchestrations/) is no store",
      dir: "/src/patternd",
      exists: view("/src/patternd/.git", "/src/patternd/compositions", "/src/patternd/profiles"),
      found: undefined,
    },
    { what: "no git work tree at all", dir: "/tmp/x", exists: view("/tmp/x/orchestrations"), found: undefined },
    {
      what: "the nearest work tree decides (a repository inside a store's folder)",
      dir: "/srv/clone/sub/repo",
      exists: view("/srv/clone/.git", "/srv/clone/orchestrations", "/srv/clone/sub/repo/.git"),
      found: undefined,
    },
  ];
  for (const c of cases) it(c.what, () => expect(enclosingStore(c.dir, c.exists)).toEqual(c.found));
});

describe("home discovery on a real file system", () => {
  it("finds the home of a store from inside it, by fs.existsSync", () => {
    const home = mkdtempSync(join(tmpdir(), "pd-home-"));
    try {
      const inside = join(home, "var", "lib", "compositions", "orchestrations");
      mkdirSync(inside, { recursive: true });
      expect(resolveConfig({}, {}, inside, existsSync).home).toBe(inside);
      mkdirSync(join(home, "var", "lib", "compositions", ".git"));
      expect(resolveConfig({}, {}, inside, existsSync).home).toBe(home);
      expect(enclosingStore(inside, existsSync)).toEqual({ store: join(home, "var", "lib", "compositions"), home });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("resolveConfig: --sync-every / PATTERND_SYNC_EVERY (issue 19)", () => {
  const cases: [string | undefined, string | undefined, number | undefined][] = [
    [undefined, undefined, undefined],
    ["300", undefined, 300],
    [undefined, "2.5", 2.5],
    ["60", "5", 60],
    ["0", undefined, NaN],
    ["0.5", undefined, NaN],
    ["soon", undefined, NaN],
  ];
  for (const [flag, env, want] of cases) {
    it(`flag ${String(flag)}, env ${String(env)} → ${String(want)}`, () => {
      expect(resolveConfig({ home: "/h", syncEvery: flag }, env === undefined ? {} : { PATTERND_SYNC_EVERY: env }, "/").syncEverySeconds).toEqual(want);
    });
  }
});
