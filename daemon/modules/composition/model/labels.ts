/**
 * labels.yaml (issue 17), pure: what the file may hold, what a label
 * targets, and a move as a lossless edit of the file's document.
 *
 * The shape, one mapping per pattern, one entry per label:
 *
 *     tournament:
 *       staging: 1.3.0                                   # short form: a version
 *       production: {version: 1.2.0, protected: true}    # long form: protected
 *       trial:
 *         split: {tournament@1.2.0: 0.5, tournament_swiss@0.1.0: 0.5}
 *
 * `protected: true` sits on the label it protects (not in a list beside
 * the labels), so one line says everything about a label, a person edits
 * one place, and no label name is reserved for the list. Weights are
 * normalised when the daemon writes them (fractions of 1); a hand-written
 * split (90 / 10) is read as it is: resolving divides by the sum.
 */
import { z } from "zod";
import { deepEqual, YamlDocument, type Issue } from "./document.js";
import { LABEL_PATTERN, LATEST, nameSchema, parseRef } from "./ref.js";
import { parseVersion } from "./version.js";

/** The file, at the store's root. */
export const LABELS_PATH = "labels.yaml";

/** Arms of a split: enough for any trial, few enough to read in one commit trailer. */
export const MAX_ARMS = 16;

/** Weights are written with this many decimals (a weight that rounds to 0 is refused). */
const WEIGHT_DECIMALS = 6;

/** The right form, said wherever the file or a request is refused. */
export const LABELS_FORM =
  "labels.yaml maps pattern → label → target: `production: 1.2.0`, `production: {version: 1.2.0, protected: true}`, " +
  'or `staging: {split: {"tournament@1.2.0": 0.9, "tournament_swiss@0.1.0": 0.1}}`';

export const labelNameSchema = z
  .string()
  .regex(LABEL_PATTERN, "a label is 1-64 characters: a lower-case letter, then lower-case letters, digits, _ and -")
  .refine((label) => label !== LATEST, { message: "latest is implicit (name@latest is always the current version) and is never stored; choose another label" })
  .describe("label name");

/** An exact `name@version` (an arm of a split). */
const armSchema = z.string().superRefine((text, issue) => {
  const ref = parseRef(text);
  if (!nameSchema.safeParse(ref.name).success || ref.version === undefined || parseVersion(ref.version) === null) {
    issue.addIssue({ code: "custom", message: `an arm is an exact name@version like tournament@1.2.0 (got ${JSON.stringify(text)})` });
  }
});

export const splitSchema = z
  .record(armSchema, z.number().positive("a weight is a positive number").finite())
  .refine((split) => Object.keys(split).length >= 2, { message: "a split has at least two arms (one version is a plain label: version: X)" })
  .refine((split) => Object.keys(split).length <= MAX_ARMS, { message: `a split has at most ${MAX_ARMS} arms` })
  .describe('"name@version" → weight (any positive numbers; written normalised to fractions of 1)');

const versionText = z.string().refine((v) => parseVersion(v) !== null, { message: "must be a version like 1.2.0" });

const entrySchema = z.union([
  versionText,
  z.strictObject({ version: versionText, protected: z.boolean().optional() }),
  z.strictObject({ split: splitSchema, protected: z.boolean().optional() }),
]);

const fileSchema = z.record(nameSchema, z.record(labelNameSchema, entrySchema).nullable());

/** What a label points at: one version of its pattern, or a weighted split over exact `name@version`s. */
export type Target = string | { split: Record<string, number> };

export interface Label {
  name: string;
  label: string;
  target: Target;
  protected: boolean;
}

/** The labels as the file holds them, in its order. */
export type LabelBook = Label[];

/** Reads the file's data (null or undefined: no file, or an empty one); issues name the path in the file and the problem. */
export function readLabels(data: unknown): { ok: true; labels: LabelBook } | { ok: false; issues: Issue[] } {
  if (data === null || data === undefined) return { ok: true, labels: [] };
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((issue) => explain(issue, [])) };
  const labels: LabelBook = [];
  for (const [name, entries] of Object.entries(parsed.data)) {
    for (const [label, entry] of Object.entries(entries ?? {})) labels.push({ name, label, ...entryTarget(entry) });
  }
  return { ok: true, labels };
}

/** An issue as a person reads it: the path in the file, and what is wrong there. */
function explain(issue: z.core.$ZodIssue, outer: PropertyKey[]): Issue {
  const path = [...outer, ...issue.path];
  // A union's own message says nothing: the branch that got furthest says what was wrong (an arm, a weight).
  if (issue.code === "invalid_union") {
    const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest !== undefined && deepest.path.length > 0) return explain(deepest, path);
    return { path: path.map(String).join("."), message: "a label's target is a version (1.2.0), {version, protected?} or {split: {\"name@version\": weight}, protected?}" };
  }
  // A label name that is not one: what is wrong with the name, not zod's "Invalid key in record".
  if (issue.code === "invalid_key") return { path: path.map(String).join("."), message: issue.issues[0]?.message ?? issue.message };
  if (issue.code === "invalid_type" && path.length <= 1) return { path: path.map(String).join("."), message: "each pattern maps its labels to targets (label: version)" };
  return { path: path.map(String).join("."), message: issue.message };
}

