/**
 * composition:sync (issue 19): the store's patterns through a git remote.
 * Pull = fetch into patternd's own namespace (outside the store's lock, so
 * local work goes on meanwhile), then under the lock: every path changed on
 * both sides merged by patternd's own merge (merge3 for patterns, a union
 * of records for decision logs, mergeLabels for labels.yaml: never git's
 * text merge, never conflict markers), one merge commit (`Op: sync`,
 * `Remote:`), or a fast-forward when only the remote moved; version tags
 * that collide renamed (sync-plan.ts). Any conflict leaves the store
 * exactly as it was and is listed in the reply. Push = the branch and the
 * tags the remote lacks, never forced; a push the remote refused because
 * it moved meanwhile is pulled again and retried.
 */
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import { frameOf, joinPatternText, parsePatternText } from "../model/front-matter.js";
import { mergeLabels } from "../model/label-merge.js";
import { LABELS_HEADER, movedEntry, parseLabelsFile } from "../model/labels.js";
import { merge3 } from "../model/merge3.js";
import { YamlDocument } from "../model/document.js";
import { validateComposition } from "../model/schema.js";
import { isDecisionLogPath, isPatternPath, stemOf } from "../model/store-layout.js";
import { newerVersion, nextFreeVersion, planPaths, planTags, unionDecisionLogs, type PathAction, type TagPlan } from "../model/sync-plan.js";
import { formatCommitMessage } from "../model/trailers.js";
import { blobId, encodeObject, type GitObject } from "./git-objects.js";
import type { FileWrite, PatternStore } from "./pattern-store.js";
import { remoteBranchRef, remoteTagsPrefix, type SyncEntry, SyncGit } from "./sync-git.js";

export type Direction = "pull" | "push" | "both";

export interface SyncInput {
  remote: string;
  direction?: Direction | undefined;
  dry_run?: boolean | undefined;
  /** pattern name → {conflict path → the value to keep}, as composition:merge's resolve. */
  resolve?: Record<string, Record<string, unknown>> | undefined;
}

export interface SyncConflict {
  /** The file in the store. */
  file: string;
  /** The field in it (merge_conflict's path); "" for the whole file; name.label in labels.yaml. */
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

export interface SyncReply {
  remote: string;
  direction: Direction;
  dry_run: boolean;
  /** True when the store took what the remote had (false: nothing to take, a dry run, or conflicts). */
  applied: boolean;
  fast_forward: boolean;
  /** Files taken whole from the remote (a pattern, decision log or other file only the remote changed). */
  pulled: string[];
  /** Paths merged by patternd: patterns with their new version, decision logs with the records added. */
  merged: { file: string; name?: string; version?: string; records_added?: number }[];
  /** Tags pushed, and whether the branch was. */
  pushed: string[];
  pushed_branch: boolean;
  renamed_tags: { from: string; to: string }[];
  imported_tags: number;
  conflicts: SyncConflict[];
  /** The store's HEAD after the sync. */
  head: string | null;
}

/** Times a push refused because the remote moved is pulled again and retried (direction both). */
const PUSH_RETRIES = 3;

export class StoreSync {
  private readonly git: SyncGit;

  constructor(
    private readonly store: PatternStore,
    private readonly branch: () => string | null,
    /** Runs the local part of a sync with decision-log appends held back, every record appended so far committed first (decision-log.ts). */
    private readonly holdingAppends: <T>(work: () => Promise<T>) => Promise<T>,
    private readonly decisionLogChanged: (path: string) => void,
    private readonly log: Log,
  ) {
    this.git = new SyncGit(store.git);
  }

  remotes(): Promise<Map<string, string>> {
    return this.git.remotes();
  }

  addRemote(name: string, url: string): Promise<void> {
    return this.git.setRemote(name, url);
  }

  async removeRemote(name: string): Promise<void> {
    await this.urlOf(name);
    await this.git.removeRemote(name);
  }

