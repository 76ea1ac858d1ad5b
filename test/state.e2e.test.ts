/**
 * state:* end to end (SPEC §3 state, §1 paths, §6): round trips of every
 * JSON type, missing keys, invalid keys, prefixes, state.ndjson on disk when
 * the reply arrives, survival of SIGKILL, the value size bound, and what
 * conditions see of it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { replayJournal } from "../daemon/modules/state/state-record.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { expectStoreTruth } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

interface Entry {
  key: string;
  value: unknown;
}

let daemon: Daemon;
let c: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  c = await daemon.client({ agentId: "state-tester" });
});
afterAll(cleanup);

async function failure(client: Client, event: string, data: Msg): Promise<WireErr> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} ${JSON.stringify(data)} should fail, got ${JSON.stringify(reply)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

async function get(key: string, client: Client = c): Promise<unknown> {
  return (await client.request<Entry>("state:get", { key })).value;
}

async function list(prefix?: string, client: Client = c): Promise<Entry[]> {
  const data = prefix === undefined ? {} : { prefix };
  return (await client.request<{ entries: Entry[] }>("state:list", data)).entries;
}

/** The state var/lib/state.ndjson holds (replayed: the last record of each key), as one object of dotted keys. */
async function readStateFile(home: string): Promise<Record<string, unknown>> {
  // Replaying throws on a damaged line: a half-written record would show here.
  const state = replayJournal(await readFile(join(home, "var", "lib", "state.ndjson")));
  expect(state.torn).toBeUndefined();
  return Object.fromEntries(state.values);
}

const VALUES: Record<string, unknown> = {
  string: "running",
  empty_string: "",
  unicode: "héllo → 世界 🎉",
  integer: 42,
  negative: -7,
  float: 3.25,
  zero: 0,
  big: 9007199254740991,
  true: true,
  false: false,
  null: null,
  array: [1, "two", null, false, { three: [3] }],
  empty_array: [],
  object: { status: "done", nested: { deeper: [1, 2, { x: null }] }, flag: true },
  empty_object: {},
};

