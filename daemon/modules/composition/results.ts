/**
 * What the composition events answer: one zod schema per event, the
 * `result` of its definition (system:help, system:discover and
 * docs/protocol.md show them). Kept apart from the handlers so that
 * composition.ts stays about what the events do; each schema names the
 * fields its handler builds.
 */
import { z } from "zod";

const issue = z.object({ path: z.string(), message: z.string() });
const warnings = z.array(issue).optional().describe("data faults that do not stop it being served, or what is accepted but probably not meant; absent when none");
const document = z.record(z.string(), z.unknown()).describe("the pattern's whole document as JSON");
const commit = z.string().describe("the commit made (or that holds it, when unchanged)");
const branch = z.string().nullable().describe("the store's branch the daemon commits to");
const change = z.object({
  op: z.enum(["add", "remove", "replace"]),
  path: z.string().describe("dotted path; components are matched by name"),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});

export const listResult = z.object({
  compositions: z.array(
    z.object({
      name: z.string(),
      type: z.string().optional(),
      version: z.string().optional(),
      description: z.string().optional(),
      path: z.string().optional().describe("the file, relative to the store"),
      dirty: z.literal(true).optional().describe("the file differs from HEAD (an edit not committed yet)"),
      warnings,
    }).describe("name, and each field asked for (all by default); dirty and warnings only when they apply"),
  ),
  total: z.number().int().describe("how many patterns there are (of the type asked for), on every page"),
  next_cursor: z.string().optional().describe("the cursor for the next page; absent on the last page"),
});

export const getResult = z.object({
  name: z.string(),
  version: z.string(),
  path: z.string(),
  commit: z.string().nullable().describe("the commit that holds what is served; null when dirty"),
  dirty: z.boolean(),
  composition: document.optional().describe("format json: the document"),
  yaml: z.string().optional().describe("format yaml: the document's YAML text"),
  warnings,
});

export const saveResult = z.object({
  name: z.string(),
  version: z.string(),
  commit,
  branch,
  unchanged: z.literal(true).optional().describe("identical content: nothing was committed"),
  warnings,
});

export const updateResult = saveResult.extend({
  new_paths: z.array(z.string()).describe("paths that did not exist before (a typo shows up here)"),
});

export const deleteResult = z.object({ deleted: z.literal(true), commit, branch });

export const validateResult = z.object({
  valid: z.boolean(),
  issues: z.array(issue).describe("what makes it invalid; empty when valid"),
  warnings,
  serving: z.string().optional().describe("a stored file that is invalid: the version still served"),
});

export const composeResult = z.object({
  composition: document.describe("the resolved document"),
  prompt: z.string().optional().describe("a profile's prompt"),
  unresolved: z.array(z.object({ name: z.string(), paths: z.array(z.string()) })).describe("placeholders nobody supplied, left as written"),
});

export const historyResult = z.object({
  versions: z.array(
    z.object({
      version: z.string().nullable(),
      commit: z.string(),
      date: z.string(),
      author: z.string(),
      op: z.string().describe("what made it: save, update, fork, merge, delete, external, manual…"),
      message: z.string().describe("the commit message's first line"),
    }),
  ),
  recorded: z.record(z.string(), z.unknown()).optional().describe("{lineage?, forks?, merges?} as the file records them"),
});

export const reloadResult = z.object({
  indexed: z.number().int(),
  invalid: z.array(z.object({ path: z.string(), issues: z.array(issue) })).describe("files that do not parse or validate; their last good version keeps serving"),
  ignored: z
    .array(
      z.object({
        path: z.string(),
        reason: z.enum(["unsafe_path", "decision_log", "labels", "hidden", "other_file", "no_front_matter", "not_a_composition"]),
        message: z.string(),
        target: z.string().optional().describe("unsafe_path: where the link points"),
      }),
    )
    .describe("files not indexed, and why"),
  warnings: z.array(issue),
});

export const forkResult = z.object({
  name: z.string(),
  version: z.string(),
  parent: z.string().describe("the parent as name@version"),
  commit,
  branch,
  new_paths: z.array(z.string()).describe("paths the parent did not have"),
});

const mergeCommon = {
  name: z.string().describe("the target"),
  version: z.string(),
  from: z.string().describe("the source as name@version"),
  base: z.string().describe("the base of the 3-way merge, as name@version"),
  changes: z.array(change).describe("what the merge changes in the target"),
};