  private async urlOf(name: string): Promise<string> {
    const remotes = await this.git.remotes();
    const url = remotes.get(name);
    if (url !== undefined) return url;
    const known = [...remotes.keys()];
    throw new DaemonError("not_found", `no remote ${name} in the store${known.length > 0 ? ` (remotes: ${known.join(", ")})` : ""}; add it with composition:remote {action: "add", name, url} (pat remote add ${name} URL)`, {
      remote: name,
      remotes: known,
    });
  }

  async sync(input: SyncInput, agentId: string | undefined): Promise<SyncReply> {
    const direction = input.direction ?? "both";
    const dryRun = input.dry_run === true;
    const url = await this.urlOf(input.remote);
    const branch = this.branch();
    if (branch === null) throw new DaemonError("store_busy", "the store's branch is not known (HEAD is detached); check out its branch, then sync", { state: "detached", branch, hint: "git checkout BRANCH" });
    for (let attempt = 0; ; attempt++) {
      const ms: Record<string, number> = {};
      let at = performance.now();
      const took = (what: string) => {
        ms[what] = Math.round(performance.now() - at);
        at = performance.now();
      };
      await this.git.fetch(input.remote, url);
      took("fetch_ms");
      const reply: SyncReply = { remote: input.remote, direction, dry_run: dryRun, applied: false, fast_forward: false, pulled: [], merged: [], pushed: [], pushed_branch: false, renamed_tags: [], imported_tags: 0, conflicts: [], head: null };
      // The decision records appended so far go with this sync, and none is appended to a log it rewrites.
      await this.holdingAppends(() => (direction === "push" ? Promise.resolve() : this.store.git.exclusive(() => this.pull(input, branch, dryRun, agentId, reply))));
      took("merge_ms");
      const done = async () => {
        const counts = { pulled: reply.pulled.length, merged: reply.merged.length, renamed: reply.renamed_tags.length, pushed: reply.pushed.length, conflicts: reply.conflicts.length };
        this.log.info({ remote: input.remote, direction, dry_run: dryRun, applied: reply.applied, ...counts, ...ms }, "synced");
        return { ...reply, head: await this.git.resolve("HEAD") };
      };
      if (reply.conflicts.length > 0 || direction === "pull") return done();
      const pushed = await this.push(input.remote, url, branch, dryRun, reply);
      took("push_ms");
      if (pushed === "ok") return done();
      if (direction === "push" || attempt >= PUSH_RETRIES) {
        throw new DaemonError("conflict", `remote ${input.remote} moved while the push was under way and refused it${direction === "push" ? "" : ` ${attempt + 1} times`}; pull first (pat sync ${input.remote}), then push`, {
          remote: input.remote,
          branch,
        });
      }
      this.log.info({ remote: input.remote, attempt }, "the remote moved during the sync's push: pulling again");
    }
  }

