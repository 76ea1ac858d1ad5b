/**
 * composition:label / labels / label_history / resolve (issue 17): thin
 * handlers over StoreLabels. A label is a movable name for a version
 * (`production`, `staging`) kept in labels.yaml at the store's root, or a
 * weighted split between versions under trial; every move is one commit.
 */
import { z } from "zod";
import { defineEvent, type EventDef } from "../../core/event.js";
import { labelNameSchema, splitSchema, MAX_ARMS } from "./model/labels.js";
import { labelledRefSchema, nameSchema } from "./model/ref.js";
import { versionSchema } from "./model/schema.js";
import type { StoreLabels } from "./store/store-labels.js";

const target = z
  .union([z.string().describe("a version of the pattern"), z.object({ split: z.record(z.string(), z.number()).describe('"name@version" → weight (fractions of 1)') })])
  .describe("a version, or {split}");

const labelEntry = z.object({ name: z.string(), label: z.string(), target, protected: z.boolean() });

const labelResult = z.object({
  name: z.string(),
  label: z.string(),
  target,
  previous: target.nullable().describe("what it pointed at before; null for a new label"),
  protected: z.boolean(),
  commit: z.string().nullable().describe("the move's commit (unchanged: the last commit of labels.yaml)"),
  branch: z.string().nullable(),
  unchanged: z.literal(true).optional().describe("it pointed there already: nothing committed"),
});

const historyResult = z.object({
  name: z.string(),
  label: z.string(),
  moves: z.array(
    z.object({
      commit: z.string(),
      date: z.string(),
      author: z.string(),
      op: z.string().describe("label (a move the daemon made) or manual (a person's commit of labels.yaml)"),
      from: target.nullable(),
      to: target.nullable().describe("null: the label was removed"),
      protected: z.boolean(),
      agent: z.string().optional(),
      reason: z.string().optional(),
      forced: z.literal(true).optional().describe("a protected label moved with force"),
    }),
  ),
});

const resolveResult = z.object({
  ref: z.string(),
  name: z.string().describe("the pattern of the version resolved (a split's arm may be another pattern, a fork under trial)"),
  version: z.string(),
  label: z.string().optional(),
  arm: z.string().optional().describe("a split label: the arm the key gets, as name@version"),
});

/** `branch()`: the store's branch, named in every reply that names a commit. */
export function labelEvents(labels: StoreLabels, branch: () => string | null): EventDef[] {
  const label = defineEvent({
    name: "composition:label",
    summary: "Point a label of a pattern (production, staging…) at a version, or split it between versions for a trial: one commit",
    description:
      "Labels live in labels.yaml at the store's root; every move is one commit with trailers Op: label, Pattern, Label, From, To, Agent, Reason, " +
      "so git log -- labels.yaml is their history (composition:label_history), and a rollback is a move back. " +
      "A label is a lower-case letter, then up to 63 lower-case letters, digits, _ and -; latest is implicit (the current version) and never stored. " +
      "version must be a version of the pattern (its name@version tag), else not_found listing those there are. " +
      `split: {"name@version": weight} over 2-${MAX_ARMS} exact versions, of this pattern or any other (a fork trialled against its parent); ` +
      "the weights are positive and written normalised to fractions of 1. A label marked protected (protected: true here, or in the file) " +
      "moves only with force: true and a reason, else conflict. name@label is then accepted wherever a ref is taken; a split label only by composition:resolve.",
    params: z
      .strictObject({
        name: nameSchema,
        label: labelNameSchema,
        version: versionSchema.optional().describe("the version to point at"),
        split: splitSchema.optional(),
        reason: z.string().trim().min(1).max(500).optional().describe("why (a commit trailer); required to move a protected label"),
        force: z.boolean().optional().describe("move a protected label (with a reason)"),
        protected: z.boolean().optional().describe("mark the label protected (true) or not (false); unchanged when left out"),
      })
      .refine((d) => (d.version === undefined) !== (d.split === undefined), { message: "give version (one version) or split ({\"name@version\": weight}), one of them" }),
    result: labelResult,
    example: { name: "tournament", label: "production", version: "1.0.0", reason: "passed review" },
    handler: async (data, call) => ({ ...(await labels.move(data, call.agentId)), branch: branch() }),
  });

  const list = defineEvent({
    name: "composition:labels",
    effect: "read",
    summary: "The labels of every pattern, or of one, and what each points at now",
    description: "From labels.yaml as the store has it now (a person's edit included). Each: name, label, target (a version, or {split}), protected.",
    params: z.strictObject({ name: nameSchema.optional() }),
    result: z.object({ labels: z.array(labelEntry) }),
    example: { name: "tournament" },
    handler: (data) => ({ labels: labels.list().filter((l) => data.name === undefined || l.name === data.name) }),
  });

  const history = defineEvent({
    name: "composition:label_history",
    effect: "read",
    summary: "The moves of one label from git (git log -- labels.yaml), newest first: from, to, who, why",
    description: "Each commit of labels.yaml that changed the label counts, a person's as well as the daemon's (op manual); agent, reason and forced come from the daemon's trailers.",
    params: z.strictObject({ name: nameSchema, label: labelNameSchema }),
    result: historyResult,
    example: { name: "tournament", label: "production" },
    handler: async (data) => ({ name: data.name, label: data.label, moves: await labels.history(data.name, data.label) }),
  });

  const resolve = defineEvent({
    name: "composition:resolve",
    effect: "read",
    summary: "The exact version a ref names for a caller: a split label's arm by a hash of key (the same key always gets the same arm)",
    description:
      "ref: name (the current version), name@version, name@label or name@latest. For a split label, key (a run id, say) is required and picks the arm: " +
      "deterministic and sticky while the split is the same, and over many keys each arm gets its weight's share.",
    params: z.strictObject({ ref: labelledRefSchema, key: z.string().min(1).max(256).optional().describe("the caller's key (run id); required for a split label") }),
    result: resolveResult,
    example: { ref: "tournament@production", key: "run-42" },
    handler: (data) => labels.resolve(data.ref, data.key),
  });

  return [label, list, history, resolve] as EventDef[];
}
