/**
 * How patterns evolve (SPEC §3 fork / merge / diff / lineage): reads and
 * writes through the pattern store, thinks through the pure model
 * (modifications, merge3, diff, lineage). A fork writes the fork and the
 * parent's `forks` entry in one commit; a merge is one commit on the
 * target. Both run inside the store's exclusive git operation, so what a
 * fork or merge read cannot change before it is written. History fields
 * are read and written where each file keeps them: at the top level, or
 * under `metadata` as KSI does (history-place.ts).
 */
import { DaemonError } from "../../../core/errors.js";
import { diffDocuments, unifiedDiff, type Change } from "../model/diff.js";
import { deepEqual, YamlDocument } from "../model/document.js";
import { frameOf, isMarkdownPath, joinPatternText, parsePatternText } from "../model/front-matter.js";
import {
  forkNames,
  historyPlace,
  lineageOf,
  lineageParent,
  mergeRecords,
  OWN_KEYS,
  ownValue,
  placeOf,
  withOwnValue,
  withoutOwnValues,
} from "../model/history-place.js";
import { buildLineage, renderDot, renderMermaid, renderTree, type LineageDirection, type LineageInput } from "../model/lineage.js";
import { merge3, type Conflict, type MergeStrategy } from "../model/merge3.js";
import { mergeSides, withTargetOwn } from "../model/merge-scope.js";
import { applyModifications, FORK_RULES, newPaths } from "../model/modifications.js";
import { formatRef, parseRef } from "../model/ref.js";
import { typeDirectory, validateComposition } from "../model/schema.js";
import { formatCommitMessage, parseTrailers } from "../model/trailers.js";
import { bumpMinor } from "../model/version.js";
import type { Entry } from "./catalog.js";
import { invalid, type FileWrite, type Mutation, type PatternStore } from "./pattern-store.js";

export interface ForkInput {
  parent: string;
  name: string;
  reason: string;
  modifications?: Record<string, unknown> | undefined;
  replace_maps?: boolean | undefined;
  version?: string | undefined;
}

export interface MergeInput {
  source: string;
  target?: string | undefined;
  strategy?: MergeStrategy | undefined;
  dry_run?: boolean | undefined;
  message?: string | undefined;
  /** Conflict path → the value to keep there. */
  resolve?: Record<string, unknown> | undefined;
}

export type MergeOutcome =
  | { merged: true; name: string; version: string; commit: string; from: string; base: string; changes: Change[]; resolved?: string[] }
  | { merged: true; unchanged: true; name: string; version: string; from: string; base: string; changes: [] }
  | {
      dry_run: true;
      clean: boolean;
      name: string;
      version: string;
      from: string;
      base: string;
      changes: Change[];
      conflicts: WireConflict[];
      resolved?: string[];
      composition: Record<string, unknown>;
    };

/** A conflict as it goes on the wire: an absent side is null (undefined would vanish from the JSON). */
type WireConflict = { path: string; base: unknown; ours: unknown; theirs: unknown };

/** How many commits of a target's file are read to find a fork base by its version (a store without tags). */
const VERSION_SCAN = 50;

export class PatternEvolution {
  constructor(
    private readonly store: PatternStore,
    private readonly now: () => number,
  ) {}