export const mergeResult = z.union([
  z.object({ merged: z.literal(true), ...mergeCommon, commit, branch, resolved: z.array(z.string()).optional().describe("conflict paths settled by resolve") }).describe("merged"),
  z.object({ merged: z.literal(true), unchanged: z.literal(true), ...mergeCommon }).describe("nothing to merge"),
  z
    .object({
      dry_run: z.literal(true),
      clean: z.boolean().describe("no conflicts left"),
      ...mergeCommon,
      conflicts: z.array(z.object({ path: z.string(), base: z.unknown(), ours: z.unknown(), theirs: z.unknown() })).describe("null: the side does not have it"),
      resolved: z.array(z.string()).optional(),
      composition: document.describe("the merged document"),
    })
    .describe("dry_run: nothing written"),
]);

export const diffResult = z.object({
  left: z.string(),
  right: z.string(),
  left_version: z.string(),
  right_version: z.string(),
  changes: z.array(change).optional().describe("format changes"),
  unified: z.string().optional().describe("format unified: a unified diff of the YAML with git's a/ and b/ paths (--- a/orchestrations/NAME.yaml, the ref after a tab): git apply and patch -p1 take it in a checkout of the store"),
});

export const lineageResult = z.object({
  pattern: z.string(),
  direction: z.enum(["up", "down", "both"]),
  root: z.string().optional().describe("format json: the farthest ancestor shown"),
  ancestors: z.array(z.string()).optional().describe("format json: nearest first"),
  descendants: z.array(z.string()).optional().describe("format json: breadth-first"),
  nodes: z
    .array(z.object({ name: z.string(), version: z.string().optional(), parent: z.string().optional(), parent_version: z.string().optional(), missing: z.literal(true).optional() }))
    .optional()
    .describe("format json"),
  edges: z.array(z.object({ from: z.string(), to: z.string(), parent_version: z.string().optional() })).optional().describe("format json: parent to child"),
  format: z.enum(["tree", "mermaid", "dot"]).optional().describe("a text format"),
  text: z.string().optional().describe("format tree, mermaid or dot: the rendering"),
});

export const discoverResult = z.object({
  compositions: z.array(z.record(z.string(), z.unknown())).describe("name, type, version, the fields asked for (default: description), dirty: true when not committed"),
  total: z.number().int().describe("how many match, before limit and offset"),
});

export const selectResult = z.object({
  selected: z.string().nullable().describe("the best candidate's name; null when nothing fits"),
  explanation: z.string().optional().describe("why nothing was selected"),
  candidates: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      score: z.number().describe("relevance + evidence + similar_tasks + requirements"),
      breakdown: z.object({
        relevance: z.number(),
        evidence: z.number(),
        similar_tasks: z.number().describe("how the pattern went on past tasks like this one (decision records with a task), −0.4..0.4"),
        requirements: z.number(),
      }),
      reasons: z.array(z.string()),
      requirements_met: z.boolean(),
      unmet: z.array(z.object({ requirement: z.string(), reason: z.string() })).optional(),
    }),
  ),
  trial: z
    .object({
      label: z.string().describe("the split label, name@label"),
      arm: z.string().describe("the arm selected, name@version"),
      name: z.string(),
      version: z.string().describe("the version to run (not always the current one): record the run's decisions with it (track_decision version)"),
      key: z.string(),
      split: z.record(z.string(), z.number()),
    })
    .optional()
    .describe("explore only: the best candidate is under trial, and this arm of it is selected"),
});

const decisionRecord = z.object({
  id: z.string().optional(),
  pattern: z.string(),
  decision: z.string(),
  context: z.unknown(),
  outcome: z.string().nullable(),
  confidence: z.number().nullable(),
  agent_id: z.string().nullable(),
  timestamp: z.string().nullable(),
  pattern_version: z.string().optional(),
});

export const lintResult = z.object({
  findings: z.array(issue).describe("what makes the file invalid, or what it lacks to be found; empty when nothing"),
});

export const trackDecisionResult = z.object({
  tracked: decisionRecord,
  file: z.string().describe("the decision log, relative to the store"),
  warnings,
});

export const decisionsResult = z.object({
  pattern: z.string(),
  file: z.string(),
  decisions: z.array(decisionRecord).describe("newest first"),
  stats: z.object({
    total: z.number().int(),
    by_decision: z.record(z.string(), z.number()),
    by_outcome: z.record(z.string(), z.number()),
    mean_confidence: z.number().nullable(),
    first_seen: z.string().nullable(),
    last_seen: z.string().nullable(),
    successes: z.number().int(),
    failures: z.number().int(),
  }),
  issues: z.array(z.object({ line: z.number().int().optional(), message: z.string() })).optional().describe("what of the log could not be read"),
});
