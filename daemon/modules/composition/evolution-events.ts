/**
 * composition:fork / merge / diff / lineage: thin handlers over
 * PatternEvolution. Fork and merge are mutations and are published as
 * composition:changed like the others.
 */
import { z } from "zod";
import { diffResult, forkResult, lineageResult, mergeResult } from "./results.js";
import { defineEvent, type EventDef } from "../../core/event.js";
import { pathKeyedSchema } from "./model/modifications.js";
import { labelledRefSchema, nameSchema } from "./model/ref.js";
import { versionSchema } from "./model/schema.js";
import type { PatternEvolution } from "./store/evolution.js";
import type { Mutation } from "./store/pattern-store.js";

const MAX_MODIFICATIONS = 100;
const MAX_RESOLVE = 100;

/** `branch()`: the store's branch, named in every reply that names a commit. `patternOf(ref)`: the pattern a ref names, once it resolves. */
export function evolutionEvents(
  evolution: PatternEvolution,
  changed: (mutation: Mutation, agentId: string | undefined) => void,
  branch: () => string | null,
  patternOf: (ref: string) => Promise<string>,
): EventDef[] {
  const fork = defineEvent({
    name: "composition:fork",
    summary: "Fork a pattern under a new name, with lineage, optionally modified: one commit, tagged name@version",
    description:
      "Copies the parent (current, or a tagged version with parent: name@version) with every section, comment and key order, " +
      "records lineage {parent, parent_commit, fork_date, fork_reason, fork_author} and adds the fork to the parent's forks list. " +
      "The fork starts with no performance (the parent's is kept as lineage.parent_performance, which select and discover do not read); learnings are kept. " +
      "modifications set values by dotted path (orchestration_logic.strategy, metadata.tags); a path never turns a scalar or list into a map; " +
      "a map given for a map is merged into it key by key unless replace_maps: true; name, version, lineage, forks, merges and performance cannot be modified. " +
      "new_paths lists the paths the parent did not have.",
    params: z.strictObject({
      parent: labelledRefSchema,
      name: nameSchema,
      reason: z.string().trim().min(1, "say why you fork (one line is enough)").max(500),
      modifications: pathKeyedSchema(MAX_MODIFICATIONS).optional(),
      replace_maps: z.boolean().optional().describe("a map given for a map replaces it whole instead of merging key by key"),
      version: versionSchema.optional().describe("the fork's version (default 0.1.0)"),
    }),
    result: forkResult,
    example: {
      parent: "tournament",
      name: "tournament_swiss",
      reason: "Swiss pairing for 5-10 participants",
      modifications: { "metadata.tags": ["tournament", "swiss"] },
    },
    handler: async (data, call) => {
      const result = await evolution.fork(data, call.agentId);
      changed(result, call.agentId);
      return { name: result.name, version: result.version, parent: result.parent, commit: result.commit, branch: branch(), new_paths: result.new_paths };
    },
  });

  const merge = defineEvent({
    name: "composition:merge",
    summary: "3-way merge a fork back into its parent (or another ancestor): one commit, minor version bumped",
    description:
      "The base is the target as the fork was taken from it (or the source as it was last merged). Maps merge by key, components by name, " +
      "multi-line text line by line; overlapping edits are merge_conflict with {path, base, ours, theirs} unless resolve settles them " +
      "(conflict path → the value to keep, whole; null leaves it out; a path that is not a conflict is invalid_params) " +
      "or strategy ours or theirs decides the rest. The target keeps its name, version, lineage, forks, merges and performance; " +
      "the fork's description is taken only when the fork changed it after it was forked. " +
      "dry_run returns the result and the conflicts without writing.",
    params: z.strictObject({
      source: nameSchema.describe("the fork to merge"),
      target: nameSchema.optional().describe("default: the source's lineage.parent"),
      strategy: z.enum(["auto", "ours", "theirs"]).default("auto"),
      dry_run: z.boolean().default(false),
      message: z.string().trim().min(1).max(500).optional(),
      resolve: z
        .record(z.string().min(1).max(500), z.unknown())
        .refine((r) => Object.keys(r).length <= MAX_RESOLVE, { message: `at most ${MAX_RESOLVE} resolutions` })
        .optional()
        .describe("conflict path (as merge_conflict lists it) → the value to keep there; null leaves it out"),
    }),
    result: mergeResult,
    example: { source: "tournament_swiss", dry_run: true },
    handler: async (data, call) => {
      const result = await evolution.merge(data, call.agentId);
      if (!("commit" in result)) return result;
      changed({ name: result.name, version: result.version, op: "merge", commit: result.commit }, call.agentId);
      return { ...result, branch: branch() };
    },
  });

  const diff = defineEvent({
    name: "composition:diff",
    effect: "read",
    summary: "Structural diff of two refs (components matched by name), or a unified line diff of their YAML",
    params: z.strictObject({ left: labelledRefSchema, right: labelledRefSchema, format: z.enum(["changes", "unified"]).default("changes") }),
    result: diffResult,
    example: { left: "tournament@1.0.0", right: "tournament" },
    handler: (data) => evolution.diff(data.left, data.right, data.format),
  });

  const lineage = defineEvent({
    name: "composition:lineage",
    effect: "read",
    summary: "Ancestors and descendants of a pattern through lineage.parent and forks: JSON, tree, Mermaid or DOT",
    params: z.strictObject({
      name: labelledRefSchema.describe("the pattern (a ref such as name@label names its pattern)"),
      direction: z.enum(["up", "down", "both"]).default("both"),
      format: z.enum(["json", "tree", "mermaid", "dot"]).default("json"),
    }),
    result: lineageResult,
    example: { name: "tournament", format: "tree" },
    handler: async (data) => evolution.lineage(await patternOf(data.name), data.direction, data.format),
  });

  return [fork, merge, diff, lineage] as EventDef[];
}