describe("state round trip", () => {
  it("set, get, list and delete values of every JSON type", async () => {
    const prefix = `types_${process.pid}`;
    for (const [name, value] of Object.entries(VALUES)) {
      const key = `${prefix}.${name}`;
      const reply = await c.request<Msg>("state:set", { key, value });
      expect(reply.key).toBe(key);
      expect(reply.value).toEqual(value);
      expect(await get(key), name).toEqual(value);
    }
    // values are stored as given, not coerced: null stays null, "" stays "", 0 stays 0
    expect(await get(`${prefix}.null`)).toBeNull();
    expect(await get(`${prefix}.zero`)).toBe(0);
    expect(await get(`${prefix}.empty_string`)).toBe("");

    const entries = await list(prefix);
    expect(entries.map((e) => e.key).sort()).toEqual(Object.keys(VALUES).map((n) => `${prefix}.${n}`).sort());
    for (const entry of entries) expect(entry.value).toEqual(VALUES[entry.key.slice(prefix.length + 1)]);

    // overwrite: the new value wins
    await c.request("state:set", { key: `${prefix}.string`, value: { now: "an object" } });
    expect(await get(`${prefix}.string`)).toEqual({ now: "an object" });

    for (const name of Object.keys(VALUES)) {
      expect(await c.request(`state:delete`, { key: `${prefix}.${name}` })).toMatchObject({ deleted: true });
      expect((await failure(c, "state:get", { key: `${prefix}.${name}` })).code).toBe("not_found");
    }
    expect(await list(prefix)).toEqual([]);
  });

  it("get and delete of a missing key are not_found; a key with a null value is not missing", async () => {
    const key = `missing_${process.pid}.status`;
    const gone = await failure(c, "state:get", { key });
    expect(gone.code).toBe("not_found");
    expect(gone.message).toMatch(/\S/);
    expect((await failure(c, "state:delete", { key })).code).toBe("not_found");

    await c.request("state:set", { key, value: null });
    expect(await c.request("state:get", { key })).toMatchObject({ key, value: null });
    await c.request("state:delete", { key });
    expect((await failure(c, "state:delete", { key })).code).toBe("not_found");
  });

  it("invalid keys are invalid_params for set, get and delete", async () => {
    const bad: unknown[] = ["a..b", "__proto__.x", "", "x.__proto__", "constructor", "a.prototype.b", ".a", "a.", "a b", "a/b", 5, null];
    for (const key of bad) {
      for (const [event, data] of [
        ["state:set", { key, value: 1 }],
        ["state:get", { key }],
        ["state:delete", { key }],
      ] as const) {
        const error = await failure(c, event, data);
        expect(error.code, `${event} ${JSON.stringify(key)}`).toBe("invalid_params");
        const issues = (error.details?.issues ?? []) as { path: string }[];
        expect(issues.map((i) => i.path), `${event} ${JSON.stringify(key)}`).toContain("key");
      }
    }
    // nothing was stored under a prototype-ish name, and plain objects are unharmed
    const all = await list();
    expect(all.filter((e) => /__proto__|constructor|prototype/.test(e.key))).toEqual([]);
    expect(({} as Msg).x).toBeUndefined();
    await expect(c.request("system:health")).resolves.toMatchObject({ status: "ok" });
    // missing value / extra fields
    expect((await failure(c, "state:set", { key: "ok_key" })).code).toBe("invalid_params");
    expect((await failure(c, "state:set", { key: "ok_key", value: 1, extra: true })).code).toBe("invalid_params");
  });

  it("list with a prefix matches whole dot segments: run_1 matches run_1.status, not run_10", async () => {
    const keys = ["run_1", "run_1.status", "run_1.steps.first", "run_10.status", "run_1x", "run_2.status"];
    for (const [i, key] of keys.entries()) await c.request("state:set", { key, value: i });
    try {
      expect((await list("run_1")).map((e) => e.key)).toEqual(["run_1", "run_1.status", "run_1.steps.first"]);
      expect((await list("run_1.steps")).map((e) => e.key)).toEqual(["run_1.steps.first"]);
      expect((await list("run_10")).map((e) => e.key)).toEqual(["run_10.status"]);
      expect(await list("run_3")).toEqual([]);
      const entries = await list("run_1");
      expect(entries.find((e) => e.key === "run_1.status")?.value).toBe(1);
      const everything = (await list()).map((e) => e.key);
      for (const key of keys) expect(everything).toContain(key);
    } finally {
      for (const key of keys) await c.request("state:delete", { key });
    }
  });

  it("a value over 256 KiB is limit_exceeded with details.limit and is not stored", async () => {
    const key = `big_${process.pid}`;
    const error = await failure(c, "state:set", { key, value: "x".repeat(300 * 1024) });
    expect(error.code).toBe("limit_exceeded");
    expect(typeof error.details?.limit).toBe("number");
    expect(error.details?.limit as number).toBeGreaterThanOrEqual(256 * 1024);
    expect((await failure(c, "state:get", { key })).code).toBe("not_found");
    // a big object counts too
    const many = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i]));
    expect((await failure(c, "state:set", { key, value: many })).code).toBe("limit_exceeded");
    // just under the bound is fine
    const fits = "y".repeat(200 * 1024);
    await c.request("state:set", { key, value: fits });
    expect(await get(key)).toBe(fits);
    await c.request("state:delete", { key });
  });
});

