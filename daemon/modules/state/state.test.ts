/**
 * The state module over a real journal (state.ndjson) in a temp dir:
 * versions, their survival across a restart, compare-and-set when sets
 * race, and the byte cap (the module is driven through its event
 * definitions, as the router does).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../config.js";
import { DaemonError } from "../../core/errors.js";
import type { HandlerContext } from "../../core/event.js";
import { silentLog } from "../../core/log.js";
import type { Module, ModuleContext } from "../../core/module.js";
import { stateModule } from "./state.js";
import { replayJournal } from "./state-record.js";

let dir: string;
const running: Module[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "patternd-state-module-"));
});
afterEach(async () => {
  for (const mod of running.splice(0)) await mod.stop?.();
  await rm(dir, { recursive: true, force: true });
});

const REQUEST: HandlerContext = { agentId: undefined, requestId: null, depth: 0, session: null };

/** A started state module on dir/state.ndjson, with a call(event, data) that validates like the router. */
async function started(maxStateBytes = DEFAULT_LIMITS.maxStateBytes) {
  // The module reads only its files' paths, its limits and its log from the context.
  const config = { stateJournal: join(dir, "state.ndjson"), legacyStateFile: join(dir, "state.json"), limits: { ...DEFAULT_LIMITS, maxStateBytes } };
  const mod = stateModule({ config, log: silentLog() } as unknown as ModuleContext);
  await mod.start?.();
  running.push(mod);
  const call = async (event: string, data: Record<string, unknown>) => {
    const def = mod.events.find((e) => e.name === event)!;
    return (await def.handler(def.params.parse(data), REQUEST)) as Record<string, unknown>;
  };
  /** The error a call fails with (a success fails the test). */
  const refusal = async (event: string, data: Record<string, unknown>) => {
    const outcome = await call(event, data).then(
      (result) => new Error(`${event} ${JSON.stringify(data)} succeeded: ${JSON.stringify(result)}`),
      (err: unknown) => err,
    );
    if (!(outcome instanceof DaemonError)) throw outcome;
    return outcome;
  };
  return { mod, call, refusal };
}

describe("versions", () => {
  it("each set raises the key's version; get and list show it; a missing key is version 0", async () => {
    const { call, refusal } = await started();
    expect((await refusal("state:get", { key: "n" })).details).toEqual({ key: "n", version: 0 });
    expect(await call("state:set", { key: "n", value: 1 })).toEqual({ key: "n", value: 1, version: 1 });
    expect(await call("state:set", { key: "n", value: 2 })).toEqual({ key: "n", value: 2, version: 2, previous: 1 });
    await call("state:set", { key: "m", value: "x" });
    expect(await call("state:get", { key: "n" })).toEqual({ key: "n", value: 2, version: 2 });
    expect(await call("state:list", {})).toEqual({ entries: [{ key: "m", value: "x", version: 1 }, { key: "n", value: 2, version: 2 }] });
  });

  it("a key deleted and set again continues above its old version (no ABA)", async () => {
    const { call, refusal } = await started();
    for (let i = 1; i <= 5; i++) await call("state:set", { key: "lock", value: `holder ${i}` });
    await call("state:delete", { key: "lock" });
    expect((await call("state:set", { key: "lock", value: "new holder" })).version).toBe(6);
    // A writer that read version 1 long ago cannot win against the new key.
    expect((await refusal("state:set", { key: "lock", value: "stale", expect: { version: 1 } })).code).toBe("conflict");
  });

  it("versions and deleted versions survive a restart", async () => {
    const first = await started();
    await first.call("state:set", { key: "a", value: 1 });
    await first.call("state:set", { key: "a", value: 2 });
    for (let i = 0; i < 3; i++) await first.call("state:set", { key: "gone", value: i });
    await first.call("state:delete", { key: "gone" });
    const journal = replayJournal(await readFile(join(dir, "state.ndjson")));
    expect([Object.fromEntries(journal.values), Object.fromEntries(journal.versions), journal.highestDeletedVersion]).toEqual([{ a: 2 }, { a: 2 }, 3]);

    await first.mod.stop?.();
    const second = await started();
    expect(await second.call("state:get", { key: "a" })).toEqual({ key: "a", value: 2, version: 2 });
    expect((await second.call("state:set", { key: "a", value: 3, expect: { version: 2 } })).version).toBe(3);
    expect((await second.call("state:set", { key: "gone", value: "back" })).version).toBe(4);
  });
});