  /** Takes in what the remote has (the caller holds the store's lock); fills `reply`. */
  private async pull(input: SyncInput, branch: string, dryRun: boolean, agentId: string | undefined, reply: SyncReply): Promise<void> {
    const ours = await this.git.resolve("HEAD");
    const theirs = await this.git.resolve(remoteBranchRef(input.remote, branch));
    const outside = theirs === null || ours === null || theirs === ours || (await this.git.isAncestor(theirs, ours));
    const fastForward = !outside && (await this.git.isAncestor(ours, theirs));
    const base = outside ? null : fastForward ? ours : await this.git.mergeBase(ours, theirs);
    const [oursTree, theirsTree] = outside ? [new Map<string, SyncEntry>(), new Map<string, SyncEntry>()] : await Promise.all([this.git.tree(ours), this.git.tree(theirs)]);
    const baseTree = outside ? new Map<string, SyncEntry>() : base === null ? await this.sharedBase(ours, theirs, oursTree, theirsTree) : await this.git.tree(base);
    const ids = (tree: Map<string, SyncEntry>) => new Map([...tree].map(([path, entry]) => [path, entry.id]));
    const actions = outside ? [] : planPaths(ids(baseTree), ids(oursTree), ids(theirsTree));

    const { tagPlan, taken } = await this.planTags(input.remote, oursTree, theirsTree);
    for (const stuck of tagPlan.stuck) reply.conflicts.push({ file: `refs/tags/${stuck.tag}`, path: "", base: null, ours: stuck.ours, theirs: stuck.theirs });

    const texts = await this.store.git.blobs(
      actions.flatMap((a) => (a.action === "take" && a.blob !== null ? [a.blob] : a.action === "merge" ? [baseTree.get(a.path)?.id, oursTree.get(a.path)!.id, theirsTree.get(a.path)!.id] : [])).filter((id): id is string => id !== undefined),
    );
    const textOf = (entry: SyncEntry | undefined) => (entry === undefined ? undefined : texts.get(entry.id));
    const writes: FileWrite[] = [];
    const removals: string[] = [];
    const newTags: string[] = [];
    const resolveLeft = new Set(Object.keys(input.resolve ?? {}));
    for (const action of actions) {
      const theirsMode = theirsTree.get(action.path)?.mode;
      if (action.action !== "conflict" && theirsMode !== undefined && theirsMode !== "100644" && theirsMode !== "100755") {
        // A link (120000) or submodule (160000) from the remote: written as a file it would leave HEAD and the work tree at odds, and a link may point out of the store.
        const kind = theirsMode === "120000" ? "a symbolic link" : theirsMode === "160000" ? "a submodule" : `an entry of mode ${theirsMode}`;
        reply.conflicts.push({ file: action.path, path: "", base: baseTree.get(action.path)?.id ?? null, ours: oursTree.get(action.path)?.id ?? null, theirs: `${kind} on the remote, not a regular file: patternd writes only regular files into the store; replace it there with the file itself` });
        continue;
      }
      if (action.action === "take") {
        if (action.blob === null) removals.push(action.path);
        else writes.push({ path: action.path, text: texts.get(action.blob) ?? "" });
        reply.pulled.push(action.path);
        continue;
      }
      if (action.action === "conflict") {
        reply.conflicts.push({ file: action.path, path: "", base: baseTree.get(action.path)?.id ?? null, ours: oursTree.get(action.path)?.id ?? null, theirs: theirsTree.get(action.path)?.id ?? null });
        continue;
      }
      const [b, o, t] = [textOf(baseTree.get(action.path)), textOf(oursTree.get(action.path)), textOf(theirsTree.get(action.path))];
      const merged = this.mergeFile(action, b, o ?? "", t ?? "", input.resolve, resolveLeft, taken, reply);
      if (merged === null) continue;
      writes.push({ path: action.path, text: merged.text });
      if (merged.tag !== undefined) {
        newTags.push(merged.tag);
        taken.add(merged.tag);
      }
    }
    if (resolveLeft.size > 0) {
      throw new DaemonError("invalid_params", `resolve names ${[...resolveLeft].join(", ")}, which this sync does not merge; resolve: {pattern: {"conflict.path": value}} names patterns listed in conflicts`, {
        issues: [...resolveLeft].map((name) => ({ path: `resolve.${name}`, message: "not a pattern with conflicts in this sync" })),
      });
    }
    reply.renamed_tags = tagPlan.renames.map(({ from, to }) => ({ from, to }));
    reply.imported_tags = tagPlan.imports.length - tagPlan.renames.length;
    reply.fast_forward = fastForward;
    if (!outside) this.refuseOverwrites(ours, oursTree, [...writes.map((w) => w.path), ...removals], reply);
    if (reply.conflicts.length > 0 || dryRun) return;

    // Histories that diverged are joined by a merge commit even when their files agree (two stores seeded apart), and a
    // fast-forward moves even when it changes no file: either way the remote's commit becomes ours, so the next push is a fast-forward.
    let target = ours;
    if (!outside) target = fastForward ? theirs : await this.mergeCommit(input.remote, branch, ours, theirs, oursTree, writes, removals, tagPlan.renames, agentId);
    if (target !== ours) {
      const message = fastForward ? await this.git.message(theirs) : await this.git.message(target!);
      await this.store.advance(ours!, target!, message, writes, removals);
      reply.applied = true;
      for (const path of [...writes.map((w) => w.path), ...removals]) if (isDecisionLogPath(path)) this.decisionLogChanged(path);
    }
    const imported = new Map(tagPlan.imports.map((i) => [i.tag, i.commit]));
    const renamed = new Set(tagPlan.renames.map((r) => r.from));
    const refLines = [
      // A renamed tag: ours under its new name, and the old name moved (compare-and-swap) to the remote's commit.
      ...tagPlan.renames.flatMap((r) => [`create refs/tags/${r.to} ${r.commit}`, `update refs/tags/${r.from} ${imported.get(r.from)} ${r.commit}`]),
      ...tagPlan.imports.filter((i) => !renamed.has(i.tag)).map((i) => `create refs/tags/${i.tag} ${i.commit}`),
      ...newTags.map((tag) => `create refs/tags/${tag} ${target}`),
    ];
    try {
      await this.git.updateRefs(refLines);
    } catch (err) {
      // The merge stands; a version left untagged is tagged at the next start (outside-changes.ts).
      this.log.error({ err, tags: refLines.length }, "the sync's tags could not all be made");
      throw err;
    }
  }