  fork(input: ForkInput, agentId: string | undefined): Promise<Mutation & { parent: string; new_paths: string[] }> {
    return this.store.git.exclusive(async () => {
      const parent = await this.store.read(parseRef(input.parent));
      const taken = this.store.catalog.get(input.name);
      if (taken !== undefined) {
        throw new DaemonError("conflict", `${input.name} already exists (${taken.type} ${taken.version}); fork to another name`, { name: input.name });
      }
      const version = input.version ?? "0.1.0";
      const tag = `${input.name}@${version}`;
      if (this.store.git.tagExists(tag)) {
        throw new DaemonError("conflict", `${tag} already exists in the history (a deleted pattern of that name); fork with a newer version`, { tag });
      }
      const parentRef = `${parent.name}@${parent.version}`;
      const date = new Date(this.now()).toISOString();
      const author = agentId ?? "patternd";
      // A fork has run nothing yet: the parent's performance is the parent's evidence, kept in the
      // lineage for the record, never the fork's own. The parent's lineage, children and merges are
      // its history, not the fork's. Both wherever the parent keeps them (KSI: under metadata).
      const modified = applyModifications(parent.data, input.modifications ?? {}, { ...FORK_RULES, replaceMaps: input.replace_maps });
      const parentPerformance = ownValue(modified, "performance");
      const lineage = {
        parent: parentRef,
        // A parent with uncommitted edits has no commit to name.
        ...(parent.commit === null ? {} : { parent_commit: parent.commit }),
        fork_date: date,
        fork_reason: input.reason,
        fork_author: author,
        ...(parentPerformance === undefined || parentPerformance === null ? {} : { parent_performance: parentPerformance }),
      };
      const data = withOwnValue({ ...withoutOwnValues(modified, OWN_KEYS), name: input.name, version }, "lineage", lineage, historyPlace(parent.data));
      const parsed = parsePatternText(parent.path, parent.text);
      if (!parsed.ok) throw invalid(`${parentRef} does not parse`, parsed.issues);
      // The parent as it is now records the fork (it may have moved on since the version forked); worked
      // out before the fork's edits when both start from the same text, so that text is parsed once.
      const served = this.store.catalog.get(parent.name);
      const current = served === undefined ? undefined : { ...served, text: await this.store.textOf(served) };
      const entry = { name: input.name, version, from: parentRef, date, agent: author, reason: input.reason };
      const parentWrite: FileWrite | undefined =
        current === undefined
          ? undefined
          : { path: current.path, text: withForkEntry(current, current.text === parent.text ? parsed.document : undefined, entry) };
      const fork = parsed.document;
      fork.applyObject(data);
      const valid = validateComposition(fork.data);
      if (!valid.ok) throw invalid("the fork would not be a valid composition", valid.issues);
      await this.store.checkInheritance(fork.data);
      // A markdown component's fork is markdown too, with the parent's body.
      const path = `${typeDirectory(valid.composition.type)}/${input.name}${isMarkdownPath(parent.path) ? ".md" : ".yaml"}`;
      const writes: FileWrite[] = [{ path, text: joinPatternText(parsed.frame, fork.toString()) }, ...(parentWrite === undefined ? [] : [parentWrite])];
      const message = formatCommitMessage({
        subject: `fork: ${parent.name} -> ${input.name}`,
        trailers: { Op: "fork", Pattern: input.name, Version: version, Parent: parentRef, Agent: agentId ?? "", Reason: input.reason },
      });
      const commit = await this.store.commitFiles(writes, message, agentId, tag);
      for (const write of writes) this.store.index(write.path, write.text);
      return { name: input.name, version, op: "fork", commit, parent: parentRef, new_paths: newPaths(parent.data, input.modifications ?? {}) };
    });
  }

