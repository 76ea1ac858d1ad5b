/** Pattern names and references `name` / `name@version` (pure). */
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
}

export const refSchema = z
  .string()
  .max(MAX_NAME_LENGTH + 65)
  .superRefine((text, issue) => {
    const problem = refProblem(text);
    if (problem !== null) issue.addIssue({ code: "custom", message: problem });
  })
  .describe("name or name@version");

export function parseRef(text: string): Ref {
  const at = text.indexOf("@");
  return at === -1 ? { name: text } : { name: text.slice(0, at), version: text.slice(at + 1) };
}

export function formatRef(ref: Ref): string {
  return ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`;
}

function refProblem(text: string): string | null {
  const ref = parseRef(text);
  const name = nameSchema.safeParse(ref.name);
  if (!name.success) return name.error.issues[0]!.message;
  if (ref.version !== undefined && parseVersion(ref.version) === null) return `"${ref.version}" is not a version like 1.2.0`;
  return null;
}
