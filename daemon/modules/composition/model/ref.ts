/**
 * Pattern names and references (pure): `name` / `name@version` in
 * documents (extends, mixins, lineage: always exact), and also
 * `name@label` where an event takes a ref (issue 17). A label starts with
 * a letter and a version with a digit, so `name@x` is read one way only:
 * an exact version when it looks like one, else a label.
 */
import { z } from "zod";
import { parseVersion } from "./version.js";

/** Up to 128 characters: KSI's generated profiles are named up to 70 (a safe file name on every system either way). */
export const MAX_NAME_LENGTH = 128;
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,127}$/;
export const DECISIONS_SUFFIX = "_decisions";

export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, "names are 1-128 characters: lower-case letters, digits, _ and -, starting with a letter or digit")
  .refine((name) => !name.endsWith(DECISIONS_SUFFIX), { message: `names ending in ${DECISIONS_SUFFIX} are reserved for decision logs` })
  .describe("pattern name");

export interface Ref {
  name: string;
  version?: string;
  /** `name@label`: a movable name for a version (labels.yaml), resolved by the store before anything is read. */
  label?: string;
}

/** A label: a letter, then up to 63 lower-case letters, digits, _ and - (never a version, which starts with a digit). */
export const LABEL_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
/** `name@latest` is the current version: implicit, never stored in labels.yaml. */
export const LATEST = "latest";

export const refSchema = z
  .string()
  .max(MAX_NAME_LENGTH + 65)
  .superRefine((text, issue) => {
    const problem = refProblem(text);
    if (problem !== null) issue.addIssue({ code: "custom", message: problem });
  })
  .describe("name or name@version");

/** What an event takes: an exact ref, or `name@label` (`name@latest`: the current version). */
export const labelledRefSchema = z
  .string()
  .max(MAX_NAME_LENGTH + 65)
  .superRefine((text, issue) => {
    const problem = refProblem(text, true);
    if (problem !== null) issue.addIssue({ code: "custom", message: problem });
  })
  .describe("name, name@version or name@label (a label of labels.yaml, or latest: the current version)");

export function parseRef(text: string): Ref {
  const at = text.indexOf("@");
  if (at === -1) return { name: text };
  const after = text.slice(at + 1);
  return LABEL_PATTERN.test(after) ? { name: text.slice(0, at), label: after } : { name: text.slice(0, at), version: after };
}

export function formatRef(ref: Ref): string {
  if (ref.label !== undefined) return `${ref.name}@${ref.label}`;
  return ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`;
}

function refProblem(text: string, labels = false): string | null {
  const ref = parseRef(text);
  const name = nameSchema.safeParse(ref.name);
  if (!name.success) return name.error.issues[0]!.message;
  if (ref.label !== undefined && !labels) return `"${ref.label}" is not a version like 1.2.0 (a label is not allowed here: name an exact version)`;
  if (ref.version !== undefined && parseVersion(ref.version) === null) {
    return labels ? `"${ref.version}" is neither a version like 1.2.0 nor a label (a letter, then letters, digits, _ and -)` : `"${ref.version}" is not a version like 1.2.0`;
  }
  return null;
}
