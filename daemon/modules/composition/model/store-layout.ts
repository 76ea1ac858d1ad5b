/**
 * What each file of a store is, by its path alone (pure): a pattern file
 * (`.yaml`, `.yml` or `.md`, at any depth, wherever it is: KSI keeps
 * orchestrations/, components/agents/, personas/coordinators/ ...), a
 * decision log, or a file the index does not read, with the reason it
 * gives for it. Nothing is skipped without a reason.
 */
import { patternExtension } from "./front-matter.js";
import { LABELS_PATH } from "./labels.js";
import { DECISIONS_SUFFIX } from "./ref.js";

/** Why a path is not indexed: a stable code (composition:reload's `ignored[].reason`). */
export type IgnoreReason = "unsafe_path" | "decision_log" | "labels" | "hidden" | "other_file" | "no_front_matter" | "not_a_composition";

export type PathKind = { kind: "pattern" } | { kind: "ignored"; reason: IgnoreReason; message: string };

const MESSAGES: Record<Exclude<IgnoreReason, "unsafe_path">, string> = {
  decision_log: "a decision log (composition:decisions reads it), not a pattern",
  labels: "the store's labels (composition:labels reads them), not a pattern",
  hidden: "a hidden file or folder (its name starts with a dot)",
  other_file: "not a .yaml, .yml or .md file",
  no_front_matter: "markdown without YAML front matter (a line --- first): a document, not a component",
  not_a_composition: "no type or component_type: not a composition",
};

export function ignoredBecause(reason: Exclude<IgnoreReason, "unsafe_path">): { reason: IgnoreReason; message: string } {
  return { reason, message: MESSAGES[reason] };
}

/** A store-relative path (`/`-separated) of a file, by name: what the index makes of it. */
export function classifyPath(path: string): PathKind {
  const segments = path.split("/");
  if (segments.some((segment) => segment.startsWith("."))) return { kind: "ignored", ...ignoredBecause("hidden") };
  const extension = patternExtension(path);
  if (extension === undefined) return { kind: "ignored", ...ignoredBecause("other_file") };
  if (path === LABELS_PATH) return { kind: "ignored", ...ignoredBecause("labels") };
  if (stemOf(path).endsWith(DECISIONS_SUFFIX)) return { kind: "ignored", ...ignoredBecause("decision_log") };
  return { kind: "pattern" };
}

export function isPatternPath(path: string): boolean {
  return classifyPath(path).kind === "pattern";
}

export function isDecisionLogPath(path: string): boolean {
  const kind = classifyPath(path);
  return kind.kind === "ignored" && kind.reason === "decision_log";
}

/** The file name without folder and extension: `components/agents/x.md` → `x`. */
export function stemOf(path: string): string {
  const file = path.slice(path.lastIndexOf("/") + 1);
  const extension = patternExtension(file);
  return extension === undefined ? file : file.slice(0, -extension.length);
}