  /**
   * The remote's version tags against ours, compared by the content of
   * their pattern's file; `taken`: every tag name either side has or the
   * plan makes (a merged version is numbered past them).
   */
  private async planTags(remote: string, oursTree: Map<string, SyncEntry>, theirsTree: Map<string, SyncEntry>): Promise<{ tagPlan: TagPlan; taken: Set<string> }> {
    const [localTags, remoteTags, allRemoteTags] = await Promise.all([this.git.refs("refs/tags/"), this.git.refs(remoteTagsPrefix(remote)), this.git.refs("refs/patternd/remote-tags/")]);
    const stems = new Map<string, string>();
    for (const entry of this.store.catalog.entries()) stems.set(entry.name, entry.path);
    for (const path of [...theirsTree.keys(), ...oursTree.keys()]) if (isPatternPath(path)) stems.set(stemOf(path), path);
    const colliding = [...remoteTags].filter(([tag, commit]) => localTags.has(tag) && localTags.get(tag) !== commit).map(([tag]) => tag);
    const specOf = (tag: string, commit: string) => `${commit}:${stems.get(tag.slice(0, tag.lastIndexOf("@"))) ?? ""}`;
    const blobs = await this.git.blobIds(colliding.flatMap((tag) => [specOf(tag, localTags.get(tag)!), specOf(tag, remoteTags.get(tag)!)]));
    const side = (tags: Map<string, string>) =>
      new Map([...tags].filter(([tag]) => tag.includes("@")).map(([tag, commit]) => [tag, { commit, blob: blobs.get(specOf(tag, commit)) }]));
    // Published: some remote holds our commit under that name (a tag once pushed is never moved).
    const published = new Set([...allRemoteTags].map(([name, commit]) => `${name.slice(name.indexOf("/") + 1)} ${commit}`));
    const tagPlan = planTags(side(localTags), side(remoteTags), (tag) => published.has(`${tag} ${localTags.get(tag)}`));
    return { tagPlan, taken: new Set([...localTags.keys(), ...remoteTags.keys(), ...tagPlan.renames.map((r) => r.to)]) };
  }

  /**
   * A file the sync would write or remove that holds an edit not committed
   * (a person's, in the work tree) is a conflict: the sync would overwrite
   * it. Compared by blob id with what HEAD has there.
   */
  private refuseOverwrites(ours: string, oursTree: Map<string, SyncEntry>, paths: readonly string[], reply: SyncReply): void {
    const algorithm = ours.length === 64 ? "sha256" : "sha1";
    for (const path of paths) {
      const text = this.store.files.read(path);
      const id = text === undefined ? undefined : blobId(Buffer.from(text), algorithm);
      if (id !== oursTree.get(path)?.id) {
        reply.conflicts.push({ file: path, path: "", base: null, ours: "an edit in the work tree not committed yet: commit it (or put it back) and sync again", theirs: null });
      }
    }
  }