  merge(input: MergeInput, agentId: string | undefined): Promise<MergeOutcome> {
    return this.store.git.exclusive(async () => {
      const source = this.store.require(input.source);
      const parentRef = lineageParent(source.data);
      const targetName = input.target ?? (parentRef === undefined ? undefined : parseRef(parentRef).name);
      if (targetName === undefined) {
        throw new DaemonError("invalid_params", `${source.name} has no lineage.parent: it is not a fork, so there is nothing to merge it back into`, {
          source: source.name,
        });
      }
      const target = this.store.require(targetName);
      if (target.name === source.name) throw new DaemonError("invalid_params", `cannot merge ${source.name} into itself`, { source: source.name });
      const from = `${source.name}@${source.version}`;
      const base = await this.mergeBase(source, target);
      const strategy = input.strategy ?? "auto";
      // The fork's first version matters only when its description differs from the base's.
      const atFork = deepEqual(source.data.description, base.data.description) ? undefined : await this.firstVersion(source);
      const sides = mergeSides({ base: base.data, ours: target.data, theirs: source.data }, atFork);
      const result = merge3(sides.base, sides.ours, sides.theirs, { strategy, ...(input.resolve === undefined ? {} : { resolve: input.resolve }) });
      const conflicts = result.conflicts.map(onTheWire);
      const resolved = result.resolved.map((c) => c.path);
      const settled = resolved.length === 0 ? {} : { resolved };
      if (conflicts.length > 0 && input.dry_run !== true) {
        const paths = conflicts.map((c) => c.path);
        const example = `${JSON.stringify(paths[0])}: value`;
        throw new DaemonError(
          "merge_conflict",
          `${from} and ${target.name}@${target.version} both changed ${paths.join(", ")} since ${base.ref}; ` +
            `settle each in this request with resolve: {${example}} (pat merge ${source.name} --set ${paths[0]}=VALUE), or merge with strategy ours or theirs`,
          { conflicts, base: base.ref, from, target: `${target.name}@${target.version}`, ...settled },
        );
      }
      if (result.changes.length === 0 && conflicts.length === 0) {
        if (input.dry_run === true) {
          return { dry_run: true, clean: true, name: target.name, version: target.version, from, base: base.ref, changes: [], conflicts: [], ...settled, composition: target.data };
        }
        return { merged: true, unchanged: true, name: target.name, version: target.version, from, base: base.ref, changes: [] };
      }
      const version = bumpMinor(target.version);
      const place = placeOf(target.data, "merges");
      const existing = ownValue(target.data, "merges");
      const merges: unknown[] = Array.isArray(existing) ? existing : [];
      const record = { from, base: base.ref, date: new Date(this.now()).toISOString(), agent: agentId ?? "patternd", ...(strategy === "auto" ? {} : { strategy }), ...settled };
      const merged = withOwnValue({ ...withTargetOwn(result.merged as Record<string, unknown>, target.data), version }, "merges", [...merges, record], place);
      const targetText = await this.store.textOf(target);
      const doc = edited({ path: target.path, text: targetText });
      doc.applyObject(merged);
      const valid = validateComposition(doc.data, "stored");
      if (!valid.ok) throw invalid("the merged document would not be a valid composition", valid.issues);
      if (input.dry_run === true) {
        return { dry_run: true, clean: conflicts.length === 0, name: target.name, version, from, base: base.ref, changes: result.changes, conflicts, ...settled, composition: doc.data };
      }
      await this.store.checkInheritance(doc.data);
      const tag = `${target.name}@${version}`;
      if (this.store.git.tagExists(tag)) {
        throw new DaemonError("conflict", `${tag} already exists in the history; save ${target.name} with a newer version first`, { tag });
      }
      const message = formatCommitMessage({
        subject: input.message ?? `merge: ${from} -> ${target.name} ${version}`,
        trailers: {
          Op: "merge",
          Pattern: target.name,
          Version: version,
          Previous: target.version,
          "Merged-From": from,
          "Merge-Base": base.ref,
          ...(strategy === "auto" ? {} : { Strategy: strategy }),
          ...(resolved.length === 0 ? {} : { Resolved: resolved.join(", ") }),
          Agent: agentId ?? "",
        },
      });
      const text = joinPatternText(frameOf(target.path, targetText), doc.toString());
      const commit = await this.store.commitFiles([{ path: target.path, text }], message, agentId, tag);
      this.store.index(target.path, text);
      return { merged: true, name: target.name, version, commit, from, base: base.ref, changes: result.changes, ...settled };
    });
  }

