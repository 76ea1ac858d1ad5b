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

export interface StateModule extends Module {
  readonly view: StateView;
}

export function stateModule(ctx: ModuleContext): StateModule {
  let entries = new Map<string, unknown>();
  let nestedCache: Record<string, unknown> | null = null;
  const file = new StateFile(ctx.config.stateFile, () => Object.fromEntries(entries), (attempted, durable) => {
    // The changes that write held were refused (a full disk): each key it wrote goes back to what the file holds,
    // unless changed again since (that change rides on the next write).
    for (const key of new Set([...Object.keys(attempted), ...Object.keys(durable)])) {
      if (entries.get(key) !== attempted[key] || (attempted[key] === undefined && entries.has(key))) continue;
      if (Object.hasOwn(durable, key)) entries.set(key, durable[key]);
      else entries.delete(key);
    }
    nestedCache = null;
  });
  const changed = () => {
    nestedCache = null;
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
      if (!entries.has(data.key) && entries.size >= MAX_ENTRIES) {
        throw new DaemonError("limit_exceeded", `the state holds at most ${MAX_ENTRIES} keys; delete some first`, { limit: MAX_ENTRIES });
      }
      const previous = entries.get(data.key);
      entries.set(data.key, data.value);
      await changed();
      return previous === undefined ? { key: data.key, value: data.value } : { key: data.key, value: data.value, previous };
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
      if (!entries.delete(data.key)) throw new DaemonError("not_found", `no state key ${data.key}`);
      await changed();
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
