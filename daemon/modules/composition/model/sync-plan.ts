/**
 * Planning a sync with a git remote (issue 19), pure: which paths come
 * from the remote whole, which need patternd's own 3-way merge, which
 * conflict; decision logs as a union of records; tags that collide.
 *
 * Blob ids stand for contents (the same id is the same bytes), so a path
 * is compared without reading it. `base` is the merge base's tree, or,
 * for unrelated histories (each home seeds its own store), whatever the
 * caller found both sides had in common; an absent base is an empty tree.
 */
import { deepEqual, formatSequenceItem, readSequence } from "./document.js";
import { LABELS_PATH } from "./labels.js";
import { isDecisionLogPath, isPatternPath } from "./store-layout.js";
import { bumpPatch, compareVersions, parseVersion } from "./version.js";

/** What a path needs: the remote's content (null: removed), patternd's merge of that kind, or a conflict nobody can settle by merging. */
export type PathAction =
  | { path: string; action: "take"; blob: string | null }
  | { path: string; action: "merge"; kind: "pattern" | "decisions" | "labels" }
  | { path: string; action: "conflict"; reason: "deleted_and_changed" | "changed_both" };

/** path → blob id of each side's tree. */
export type Tree = ReadonlyMap<string, string>;

/**
 * Every path either side changed since `base`, and what it needs. A path
 * only the remote changed is taken; one only ours changed stays; the same
 * content on both sides is the same; both changed differently is merged
 * by kind (a pattern, a decision log, labels.yaml), or a conflict (any
 * other file, or a removal against an edit).
 */
export function planPaths(base: Tree, ours: Tree, theirs: Tree): PathAction[] {
  const actions: PathAction[] = [];
  const paths = [...new Set([...ours.keys(), ...theirs.keys(), ...base.keys()])].sort();
  for (const path of paths) {
    const [b, o, t] = [base.get(path), ours.get(path), theirs.get(path)];
    if (o === t || t === b) continue;
    if (o === b) {
      actions.push({ path, action: "take", blob: t ?? null });
      continue;
    }
    if (o === undefined || t === undefined) actions.push({ path, action: "conflict", reason: "deleted_and_changed" });
    else if (path === LABELS_PATH) actions.push({ path, action: "merge", kind: "labels" });
    else if (isDecisionLogPath(path)) actions.push({ path, action: "merge", kind: "decisions" });
    else if (isPatternPath(path)) actions.push({ path, action: "merge", kind: "pattern" });
    else actions.push({ path, action: "conflict", reason: "changed_both" });
  }
  return actions;
}

/**
 * Two decision logs as one: every record once, by its `id` (a KSI record
 * has none: by its whole content), ordered by timestamp then id so every
 * store that merges the same records writes the same bytes. Null when
 * either log does not parse as a list (its records cannot be told apart).
 */
export function unionDecisionLogs(ours: string, theirs: string): { text: string; added: number } | null {
  const mine = readSequence(ours);
  const their = readSequence(theirs);
  if (!mine.ok || !their.ok) return null;
  const seen = new Map<string, unknown>();
  for (const item of mine.items) seen.set(recordKey(item), item);
  let added = 0;
  for (const item of their.items) {
    const key = recordKey(item);
    if (seen.has(key)) continue;
    seen.set(key, item);
    added++;
  }
  const items = [...seen.values()].sort(byTimeThenId);
  return { text: items.map(formatSequenceItem).join(""), added };
}

function recordKey(item: unknown): string {
  const id = field(item, "id");
  return id === "" ? `=${JSON.stringify(item)}` : `#${id}`;
}

function field(item: unknown, key: string): string {
  const value = typeof item === "object" && item !== null ? (item as Record<string, unknown>)[key] : undefined;
  return typeof value === "string" ? value : "";
}

function byTimeThenId(a: unknown, b: unknown): number {
  const [ta, tb] = [field(a, "timestamp"), field(b, "timestamp")];
  if (ta !== tb) return ta < tb ? -1 : 1;
  const [ia, ib] = [field(a, "id"), field(b, "id")];
  if (ia !== ib) return ia < ib ? -1 : 1;
  const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/** A version tag on one side: its commit, and the blob of its pattern's file there (undefined: not found). */
export interface TagSide {
  commit: string;
  blob: string | undefined;
}

export interface TagPlan {
  /** Remote tags to make here, pointing at the remote's commit (a renamed local tag's old name among them). */
  imports: { tag: string; commit: string }[];
  /** Local, unpublished tags that collide with a remote tag of other content: renumbered to the next free patch. */
  renames: { from: string; to: string; commit: string }[];
  /** Local tags that collide with a remote tag of other content but were published (pushed) already: never moved. */
  stuck: { tag: string; ours: string; theirs: string }[];
}

/**
 * Tags after a fetch. A remote tag not here is imported. The same name on
 * both sides with the same content of its pattern's file is the same
 * version, whichever commit holds it. With other content, the local one,
 * when no remote has it (`published`), is renumbered to the next patch free
 * on both sides, and the name goes to the remote's; a published one is
 * never moved (stuck).
 */
export function planTags(local: ReadonlyMap<string, TagSide>, remote: ReadonlyMap<string, TagSide>, published: (tag: string) => boolean): TagPlan {
  const plan: TagPlan = { imports: [], renames: [], stuck: [] };
  const taken = new Set([...local.keys(), ...remote.keys()]);
  for (const [tag, theirs] of [...remote].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ours = local.get(tag);
    if (ours === undefined) {
      plan.imports.push({ tag, commit: theirs.commit });
      continue;
    }
    if (ours.commit === theirs.commit || (ours.blob !== undefined && ours.blob === theirs.blob)) continue;
    if (published(tag)) {
      plan.stuck.push({ tag, ours: ours.commit, theirs: theirs.commit });
      continue;
    }
    const to = nextFreeTag(tag, taken);
    taken.add(to);
    plan.renames.push({ from: tag, to, commit: ours.commit });
    plan.imports.push({ tag, commit: theirs.commit });
  }
  return plan;
}

/** `name@version` → the next patch of it whose tag is not in `taken`. */
export function nextFreeTag(tag: string, taken: ReadonlySet<string>): string {
  const at = tag.lastIndexOf("@");
  const name = tag.slice(0, at);
  return `${name}@${nextFreeVersion(tag.slice(at + 1), (v) => taken.has(`${name}@${v}`))}`;
}

/** The next patch above `version` that `isTaken` does not claim. */
export function nextFreeVersion(version: string, isTaken: (version: string) => boolean): string {
  let next = bumpPatch(version);
  while (isTaken(next)) next = bumpPatch(next);
  return next;
}

/** The newer of two versions (either may be missing or not a version). */
export function newerVersion(a: unknown, b: unknown): string {
  const valid = [a, b].filter((v): v is string => typeof v === "string" && parseVersion(v) !== null);
  if (valid.length === 0) return "0.1.0";
  return valid.reduce((x, y) => (compareVersions(x, y) >= 0 ? x : y));
}

/** True when two decoded documents differ only in `version` (a merge that changed nothing else needs no new version). */
export function sameButVersion(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return deepEqual({ ...a, version: null }, { ...b, version: null });
}
