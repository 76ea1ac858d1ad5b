/**
 * state:set / get / delete / list: the small key-value state that emit
 * conditions read, and that handlers coordinate through: every key has a
 * version, and a set with `expect` is a compare-and-set.
 */
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent } from "../../core/event.js";
import type { Module, ModuleContext } from "../../core/module.js";
import { keyProblem, underPrefix } from "./kv.js";
import { NestedView } from "./nested-view.js";
import { StateJournal } from "./state-journal.js";
import { loadState } from "./state-load.js";
import { deleteLine, metaLine, SET_LINE_OVERHEAD, setLine, stateBytes } from "./state-record.js";
import { ABSENT_VERSION, expectationConflict, nextVersion, versionExpectationProblem, type Versioned } from "./versions.js";

const MAX_ENTRIES = 10_000;
const MAX_VALUE_BYTES = 256 * 1024;

const stateKey = z
  .string()
  .min(1)
  .max(256)
  .superRefine((key, issue) => {
    const problem = keyProblem(key);
    if (problem !== null) issue.addIssue({ code: "custom", message: problem });
  })
  .describe("dotted key, e.g. run_42.status");

/** What other modules may read: the state as one nested object. */
export interface StateView {
  /** Kept up to date in place (nested-view.ts): read it within the turn it was got in, never keep or change it. */
  nested(): Record<string, unknown>;
}

interface Change {
  deleted: boolean;
  value: unknown;
  /** The key's version once the change is written; for a delete, the version it retires. */
  version: number;
  /** What the key counts against the byte cap once the change is written (0: deleted). */
  bytes: number;
}

const expectation = z
  .json()
  .describe(
    "compare-and-set: set only if the key still holds this value (deep-equal), or is at {version: N} (from state:get); {version: 0}: only if the key does not exist. Otherwise conflict, with the current version and value in details",
  );

export interface StateModule extends Module {
  readonly view: StateView;
}

