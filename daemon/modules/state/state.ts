/** state:set / get / delete / list: the small key-value state that emit conditions read. */
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent } from "../../core/event.js";
import type { Module, ModuleContext } from "../../core/module.js";
import { keyProblem, nest, underPrefix } from "./kv.js";
import { StateFile } from "./state-file.js";

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
  nested(): Record<string, unknown>;
}

interface Change {
  deleted: boolean;
  value: unknown;
}

export interface StateModule extends Module {
  readonly view: StateView;
}

export function stateModule(ctx: ModuleContext): StateModule {
  /**
   * What state.json holds: the view every read and emit condition sees.
   * A change joins it only once the write holding it is durable (issue 24):
   * a change a full disk refused was never visible to anyone.
   */
  let entries = new Map<string, unknown>();
  let nestedCache: Record<string, unknown> | null = null;
  /** Changes on their way to disk, the newest per key (deleted: a state:delete). */
  const pending = new Map<string, Change>();
  /** The changes the write in flight holds (taken with its snapshot). */
  let writing: [string, Change][] = [];
  const written = (apply: boolean) => {
    for (const [key, change] of writing) {
      if (apply && change.deleted) entries.delete(key);
      else if (apply) entries.set(key, change.value);
      if (pending.get(key) === change) pending.delete(key);
    }
    writing = [];
    if (apply) nestedCache = null;
  };
  const file = new StateFile(
    ctx.config.stateFile,
    () => {
      writing = [...pending];
      const next = Object.fromEntries(entries);
      for (const [key, change] of writing) {
        if (change.deleted) delete next[key];
        else next[key] = change.value;
      }
      return next;
    },
    () => written(false),
    () => written(true),
  );
  /** The key's value with the changes on their way applied (what a change builds on); undefined: absent. */
  const latest = (key: string): { value: unknown } | undefined => {
    const change = pending.get(key);
    if (change !== undefined) return change.deleted ? undefined : { value: change.value };
    return entries.has(key) ? { value: entries.get(key) } : undefined;
  };
  /** Keys there will be once the changes on their way are written. */
  const sizeAfterPending = () => {
    let size = entries.size;
    for (const [key, change] of pending) size += (change.deleted ? 0 : 1) - (entries.has(key) ? 1 : 0);
    return size;
  };
  const change = (key: string, next: Change) => {
    pending.set(key, next);
    return file.save();
  };

  const set = defineEvent({
    name: "state:set",
    summary: "Set a key to any JSON value (durable before the reply)",
    params: z.strictObject({ key: stateKey, value: z.json().describe("any JSON value") }),
    example: { key: "run_42.status", value: "running" },
    handler: async (data) => {
      const bytes = Buffer.byteLength(JSON.stringify(data.value));
      if (bytes > MAX_VALUE_BYTES) {
        throw new DaemonError("limit_exceeded", `a state value may be at most ${MAX_VALUE_BYTES} bytes, this one is ${bytes}`, { limit: MAX_VALUE_BYTES });
      }
      const before = latest(data.key);
      if (before === undefined && sizeAfterPending() >= MAX_ENTRIES) {
        throw new DaemonError("limit_exceeded", `the state holds at most ${MAX_ENTRIES} keys; delete some first`, { limit: MAX_ENTRIES });
      }
      await change(data.key, { deleted: false, value: data.value });
      return before?.value === undefined ? { key: data.key, value: data.value } : { key: data.key, value: data.value, previous: before.value };
    },
  });

  const get = defineEvent({
    name: "state:get",
    summary: "Read one key",
    params: z.strictObject({ key: stateKey }),
    example: { key: "run_42.status" },
    handler: (data) => {
      if (!entries.has(data.key)) {
        const under = underPrefix(entries, data.key).length;
        const hint = under > 0 ? `; ${under} keys lie under it (state:list {prefix: "${data.key}"})` : "";
        throw new DaemonError("not_found", `no state key ${data.key}${hint}`);
      }
      return { key: data.key, value: entries.get(data.key) };
    },
  });

  const remove = defineEvent({
    name: "state:delete",
    summary: "Delete one key",
    params: z.strictObject({ key: stateKey }),
    example: { key: "run_42.status" },
    handler: async (data) => {
      if (latest(data.key) === undefined) throw new DaemonError("not_found", `no state key ${data.key}`);
      await change(data.key, { deleted: true, value: undefined });
      return { deleted: true };
    },
  });

  const list = defineEvent({
    name: "state:list",
    summary: "List keys and values, optionally under a prefix",
    params: z.strictObject({ prefix: z.string().max(256).optional() }),
    example: { prefix: "run_42" },
    handler: (data) => ({ entries: underPrefix(entries, data.prefix) }),
  });

  return {
    name: "state",
    events: [set, get, remove, list],
    async start() {
      try {
        entries = await file.load();
      } catch (err) {
        throw new Error(`cannot read ${ctx.config.stateFile}: ${(err as Error).message}; fix or move it away`, { cause: err });
      }
    },
    health: () => ({ state_keys: entries.size }),
    view: {
      nested: () => (nestedCache ??= nest(entries)),
    },
  };
}