  async diff(left: string, right: string, format: "changes" | "unified"): Promise<Record<string, unknown>> {
    const [l, r] = await Promise.all([this.store.read(parseRef(left)), this.store.read(parseRef(right))]);
    const refs = { left, right, left_version: l.version, right_version: r.version };
    // git's a/ and b/ paths, so git apply and patch -p1 take it in a checkout of the store (issue 16); after a tab,
    // as svn puts its revisions, the refs as asked: a current file can differ from its version's tag (a fork adds
    // itself to its parent's forks list without a new version), so `tournament` is not labelled `tournament@2.0.0`.
    const label = (side: "a" | "b", ref: string, found: { name: string; version: string; path: string }) =>
      `${side}/${found.path}\t(${found.name}@${found.version}${ref.includes("@") ? "" : ", current file"})`;
    if (format === "unified") return { ...refs, unified: unifiedDiff(l.text, r.text, label("a", left, l), label("b", right, r)) };
    return { ...refs, changes: diffDocuments(l.data, r.data) };
  }

  lineage(name: string, direction: LineageDirection, format: "json" | "tree" | "mermaid" | "dot"): Record<string, unknown> {
    this.store.require(name);
    const patterns: LineageInput[] = this.store.catalog.list().map((entry) => {
      const parent = lineageParent(entry.data);
      const forks = forkNames(entry.data, (ref) => parseRef(ref).name);
      return { name: entry.name, version: entry.version, ...(parent === undefined ? {} : { parent }), ...(forks.length === 0 ? {} : { forks }) };
    });
    const graph = buildLineage(patterns, name, direction);
    if (format === "json") return { ...graph };
    const render = { tree: renderTree, mermaid: renderMermaid, dot: renderDot }[format];
    return { pattern: graph.pattern, direction, format, text: render(graph) };
  }

  /**
   * The source as its first version said, to tell a description it was
   * born with from one it changed later: the file at the commit that forked
   * it (the newest Op: fork of that name, should the name have been reused),
   * else at its oldest commit. Undefined when the history has neither.
   */
  private async firstVersion(source: Entry): Promise<Record<string, unknown> | undefined> {
    const commits = await this.store.git.log(source.path);
    const born = commits.find((entry) => {
      const trailers = parseTrailers(entry.message);
      return trailers.Op === "fork" && trailers.Pattern === source.name;
    }) ?? commits.at(-1);
    const text = born === undefined ? undefined : await this.store.git.show(born.commit, source.path);
    const parsed = text === undefined ? undefined : parsePatternText(source.path, text);
    return parsed?.ok === true ? parsed.document.data : undefined;
  }

  /**
   * The common ancestor of a merge: the source as it was when it was last
   * merged into the target (so a second merge brings only what changed
   * since), else the target's version the source's line forked from.
   */
  private async mergeBase(source: Entry, target: Entry): Promise<{ ref: string; data: Record<string, unknown> }> {
    const previous = lastMergeFrom(target, source.name);
    if (previous !== undefined) {
      try {
        return { ref: previous, data: (await this.store.read(parseRef(previous))).data };
      } catch {
        // that version's tag is gone: fall back to the fork point
      }
    }
    const chain = [source.name];
    let node: Entry = source;
    for (;;) {
      const parent = lineageParent(node.data);
      if (parent === undefined) {
        throw new DaemonError("invalid_params", `${source.name} is not a fork of ${target.name}: its lineage is ${chain.join(" <- ")} and ends there`, {
          source: source.name,
          target: target.name,
          lineage: chain,
        });
      }
      const ref = parseRef(parent);
      if (ref.name === target.name) return { ref: formatRef(ref), data: await this.forkPoint(node, ref.version, target) };
      const next = this.store.catalog.get(ref.name);
      if (next === undefined || chain.includes(ref.name)) {
        throw new DaemonError("invalid_params", `${source.name} is not a fork of ${target.name}: its lineage is ${[...chain, ref.name].join(" <- ")}`, {
          source: source.name,
          target: target.name,
          lineage: [...chain, ref.name],
        });
      }
      chain.push(ref.name);
      node = next;
    }
  }