function entryTarget(entry: z.infer<typeof entrySchema>): { target: Target; protected: boolean } {
  if (typeof entry === "string") return { target: entry, protected: false };
  if ("version" in entry) return { target: entry.version, protected: entry.protected === true };
  return { target: { split: entry.split }, protected: entry.protected === true };
}

export function findLabel(labels: LabelBook, name: string, label: string): Label | undefined {
  return labels.find((l) => l.name === name && l.label === label);
}

/** Weights as fractions of 1, rounded (their order kept); null when one rounds to nothing. */
export function normaliseSplit(split: Record<string, number>): Record<string, number> | null {
  const total = Object.values(split).reduce((sum, weight) => sum + weight, 0);
  const scale = 10 ** WEIGHT_DECIMALS;
  const normalised = Object.fromEntries(Object.entries(split).map(([arm, weight]) => [arm, Math.round((weight / total) * scale) / scale]));
  return Object.values(normalised).some((weight) => weight <= 0) ? null : normalised;
}

/** One line for a commit trailer or a message: `1.2.0`, or `split tournament@1.2.0=0.5 tournament_swiss@0.1.0=0.5`; `none` for no label. */
export function describeTarget(target: Target | null): string {
  if (target === null) return "none";
  if (typeof target === "string") return target;
  return `split ${Object.entries(target.split)
    .map(([arm, weight]) => `${arm}=${weight}`)
    .join(" ")}`;
}

export function sameTarget(a: Target | null, b: Target | null): boolean {
  return deepEqual(a, b);
}

/**
 * The file's data after a move: `label` of `name` points at `target`,
 * and is protected when `protect` says so (undefined: as it was). The
 * short form is kept while it can say everything (an unprotected
 * version); a split or a protected label is written in the long form.
 */
export function movedEntry(existing: unknown, target: Target, protect: boolean | undefined): unknown {
  const wasProtected = typeof existing === "object" && existing !== null && (existing as { protected?: unknown }).protected === true;
  const isProtected = protect ?? wasProtected;
  if (typeof target === "string" && !isProtected) return target;
  const rest = typeof existing === "object" && existing !== null ? { ...(existing as Record<string, unknown>) } : {};
  delete rest.version;
  delete rest.split;
  delete rest.protected;
  return { ...(typeof target === "string" ? { version: target } : { split: target.split }), ...(isProtected ? { protected: true } : {}), ...rest };
}

/** What a new labels.yaml starts with: how to read and edit it by hand. */
export const LABELS_HEADER = `# Labels of this store's patterns: movable names for versions (pattern@label works wherever a ref is taken).
# Every move is one commit (git log -- labels.yaml is their history); composition:label moves them.
#   label: 1.2.0                                  a version of the pattern
#   label: {version: 1.2.0, protected: true}      moving it needs force and a reason
#   label: {split: {"name@version": weight, ...}}  a trial: composition:resolve picks an arm per key
`;

export type LabelsFile = { ok: true; labels: LabelBook; document: YamlDocument | null } | { ok: false; issues: Issue[] };

/**
 * The file's text (undefined: no file) read: its labels, and its document
 * to edit (null when it holds nothing yet: no file, or only comments).
 */
export function parseLabelsFile(text: string | undefined): LabelsFile {
  if (text === undefined || text.split("\n").every((line) => /^\s*(#.*)?$/.test(line))) return { ok: true, labels: [], document: null };
  const parsed = YamlDocument.parse(text);
  if (!parsed.ok) return parsed;
  const read = readLabels(parsed.document.data);
  return read.ok ? { ok: true, labels: read.labels, document: parsed.document } : read;
}

/**
 * The file's text after `label` of `name` moved to `target` (protected as
 * `protect` says; undefined: as it was): a lossless edit of `text` (its
 * comments and order kept), or a new file with the header.
 */
export function withMove(file: { document: YamlDocument | null; text: string | undefined }, name: string, label: string, target: Target, protect: boolean | undefined): string {
  const data = file.document?.data ?? {};
  const entries = (data[name] ?? {}) as Record<string, unknown>;
  const next = { ...data, [name]: { ...entries, [label]: movedEntry(entries[label], target, protect) } };
  if (file.document !== null) {
    file.document.applyObject(next);
    return file.document.toString();
  }
  // Only comments so far (or nothing): they stay above the first label.
  const head = file.text === undefined || file.text.trim() === "" ? LABELS_HEADER : file.text.trimEnd() + "\n";
  return head + YamlDocument.fromObject(next).toString();
}