describe("state on disk", () => {
  it("state.ndjson holds the change (whole records) when state:set and state:delete reply", async () => {
    const key = `disk_${process.pid}.status`;
    await c.request("state:set", { key, value: { phase: "one", n: 1 } });
    expect((await readStateFile(daemon.home))[key]).toEqual({ phase: "one", n: 1 });
    await c.request("state:set", { key, value: "two" });
    expect((await readStateFile(daemon.home))[key]).toBe("two");
    await c.request("state:delete", { key });
    expect((await readStateFile(daemon.home))[key]).toBeUndefined();

    // a burst of pipelined sets: after the last reply every one of them is in the file
    const keys = Array.from({ length: 50 }, (_, i) => `burst_${process.pid}.k${i}`);
    await Promise.all(keys.map((k, i) => c.request("state:set", { key: k, value: i })));
    const document = await readStateFile(daemon.home);
    for (const [i, k] of keys.entries()) expect(document[k], k).toBe(i);
    for (const k of keys) await c.request("state:delete", { key: k });
  });

  it("state survives SIGKILL and restart, every acknowledged change included", async () => {
    const first = await startDaemon();
    const c1 = await first.client();
    for (const [name, value] of Object.entries(VALUES)) await c1.request("state:set", { key: `kept.${name}`, value });
    await c1.request("state:set", { key: "gone.soon", value: 1 });
    await c1.request("state:delete", { key: "gone.soon" });
    // the last acknowledged changes are a pipelined burst
    await Promise.all(Array.from({ length: 20 }, (_, i) => c1.request("state:set", { key: `last.k${i}`, value: i })));
    const exit = await first.kill();
    expect(exit.signal).toBe("SIGKILL");

    const second = await startDaemon({ home: first.home });
    const c2 = await second.client();
    for (const [name, value] of Object.entries(VALUES)) expect(await get(`kept.${name}`, c2), name).toEqual(value);
    expect((await failure(c2, "state:get", { key: "gone.soon" })).code).toBe("not_found");
    expect((await list("last", c2)).map((e) => e.value).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    // conditions of the new daemon see the reloaded state
    const reply = await c2.request("event:emit", {
      event: "probe:check",
      condition: { and: [{ "==": [{ var: "state.kept.object.status" }, "done"] }, { "==": [{ var: "state.kept.integer" }, 42] }] },
    });
    expect(reply).toMatchObject({ emitted: true });
    // Issue 24: the kill left the pattern store as one truth too.
    await expectStoreTruth(join(first.home, "var", "lib", "compositions"));
  });
});

describe("state as conditions see it", () => {
  it("dotted keys nest; an object value is reachable inside; a longer key under a value wins", async () => {
    const root = `nest_${process.pid}`;
    await c.request("state:set", { key: `${root}.cfg`, value: { limit: 5, inner: { on: true } } });
    await c.request("state:set", { key: `${root}.cfg.limit`, value: 9 });
    await c.request("state:set", { key: `${root}.a.b.c`, value: "deep" });
    const holds = async (condition: unknown) =>
      ((await c.request<{ emitted: boolean }>("event:emit", { event: "probe:state", condition })).emitted);
    expect(await holds({ "==": [{ var: `state.${root}.a.b.c` }, "deep"] })).toBe(true);
    expect(await holds({ "==": [{ var: `state.${root}.cfg.inner.on` }, true] })).toBe(true);
    expect(await holds({ "==": [{ var: `state.${root}.cfg.limit` }, 9] })).toBe(true);
    // the stored values themselves are unchanged by the nesting
    expect(await get(`${root}.cfg`)).toEqual({ limit: 5, inner: { on: true } });
    expect(await get(`${root}.cfg.limit`)).toBe(9);
    // deleting a key is visible to the next condition
    await c.request("state:delete", { key: `${root}.a.b.c` });
    expect(await holds({ "==": [{ var: `state.${root}.a.b.c` }, "deep"] })).toBe(false);
    expect(await holds({ missing: [`state.${root}.a.b.c`] })).toBe(true);
  });
});

describe("values are stored as given", () => {
  it("an object value with a `__proto__` key is kept as sent (or refused), never silently emptied", async () => {
    const raw = await daemon.raw();
    const key = `protoval_${process.pid}`;
    // Written as text: an object literal with __proto__ would set a prototype instead of a key.
    const [reply] = await raw.exchange(`{"event":"state:set","id":1,"data":{"key":"${key}","value":{"__proto__":{"polluted":true},"other":1}}}`);
    if (reply!.ok === true) {
      const [got] = await raw.exchange({ event: "state:get", id: 2, data: { key } });
      expect(got!.ok).toBe(true);
      expect(raw.lines.at(-1), "state:set answered ok but stored something else").toContain('"__proto__":{"polluted":true}');
      expect(raw.lines.at(-2), "state:set's reply shows a different value than sent").toContain('"__proto__":{"polluted":true}');
    } else {
      expect((reply!.error as WireErr).code).toBe("invalid_params");
      expect((await failure(c, "state:get", { key })).code).toBe("not_found");
    }
    // and nothing in the daemon was polluted through it
    const check = await c.request("event:emit", { event: "probe:pollution", condition: { "!!": { var: "state.polluted" } } });
    expect(check).toMatchObject({ emitted: false });
  });
});