  /** One path both sides changed, merged by its kind; null when it conflicts (listed in reply.conflicts). */
  private mergeFile(
    action: PathAction & { action: "merge" },
    base: string | undefined,
    ours: string,
    theirs: string,
    resolve: SyncInput["resolve"],
    resolveLeft: Set<string>,
    taken: ReadonlySet<string>,
    reply: SyncReply,
  ): { text: string; tag?: string } | null {
    const file = action.path;
    if (action.kind === "decisions") {
      const union = unionDecisionLogs(ours, theirs);
      if (union === null) {
        reply.conflicts.push({ file, path: "", base: null, ours: "a decision log that does not parse", theirs: null });
        return null;
      }
      reply.merged.push({ file, records_added: union.added });
      return { text: union.text };
    }
    if (action.kind === "labels") {
      const [b, o, t] = [parseLabelsFile(base), parseLabelsFile(ours), parseLabelsFile(theirs)];
      if (!b.ok || !o.ok || !t.ok) {
        reply.conflicts.push({ file, path: "", base: null, ours: o.ok ? null : "does not parse", theirs: t.ok ? null : "does not parse" });
        return null;
      }
      const result = mergeLabels(b.labels, o.labels, t.labels);
      for (const c of result.conflicts) reply.conflicts.push({ file, path: `${c.name}.${c.label}`, base: c.base, ours: c.ours, theirs: c.theirs });
      if (result.conflicts.length > 0) return null;
      const data: Record<string, Record<string, unknown>> = {};
      for (const label of result.merged) (data[label.name] ??= {})[label.label] = movedEntry(undefined, label.target, label.protected);
      reply.merged.push({ file });
      if (o.document === null) return { text: LABELS_HEADER + YamlDocument.fromObject(data).toString() };
      o.document.applyObject(data);
      return { text: o.document.toString() };
    }
    const [b, o, t] = [base === undefined ? undefined : parsePatternText(file, base), parsePatternText(file, ours), parsePatternText(file, theirs)];
    if (!o.ok || !t.ok || (b !== undefined && !b.ok)) {
      reply.conflicts.push({ file, path: "", base: null, ours: o.ok ? null : "does not parse", theirs: t.ok ? null : "does not parse" });
      return null;
    }
    const name = typeof o.document.data.name === "string" ? o.document.data.name : stemOf(file);
    // The version is not merged: the merge makes a new one, above both sides.
    const version = newerVersion(o.document.data.version, t.document.data.version);
    const same = (data: Record<string, unknown>) => ({ ...data, version });
    const settle = resolve?.[name];
    resolveLeft.delete(name);
    const result = merge3(same(b?.ok === true ? b.document.data : {}), same(o.document.data), same(t.document.data), settle === undefined ? {} : { resolve: settle });
    for (const c of result.conflicts) reply.conflicts.push({ file, path: c.path, base: c.base ?? null, ours: c.ours ?? null, theirs: c.theirs ?? null });
    if (result.conflicts.length > 0) return null;
    const next = nextFreeVersion(version, (v) => taken.has(`${name}@${v}`));
    const doc = o.document;
    doc.applyObject({ ...(result.merged as Record<string, unknown>), version: next });
    const valid = validateComposition(doc.data, "stored");
    if (!valid.ok) {
      reply.conflicts.push({ file, path: valid.issues[0]?.path ?? "", base: null, ours: null, theirs: `the merge would not be valid: ${valid.issues[0]?.message ?? ""}` });
      return null;
    }
    reply.merged.push({ file, name, version: next });
    return { text: joinPatternText(frameOf(file, ours), doc.toString()), tag: `${name}@${next}` };
  }