export function stateModule(ctx: ModuleContext): StateModule {
  const maxStateBytes = ctx.config.limits.maxStateBytes;
  /**
   * What the journal holds durably: the view every read and emit condition sees.
   * A change joins it only once the fsync holding it returned (issue 24):
   * a change a full disk refused was never visible to anyone.
   */
  let entries = new Map<string, unknown>();
  let versions = new Map<string, number>();
  /** Each key's bytes counted against maxStateBytes, and their sum. */
  let sizes = new Map<string, number>();
  let totalBytes = 0;
  /** The highest version a deleted key had (deletes on their way included): a key set again starts above it. */
  let highestDeletedVersion = 0;
  /** The entries as one nested object, following each change: what conditions read. */
  let nested = new NestedView();
  /** Changes on their way to disk, the newest per key (deleted: a state:delete). */
  const pending = new Map<string, Change>();
  let journal: StateJournal | undefined;
  const apply = (key: string, change: Change) => {
    totalBytes -= sizes.get(key) ?? 0;
    if (change.deleted) {
      entries.delete(key);
      versions.delete(key);
      sizes.delete(key);
      nested.delete(key);
    } else {
      entries.set(key, change.value);
      versions.set(key, change.version);
      sizes.set(key, change.bytes);
      totalBytes += change.bytes;
      nested.set(key, change.value);
    }
  };
  /** The key's value with the changes on their way applied (what a change builds on); undefined: absent. */
  const latest = (key: string): (Versioned & { bytes: number }) | undefined => {
    const change = pending.get(key);
    if (change !== undefined) return change.deleted ? undefined : change;
    return entries.has(key) ? { value: entries.get(key), version: versions.get(key)!, bytes: sizes.get(key)! } : undefined;
  };
  /** The key as the journal holds it durably (what reads see); undefined: absent. */
  const durable = (key: string): Versioned | undefined => (entries.has(key) ? { value: entries.get(key), version: versions.get(key)! } : undefined);
  /** Keys and bytes there will be once the changes on their way are written. */
  const afterPending = () => {
    let keys = entries.size;
    let bytes = totalBytes;
    for (const [key, change] of pending) {
      keys += (change.deleted ? 0 : 1) - (entries.has(key) ? 1 : 0);
      bytes += change.bytes - (sizes.get(key) ?? 0);
    }
    return { keys, bytes };
  };
  /** Settles once every change accepted so far is written or refused. */
  let settled: Promise<void> = Promise.resolve();
  const change = (key: string, next: Change, line: string) => {
    pending.set(key, next);
    const saved = journal!.append(line, (isDurable) => {
      if (pending.get(key) === next) pending.delete(key);
      if (isDurable) apply(key, next);
    });
    settled = saved.catch(() => undefined);
    return saved;
  };
  const set = defineEvent({
    name: "state:set",
    effect: "destroy",
    summary: "Set a key to any JSON value (durable before the reply); with expect, only if the key is as expected",
    description:
      "Replies {key, value, version, previous?}. Each change of a key raises its version by one; a key that does not exist is at version 0, and one set anew " +
      "starts above every version a deleted key had (at 1 when nothing was deleted), so a version is never handed out twice for a key. " +
      "With expect (compare-and-set) the set happens only if the key still holds the expected value or version; of several sets expecting the same thing, " +
      "exactly one wins and the others get conflict with details {key, version, value?, expected} (no value: the key does not exist). " +
      "limit_exceeded: a value over 256 KB of JSON, a 10 001st key, or a set that would take the state past its byte cap " +
      "(keys and values as JSON, 64 MiB unless PATTERND_STATE_MAX_BYTES says otherwise; details {limit, size, requested}).",
    params: z
      .strictObject({ key: stateKey, value: z.json().describe("any JSON value"), expect: expectation.optional() })
      // Checked on the object, not on expect itself: a refined z.json() would no longer be the plain JSON type in the schema clients read.
      .superRefine((data, issue) => {
        const problem = versionExpectationProblem(data.expect);
        if (problem !== null) issue.addIssue({ code: "custom", path: ["expect"], message: problem });
      }),
    result: z.object({ key: z.string(), value: z.unknown(), version: z.number().int(), previous: z.unknown().optional().describe("the value it replaced; absent when the key was new") }),
    example: { key: "run_42.attempts", value: 3, expect: { version: 2 } },
    handler: async (data) => {
      const valueJson = JSON.stringify(data.value);
      const bytes = Buffer.byteLength(valueJson);
      if (bytes > MAX_VALUE_BYTES) {
        throw new DaemonError("limit_exceeded", `a state value may be at most ${MAX_VALUE_BYTES} bytes, this one is ${bytes}`, { limit: MAX_VALUE_BYTES });
      }
      if (data.expect !== undefined) {
        // A compare-and-set decides on what is on disk, never on a change still on its way: that one may yet be
        // refused (a full disk), and a conflict must only show a value others can read. So it waits until the key
        // has no change on its way, then checks and queues its own change in the same turn (no await in between):
        // of two sets expecting the same thing, one wins. A change still there once its write settled was left
        // behind by a write whose snapshot threw: it decides on the disk then.
        for (let waited: Change | undefined; pending.has(data.key) && pending.get(data.key) !== waited; ) {
          waited = pending.get(data.key);
          await settled;
        }
        const conflict = expectationConflict(data.key, data.expect, durable(data.key));
        if (conflict !== null) throw conflict;
      }
      const before = latest(data.key);
      const total = afterPending();
      if (before === undefined && total.keys >= MAX_ENTRIES) {
        throw new DaemonError("limit_exceeded", `the state holds at most ${MAX_ENTRIES} keys; delete some first`, { limit: MAX_ENTRIES });
      }
      const keyBytes = stateBytes(data.key, valueJson);
      const grown = total.bytes - (before?.bytes ?? 0) + keyBytes;
      // A set that does not grow the state is taken even above the cap (a state.json carried over may be larger), so it can be shrunk.
      if (grown > maxStateBytes && keyBytes > (before?.bytes ?? 0)) {
        throw new DaemonError(
          "limit_exceeded",
          `the state may hold at most ${maxStateBytes} bytes of keys and values (PATTERND_STATE_MAX_BYTES); it holds ${total.bytes}, and this set would make it ${grown}; delete some keys first`,
          { limit: maxStateBytes, size: total.bytes, requested: grown },
        );
      }
      const version = nextVersion(before, highestDeletedVersion);
      await change(data.key, { deleted: false, value: data.value, version, bytes: keyBytes }, setLine(data.key, version, valueJson));
      const reply = { key: data.key, value: data.value, version };
      return before === undefined ? reply : { ...reply, previous: before.value };
    },
  });

  const get = defineEvent({
    name: "state:get",
    effect: "read",
    summary: "Read one key: {key, value, version}",
    params: z.strictObject({ key: stateKey }),
    result: z.object({ key: z.string(), value: z.unknown(), version: z.number().int() }),
    example: { key: "run_42.status" },
    handler: (data) => {
      if (!entries.has(data.key)) {
        const under = underPrefix(entries, data.key).length;
        const hint = under > 0 ? `; ${under} keys lie under it (state:list {prefix: "${data.key}"})` : "";
        throw new DaemonError("not_found", `no state key ${data.key}${hint}`, { key: data.key, version: ABSENT_VERSION });
      }
      return { key: data.key, value: entries.get(data.key), version: versions.get(data.key) };
    },
  });

  const remove = defineEvent({
    name: "state:delete",
    effect: "destroy",
    summary: "Delete one key",
    params: z.strictObject({ key: stateKey }),
    result: z.object({ deleted: z.literal(true) }),
    example: { key: "run_42.status" },
    handler: async (data) => {
      const before = latest(data.key);
      if (before === undefined) throw new DaemonError("not_found", `no state key ${data.key}`);
      highestDeletedVersion = Math.max(highestDeletedVersion, before.version);
      await change(data.key, { deleted: true, value: undefined, version: before.version, bytes: 0 }, deleteLine(data.key, before.version));
      return { deleted: true };
    },
  });

  const list = defineEvent({
    name: "state:list",
    effect: "read",
    summary: "List keys with their values and versions, optionally under a prefix",
    params: z.strictObject({ prefix: z.string().max(256).optional() }),
    result: z.object({ entries: z.array(z.object({ key: z.string(), value: z.unknown(), version: z.number().int() })) }),
    example: { prefix: "run_42" },
    handler: (data) => ({ entries: underPrefix(entries, data.prefix).map((entry) => ({ ...entry, version: versions.get(entry.key) })) }),
  });

  return {
    name: "state",
    events: [set, get, remove, list],
    async start() {
      const loaded = await loadState(ctx.config.stateJournal, ctx.config.legacyStateFile, ctx.log);
      ({ values: entries, versions, sizes, highestDeletedVersion } = loaded);
      for (const size of sizes.values()) totalBytes += size;
      nested = NestedView.of(entries);
      journal = StateJournal.open(ctx.config.stateJournal, loaded.wholeBytes, {
        log: ctx.log,
        live: {
          bytes: () => totalBytes + SET_LINE_OVERHEAD * entries.size,
          *lines() {
            yield metaLine(highestDeletedVersion);
            for (const [key, value] of entries) yield setLine(key, versions.get(key)!, JSON.stringify(value));
          },
        },
      });
    },
    stop: () => journal?.close(),
    health: () => ({ state_keys: entries.size, state_bytes: totalBytes, state_journal_bytes: journal?.stats().bytes ?? 0 }),
    view: {
      nested: () => nested.current(),
    },
  };
}