  /**
   * The target as the fork `child` was taken from it: by tag, else by the
   * recorded parent commit, else (a store without patternd's tags, as KSI
   * keeps its own) the newest committed version of the target's file that
   * has that version.
   */
  private async forkPoint(child: Entry, version: string | undefined, target: Entry): Promise<Record<string, unknown>> {
    if (version !== undefined) {
      try {
        return (await this.store.read({ name: target.name, version })).data;
      } catch {
        // no tag: try the commit
      }
    }
    const commit = lineageOf(child.data)?.parent_commit;
    const text = typeof commit === "string" && /^[0-9a-f]{7,64}$/.test(commit) ? await this.store.git.show(commit, target.path) : undefined;
    const parsed = text === undefined ? undefined : parsePatternText(target.path, text);
    if (parsed?.ok === true) return parsed.document.data;
    const byVersion = version === undefined ? undefined : await this.committedVersion(target, version);
    if (byVersion !== undefined) return byVersion;
    const ref = formatRef({ name: target.name, ...(version === undefined ? {} : { version }) });
    throw new DaemonError("not_found", `the fork base ${ref} of ${child.name} is not in the store's history (no tag, no parent_commit, no commit of it with that version)`, {
      base: ref,
    });
  }

  /** The newest commit of the target's file whose `version` is `version` (the last VERSION_SCAN commits are looked at). */
  private async committedVersion(target: Entry, version: string): Promise<Record<string, unknown> | undefined> {
    for (const entry of (await this.store.git.log(target.path)).slice(0, VERSION_SCAN)) {
      const text = await this.store.git.show(entry.commit, target.path);
      const parsed = text === undefined ? undefined : parsePatternText(target.path, text);
      if (parsed?.ok === true && parsed.document.data.version === version) return parsed.document.data;
    }
    return undefined;
  }
}

/**
 * The parent's text with `entry` added to its `forks` list: spliced into the
 * text (`parsed`, when given, is the parent's current text, unedited), else
 * by editing a Document of it.
 */
function withForkEntry(current: Entry & { text: string }, parsed: YamlDocument | undefined, entry: ForkEntry): string {
  const frame = frameOf(current.path, current.text);
  const place = placeOf(current.data, "forks");
  if (place === "top") {
    const spliced = (parsed ?? edited(current)).withListItem("forks", entry);
    if (spliced !== null) return joinPatternText(frame, spliced);
  }
  // KSI's list under metadata gets KSI's keys (name, date, reason, author), then patternd's.
  const item = place === "top" ? entry : { name: entry.name, date: entry.date, reason: entry.reason, author: entry.agent, version: entry.version, from: entry.from };
  const existing = ownValue(current.data, "forks");
  const forks: unknown[] = Array.isArray(existing) ? existing : [];
  const doc = edited(current);
  doc.applyObject(withOwnValue(current.data, "forks", [...forks, item], place));
  return joinPatternText(frame, doc.toString());
}

interface ForkEntry {
  name: string;
  version: string;
  from: string;
  date: string;
  agent: string;
  reason: string;
}

/** A stored file's document to edit (a markdown file's front matter); one that no longer parses is rebuilt from its indexed data by the caller's applyObject. */
function edited(file: { path: string; text: string }): YamlDocument {
  const parsed = parsePatternText(file.path, file.text);
  return parsed.ok ? parsed.document : YamlDocument.fromObject({});
}

function onTheWire(conflict: Conflict): WireConflict {
  return { path: conflict.path, base: conflict.base ?? null, ours: conflict.ours ?? null, theirs: conflict.theirs ?? null };
}

/** The last `merges` record of the target that came from `source`: its `from` ref. */
function lastMergeFrom(target: Entry, source: string): string | undefined {
  const merges = mergeRecords(target.data);
  for (let i = merges.length - 1; i >= 0; i--) {
    const from = isMap(merges[i]) ? (merges[i] as Record<string, unknown>).from : undefined;
    if (typeof from === "string" && parseRef(from).name === source && parseRef(from).version !== undefined) return from;
  }
  return undefined;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