  /**
   * Paths changed on both sides of two unrelated histories (each home
   * seeded its own store) get as base the newest content ours had that the
   * remote's history has too (the seed's, usually); none: an empty base.
   */
  private async sharedBase(ours: string, theirs: string, oursTree: Map<string, SyncEntry>, theirsTree: Map<string, SyncEntry>): Promise<Map<string, SyncEntry>> {
    const both = [...oursTree.keys()].filter((path) => theirsTree.has(path) && theirsTree.get(path)!.id !== oursTree.get(path)!.id);
    const base = new Map<string, SyncEntry>();
    if (both.length === 0) return base;
    const [mine, their] = await Promise.all([this.git.historyBlobs(ours, both), this.git.historyBlobs(theirs, both)]);
    for (const path of both) {
      const shared = new Set(their.get(path) ?? []);
      const id = (mine.get(path) ?? []).find((blob) => shared.has(blob));
      if (id !== undefined) base.set(path, { mode: oursTree.get(path)!.mode, id });
    }
    // Paths with the same content on both sides are their own base.
    for (const [path, entry] of oursTree) if (theirsTree.get(path)?.id === entry.id) base.set(path, entry);
    return base;
  }

  /** The merge commit: ours' tree with what was taken and merged, on ours and theirs. */
  private async mergeCommit(
    remote: string,
    branch: string,
    ours: string,
    theirs: string,
    oursTree: Map<string, SyncEntry>,
    writes: readonly FileWrite[],
    removals: readonly string[],
    renames: readonly { from: string; to: string }[],
    agentId: string | undefined,
  ): Promise<string> {
    const algorithm = ours.length === 64 ? "sha256" : "sha1";
    const objects: GitObject[] = [];
    const changes = new Map<string, SyncEntry | null>();
    for (const { path, text } of writes) {
      const blob = encodeObject("blob", Buffer.from(text), algorithm);
      objects.push(blob);
      changes.set(path, { mode: oursTree.get(path)?.mode ?? "100644", id: blob.id });
    }
    for (const path of removals) changes.set(path, null);
    await this.store.git.storeObjects(objects);
    const tree = await this.git.buildTree(ours, changes);
    const message = formatCommitMessage({
      subject: `sync: merge ${remote}/${branch}`,
      trailers: {
        Op: "sync",
        Remote: remote,
        // The remote's commit merged: it also tells this merge's message from the last sync's (a start's recovery compares them).
        "Remote-Head": theirs,
        ...(renames.length === 0 ? {} : { "Renamed-Tag": renames.map((r) => `${r.from} -> ${r.to}`).join(", ") }),
        Agent: agentId ?? "",
      },
    });
    return this.git.commitTree(tree, [ours, theirs], message, agentId);
  }

  /** Pushes the branch and the tags the remote lacks; "rejected" when the remote moved meanwhile. */
  private async push(remote: string, url: string, branch: string, dryRun: boolean, reply: SyncReply): Promise<"ok" | "rejected"> {
    const head = await this.git.resolve("HEAD");
    const remoteHead = await this.git.resolve(remoteBranchRef(remote, branch));
    const [localTags, remoteTags] = await Promise.all([this.git.refs("refs/tags/"), this.git.refs(remoteTagsPrefix(remote))]);
    const tags = [...localTags.keys()].filter((tag) => tag.includes("@") && !remoteTags.has(tag)).sort();
    const branchToo = head !== null && head !== remoteHead && (remoteHead === null || (await this.git.isAncestor(remoteHead, head)));
    if (head !== null && head !== remoteHead && !branchToo && reply.direction === "push") return "rejected";
    reply.pushed = tags;
    reply.pushed_branch = branchToo;
    if (dryRun) return "ok";
    const pushed = await this.git.push(remote, url, branchToo ? head : null, branch, new Map(tags.map((tag) => [tag, localTags.get(tag)!])));
    if (pushed === "rejected") return pushed;
    // What the remote now has: so the next sync knows these tags are published without fetching first.
    await this.git.updateRefs([...(branchToo ? [`update ${remoteBranchRef(remote, branch)} ${head}`] : []), ...tags.map((tag) => `update ${remoteTagsPrefix(remote)}${tag} ${localTags.get(tag)}`)]);
    return "ok";
  }
}