describe("compare-and-set", () => {
  it("expect {version: 0} creates a key only while it is absent", async () => {
    const { call, refusal } = await started();
    expect(await call("state:set", { key: "lock", value: "me", expect: { version: 0 } })).toEqual({ key: "lock", value: "me", version: 1 });
    const conflict = await refusal("state:set", { key: "lock", value: "you", expect: { version: 0 } });
    expect(conflict.code).toBe("conflict");
    expect(conflict.details).toEqual({ key: "lock", version: 1, value: "me", expected: { version: 0 } });
  });

  it("expect a value: deep-equal wins, anything else is a conflict with the current value", async () => {
    const { call, refusal } = await started();
    await call("state:set", { key: "cfg", value: { limit: 5, tags: ["a"] } });
    expect((await call("state:set", { key: "cfg", value: { limit: 6 }, expect: { tags: ["a"], limit: 5 } })).version).toBe(2);
    const conflict = await refusal("state:set", { key: "cfg", value: { limit: 7 }, expect: { tags: ["a"], limit: 5 } });
    expect(conflict.details).toMatchObject({ version: 2, value: { limit: 6 } });
    expect(await call("state:get", { key: "cfg" })).toMatchObject({ value: { limit: 6 } });
  });

  it("of 8 sets expecting the same version at once, exactly one wins", async () => {
    const { call } = await started();
    await call("state:set", { key: "turn", value: "start" });
    for (let round = 1; round <= 5; round++) {
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => call("state:set", { key: "turn", value: `r${round} w${i}`, expect: { version: round } })));
      const winners = outcomes.filter((o) => o.status === "fulfilled");
      expect(winners, `round ${round}`).toHaveLength(1);
      for (const o of outcomes) if (o.status === "rejected") expect((o.reason as DaemonError).details).toMatchObject({ version: round + 1 });
    }
  });

  it("of 8 sets woken together by the write they waited for, exactly one wins", async () => {
    const { call } = await started();
    await call("state:set", { key: "turn", value: "start" });
    const overwrite = call("state:set", { key: "turn", value: "overwritten" });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => call("state:set", { key: "turn", value: `w${i}`, expect: { version: 2 } })));
    expect((await overwrite).version).toBe(2);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await call("state:get", { key: "turn" })).toMatchObject({ version: 3 });
  });

  it("a set behind an unconditional one still on its way decides on that one, once written", async () => {
    const { call, refusal } = await started();
    await call("state:set", { key: "k", value: "old" });
    const [overwrite, conflict] = await Promise.all([call("state:set", { key: "k", value: "new" }), refusal("state:set", { key: "k", value: "mine", expect: "old" })]);
    expect(overwrite.version).toBe(2);
    expect(conflict.details).toMatchObject({ version: 2, value: "new" });
  });

  it("8 writers incrementing a counter 50 times each with read-CAS-retry lose no update", async () => {
    const { call } = await started();
    const writer = async () => {
      for (let done = 0; done < 50; ) {
        const current = await call("state:get", { key: "counter" }).catch(() => ({ value: 0, version: 0 }));
        const won = await call("state:set", { key: "counter", value: (current.value as number) + 1, expect: { version: current.version } }).then(
          () => true,
          () => false,
        );
        if (won) done++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    expect(await call("state:get", { key: "counter" })).toEqual({ key: "counter", value: 400, version: 400 });
  });
});

describe("the byte cap", () => {
  const value = (bytes: number) => "x".repeat(bytes - 2); // a JSON string of `bytes` bytes

  it("a set that would take the state past it is limit_exceeded naming the cap and the size, and nothing is written", async () => {
    const { mod, call, refusal } = await started(1_000);
    await call("state:set", { key: "a", value: value(400) });
    await call("state:set", { key: "b", value: value(400) });
    const health = () => mod.health!() as { state_bytes: number; state_journal_bytes: number };
    expect(health().state_bytes).toBe(802);
    const journalBefore = health().state_journal_bytes;

    const refused = await refusal("state:set", { key: "c", value: value(300) });
    expect(refused.code).toBe("limit_exceeded");
    expect(refused.message).toMatch(/at most 1000 bytes of keys and values \(PATTERND_STATE_MAX_BYTES\); it holds 802, and this set would make it 1103; delete some keys first/);
    expect(refused.details).toEqual({ limit: 1_000, size: 802, requested: 1_103 });
    expect((await refusal("state:get", { key: "c" })).code).toBe("not_found");
    expect(health()).toMatchObject({ state_bytes: 802, state_journal_bytes: journalBefore });

    // Growing a key counts only the growth; shrinking or deleting makes room.
    expect((await refusal("state:set", { key: "a", value: value(600) })).details).toMatchObject({ size: 802, requested: 1_002 });
    await call("state:set", { key: "a", value: value(100) });
    await call("state:set", { key: "c", value: value(300) });
    await call("state:delete", { key: "b" });
    await call("state:set", { key: "a", value: value(590) });
    expect(health().state_bytes).toBe(892);
  });

  it("changes still on their way count: of a burst, the sets that would pass the cap are refused", async () => {
    const { call } = await started(1_000);
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => call("state:set", { key: `k${i}`, value: value(300) })));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
  });

  it("a state above the cap (a smaller cap after a restart) can still be shrunk, not grown", async () => {
    const first = await started();
    await first.call("state:set", { key: "big", value: value(5_000) });
    await first.mod.stop?.();
    const { call, refusal } = await started(1_000);
    expect((await refusal("state:set", { key: "other", value: 1 })).code).toBe("limit_exceeded");
    expect((await call("state:set", { key: "big", value: value(4_000) })).version).toBe(2);
    await call("state:delete", { key: "big" });
    expect((await call("state:set", { key: "other", value: 1 })).version).toBe(3);
  });
});

describe("the nested view conditions read", () => {
  it("follows each durable change without being rebuilt: the other keys' objects stay the very same (issue 22)", async () => {
    const { mod, call } = await started();
    await call("state:set", { key: "run_1.status", value: "done" });
    await call("state:set", { key: "run_1", value: { status: "old", attempts: 2 } });
    await call("state:set", { key: "cfg", value: { limit: 5 } });
    const view = mod.view.nested();
    const cfg = view.cfg;
    expect(view).toStrictEqual({ run_1: { status: "done", attempts: 2 }, cfg: { limit: 5 } });

    await call("state:set", { key: "run_2.status", value: "running" });
    // Before, every change dropped the view and the next read rebuilt all of it (a new object for every key).
    expect(mod.view.nested()).toBe(view);
    expect(view.cfg).toBe(cfg);
    await call("state:delete", { key: "run_1.status" });
    expect(view).toStrictEqual({ run_1: { status: "old", attempts: 2 }, run_2: { status: "running" }, cfg: { limit: 5 } });

    // A restart builds the same view from the journal.
    await mod.stop?.();
    running.splice(running.indexOf(mod), 1);
    expect((await started()).mod.view.nested()).toStrictEqual(view);
  });
});
