/**
 * The pattern store: files + git + catalog behind one API. Every mutation
 * is one exclusive git operation (write, add, commit, tag), rolled back on
 * the disk if git refuses it, so what is acknowledged is in a commit and
 * what failed leaves nothing behind.
 */
import type { Replaced } from "../../../core/atomic-file.js";
import { asUnavailable } from "../../../core/disk-fault.js";
import { DaemonError } from "../../../core/errors.js";
import type { Log } from "../../../core/log.js";
import { suggest } from "../../../core/suggest.js";
import { compose } from "../model/compose.js";
import { YamlDocument, deepEqual, type Issue } from "../model/document.js";
import { formatRef, type Ref } from "../model/ref.js";
import { frameOf, joinPatternText, parsePatternText } from "../model/front-matter.js";
import { typeDirectory, typeKey, validateComposition, withTypeKey } from "../model/schema.js";
import { isPatternPath, stemOf } from "../model/store-layout.js";
import { formatCommitMessage, parseTrailers } from "../model/trailers.js";
import { bumpPatch, compareVersions } from "../model/version.js";
import { applyModifications, newPaths, removePaths, UPDATE_RULES } from "../model/modifications.js";
import { Catalog, textIdOf, type Entry } from "./catalog.js";
import { isUnsafePath } from "./confined-path.js";
import type { StoreFiles } from "./files.js";
import type { GitRepo } from "./git.js";
import { blobId, cleanMessage } from "./git-objects.js";

export interface SaveInput {
  composition?: Record<string, unknown> | undefined;
  yaml?: string | undefined;
  message?: string | undefined;
  create_only?: boolean | undefined;
  replace?: boolean | undefined;
}

export interface UpdateInput {
  name: string;
  set?: Record<string, unknown> | undefined;
  unset?: string[] | undefined;
  replace_maps?: boolean | undefined;
  message?: string | undefined;
}

/** Sections a whole-document save may not drop without `replace: true`: the pattern's history. */
const HISTORY_KEYS = ["lineage", "forks", "merges"];

/**
 * Refuses a whole-document save that would drop the pattern's history
 * sections or more than half of its top-level keys: almost always a
 * partial object meant as a patch (issue 12). Names what would be lost.
 */
function refuseLoss(existing: Entry, next: Record<string, unknown>): void {
  const before = Object.keys(existing.data);
  const lost = before.filter((key) => !Object.hasOwn(next, key));
  const history = lost.filter((key) => HISTORY_KEYS.includes(key));
  if (history.length === 0 && lost.length * 2 <= before.length) return;
  const what = history.length > 0 ? `its ${history.join(", ")}` : `${lost.length} of its ${before.length} sections`;
  throw new DaemonError(
    "conflict",
    `saving this as the whole of ${existing.name} would drop ${what} (${lost.join(", ")}); ` +
      `to change some values send composition:update {name, set: {"dotted.path": value}} (pat set ${existing.name} path=value), ` +
      "or pass replace: true to replace the whole document",
    { lost, hint: "composition:update" },
  );
}

export interface Mutation {
  name: string;
  version: string;
  op: string;
  commit: string;
}

export interface FileWrite {
  path: string;
  text: string;
}

export interface VersionInfo {
  version: string | null;
  commit: string;
  date: string;
  author: string;
  op: string;
  message: string;
}

/**
 * What a store mutation is about to do, written to `patternd-intent.json` in the git dir
 * before its first file is touched and removed when it is committed and
 * tagged (or rolled back). A daemon killed in between finds it at start:
 * a commit that was made gets its tag; anything else is put back as HEAD
 * has it, so no half-done mutation is left behind or served.
 */
const INTENT_FILE = "patternd-intent.json";

interface Intent {
  paths: string[];
  message: string;
  tag: string | null;
}

export class PatternStore {
  /** path → the commit that last wrote it, with the id of the text it wrote (valid while the text is unchanged). */
  private readonly lastCommits = new Map<string, { commit: string; textId: string }>();
  /** Blob ids in a sha256 store of served texts, per entry (an entry is replaced when its file changes, so each is hashed once). */
  private readonly sha256Ids = new WeakMap<object, string>();
  /** The last text textOf gave, by its blob id (a text's id never names another): a save or fork asks for the same one twice. */
  private recentText: { id: string; text: string } | null = null;

  constructor(
    readonly git: GitRepo,
    readonly files: StoreFiles,
    readonly catalog: Catalog,
    private readonly log: Log,
  ) {}

  /**
   * The text a served entry was parsed from: its file's while the file still
   * holds it; else (the file changed since, or stopped parsing while its last
   * good version keeps serving) the blob of that text in git; else, for an
   * edit never committed and gone from the file, the entry's data written
   * out as YAML (logged: its comments and layout are not known any more).
   */
  async textOf(entry: Entry): Promise<string> {
    if (this.recentText?.id === entry.textId) return this.recentText.text;
    let text = this.catalog.textOf(entry);
    if (text === undefined) {
      const blob = (await this.git.blobs([entry.textId])).get(entry.textId);
      if (blob === undefined || textIdOf(blob) !== entry.textId) {
        this.log.warn({ path: entry.path, name: entry.name }, "the text a served pattern was read from is in neither its file nor git; it is written out from its data");
        return YamlDocument.fromObject(entry.data).toString();
      }
      text = blob;
    }
    this.recentText = { id: entry.textId, text };
    return text;
  }

  /** Builds the document to save from a whole object (applied losslessly onto the current file) or YAML text. */
  private async prepare(input: SaveInput, current: Entry | undefined): Promise<YamlDocument> {
    if (input.yaml !== undefined) {
      const parsed = YamlDocument.parse(input.yaml);
      if (!parsed.ok) throw invalid("the YAML does not parse", parsed.issues);
      return parsed.document;
    }
    const object = input.composition!;
    const name = typeof object.name === "string" ? object.name : undefined;
    if (current !== undefined && name === current.name) {
      const parsed = parsePatternText(current.path, await this.textOf(current));
      if (parsed.ok) {
        parsed.document.applyObject(withTypeKey(object, typeKey(current.data)));
        return parsed.document;
      }
    }
    return YamlDocument.fromObject(object);
  }

  save(input: SaveInput, agentId: string | undefined): Promise<Mutation & { unchanged?: true }> {
    return this.git.exclusive(async () => {
      const named = input.composition?.name;
      const doc = await this.prepare(input, typeof named === "string" ? this.catalog.get(named) : undefined);
      const valid = validateComposition(doc.data, "stored");
      if (!valid.ok) throw invalid("the composition is not valid", valid.issues);
      const existing = this.catalog.get(valid.composition.name);
      if (existing !== undefined && input.create_only === true) {
        throw new DaemonError("conflict", `${existing.name} already exists (version ${existing.version}); create_only refuses to overwrite it`, { version: existing.version });
      }
      if (existing !== undefined && existing.type === valid.composition.type && input.replace !== true) refuseLoss(existing, doc.data);
      // YAML text the daemon did not change is written exactly as given.
      return this.commitDocument(doc, existing, { message: input.message, agentId, text: input.yaml });
    });
  }

  /**
   * composition:update: values set and removed by dotted path on the
   * current document, written losslessly (only the touched lines change).
   * The patch is bumped unless `set` gives a newer version.
   */
  update(input: UpdateInput, agentId: string | undefined): Promise<Mutation & { unchanged?: true; new_paths: string[] }> {
    return this.git.exclusive(async () => {
      const entry = this.require(input.name);
      const parsed = parsePatternText(entry.path, await this.textOf(entry));
      if (!parsed.ok) throw invalid(`${entry.path} does not parse`, parsed.issues);
      const rules = { ...UPDATE_RULES, replaceMaps: input.replace_maps };
      // `type` and `component_type` name the one type field the file has.
      const key = typeKey(entry.data);
      const set = withTypeKey(input.set ?? {}, key);
      const unset = (input.unset ?? []).map((path) => (path === "type" || path === "component_type" ? key : path));
      const target = removePaths(applyModifications(entry.data, set, rules), unset, rules);
      parsed.document.applyObject(target);
      const result = await this.commitDocument(parsed.document, entry, { message: input.message, agentId, text: undefined });
      return { ...result, new_paths: newPaths(entry.data, set) };
    });
  }

  /**
   * Validates a document and commits it as the current version of its
   * pattern: a version not newer than the current one gets its patch bumped
   * (unless the content is the same: nothing is committed), an older one is
   * a conflict. `text` is the YAML to write as given when the version is
   * kept. The caller holds `git.exclusive`.
   */
  private async commitDocument(
    doc: YamlDocument,
    existing: Entry | undefined,
    options: { message: string | undefined; agentId: string | undefined; text: string | undefined },
  ): Promise<Mutation & { unchanged?: true }> {
    if (existing !== undefined && typeKey(doc.data) !== typeKey(existing.data)) {
      // A whole document in YAML text names its type as it likes: the file keeps its own field.
      const kept = withTypeKey(doc.data, typeKey(existing.data));
      doc.delete([typeKey(doc.data)]);
      doc.set([typeKey(existing.data)], kept[typeKey(existing.data)]);
      options = { ...options, text: undefined };
    }
    // A new pattern gets every rule; a file already in the store keeps what KSI lets it have (no description),
    // but a change never takes away what it had (an update that unsets the description is refused).
    const lenient = existing !== undefined && typeof existing.data.description !== "string";
    const valid = validateComposition(doc.data, lenient ? "stored" : "new");
    if (!valid.ok) throw invalid("the composition is not valid", valid.issues);
    const { name, type } = valid.composition;
    // A parent missing already (KSI's files have some) is a warning on the file, not a reason to refuse saving it unchanged.
    if (existing === undefined || !sameParents(existing.data, doc.data)) await this.checkInheritance(doc.data);
    if (existing !== undefined && existing.type !== type) {
      throw new DaemonError("conflict", `${name} already exists as a ${existing.type}; names are unique across types`, { path: existing.path });
    }
    let version = valid.composition.version;
    let bumped = false;
    if (existing !== undefined) {
      const order = compareVersions(version, existing.version);
      if (order < 0) {
        throw new DaemonError("conflict", `version ${version} is older than ${name}'s current ${existing.version}`, { current: existing.version });
      }
      if (order === 0) {
        const same = deepEqual(doc.data, existing.data);
        const committed = same ? await this.lastCommit(existing) : null;
        if (committed !== null) return { name, version, op: "unchanged", commit: committed, unchanged: true as const };
        // The same as an uncommitted edit whose version is still free: committed as it is, the person's version kept.
        if (!same || this.git.tagExists(`${name}@${version}`)) {
          version = bumpPatch(existing.version);
          doc.set(["version"], version);
          bumped = true;
        }
      }
    }
    if (this.git.tagExists(`${name}@${version}`)) {
      throw new DaemonError("conflict", `${name}@${version} already exists in the history; save it with a newer version`, { tag: `${name}@${version}` });
    }
    const op = existing === undefined ? "create" : "update";
    // An existing pattern is written where its file is; a new one where SPEC §1 puts it.
    const path = existing?.path ?? `${typeDirectory(type)}/${name}.yaml`;
    const text = joinPatternText(frameOf(path, existing === undefined ? undefined : await this.textOf(existing)), options.text !== undefined && !bumped ? options.text : doc.toString());
    const message = formatCommitMessage({
      subject: options.message ?? `${op}: ${name} ${version}`,
      trailers: { Op: op, Pattern: name, Version: version, ...(existing === undefined ? {} : { Previous: existing.version }), Agent: options.agentId ?? "" },
    });
    const commit = await this.commitFiles([{ path, text }], message, options.agentId, `${name}@${version}`);
    this.index(path, text);
    return { name, version, op, commit };
  }

  remove(name: string, message: string | undefined, agentId: string | undefined): Promise<Mutation> {
    return this.git.exclusive(async () => {
      const entry = this.require(name);
      this.git.writable();
      const text = formatCommitMessage({
        subject: message ?? `delete: ${name}`,
        trailers: { Op: "delete", Pattern: name, Version: entry.version, Agent: agentId ?? "" },
      });
      this.files.resolve(entry.path);
      this.writeIntent({ paths: [entry.path], message: text, tag: null });
      let removed: Replaced | null = null;
      let commit: string;
      try {
        removed = await this.files.removeKeeping(entry.path);
        commit = await this.git.commitPaths([entry.path], text, agentId);
        removed.discard();
      } catch (err) {
        if (isUnavailable(err)) this.log.warn({ err, path: entry.path }, "a delete the disk could not take; the file is restored");
        else this.log.error({ err, path: entry.path }, "git refused a delete; the file is restored");
        this.undo(removed, [entry.path]);
        throw err;
      }
      this.clearIntent();
      this.catalog.drop(name);
      return { name, version: entry.version, op: "delete", commit };
    });
  }

  /** The current entry, or not_found with suggestions. */
  require(name: string): Entry {
    const entry = this.catalog.get(name);
    if (entry !== undefined) return entry;
    const close = suggest(name, this.catalog.list().map((e) => e.name));
    if (close.length === 0) throw new DaemonError("not_found", `no composition ${name} in the store`, { name });
    throw new DaemonError("not_found", `no composition ${name}; did you mean ${close.join(", ")}?`, { name, suggestions: close });
  }

  /**
   * A document by reference: the current one, or the one tagged
   * `name@version`. The current one's commit is the last that wrote its
   * text; a file that differs from HEAD (an edit not committed yet) is
   * `dirty`, with no commit (null): none holds what is served.
   */
  async read(asked: Ref): Promise<{ name: string; version: string; path: string; commit: string | null; dirty: boolean; text: string; data: Record<string, unknown> }> {
    const ref = this.exact(asked);
    if (ref.version === undefined) {
      const entry = this.require(ref.name);
      const commit = await this.lastCommit(entry);
      return { ...entry, commit, dirty: commit === null, text: await this.textOf(entry) };
    }
    const tag = formatRef(ref);
    const path = await this.pathAt(tag, ref.name);
    const text = path === undefined ? undefined : await this.git.show(tag, path);
    if (path === undefined || text === undefined) {
      const versions = (await this.git.tags(`${ref.name}@*`)).map((t) => t.slice(ref.name.length + 1));
      throw new DaemonError("not_found", `no version ${tag}${versions.length > 0 ? `; versions: ${versions.join(", ")}` : ""}`, { versions });
    }
    const parsed = parsePatternText(path, text);
    if (!parsed.ok) throw invalid(`${tag} does not parse`, parsed.issues);
    const commit = (await this.git.resolve(tag)) ?? "";
    return { name: ref.name, version: ref.version, path, commit, dirty: false, text, data: parsed.document.data };
  }

  /**
   * `name@label` resolved to the exact ref it names (labels.yaml:
   * store-labels.ts sets it); any other ref as it is. Throws not_found for
   * a label that is not there, invalid_params for a split.
   */
  exact: (ref: Ref) => Ref = (ref) => {
    if (ref.label !== undefined) throw new DaemonError("invalid_params", `labels are not read here: name an exact version of ${ref.name}`);
    return ref;
  };

  /** Loader for compose: current documents from the catalog, tagged ones from git. */
  readonly load = async (ref: Ref): Promise<Record<string, unknown> | undefined> => {
    if (ref.version === undefined && ref.label === undefined) return this.catalog.get(ref.name)?.data;
    try {
      return (await this.read(ref)).data;
    } catch {
      return undefined;
    }
  };

  /**
   * Throws what resolving the document's parents would (a missing parent:
   * not_found; a cycle: invalid_params), with the document standing in for
   * its own name. Placeholders are not checked: a variable without a default
   * is the caller's to pass at compose time.
   */
  async checkInheritance(doc: Record<string, unknown>): Promise<void> {
    const self = doc.name;
    await compose({ name: String(self) }, (ref) => (ref.name === self && ref.version === undefined ? Promise.resolve(doc) : this.load(ref)));
  }

  async history(name: string): Promise<VersionInfo[]> {
    const entries = await this.git.log(this.catalog.get(name)?.path ?? `*/${name}.yaml`);
    if (entries.length === 0) this.require(name);
    // Commits without a Version trailer (the seed, hand commits) are named by their tag, if any.
    const tagged = await this.git.tagTargets(`${name}@*`);
    return entries.map((entry) => {
      const trailers = parseTrailers(entry.message);
      const tag = tagged.get(entry.commit)?.[0];
      // A commit about another pattern that also touched this file (a fork recording itself in its
      // parent's forks list) made no version of this one: its Version trailer is the other's.
      const own = trailers.Pattern === undefined || trailers.Pattern === name;
      return {
        version: own && trailers.Version !== undefined ? trailers.Version : tag === undefined ? null : tag.slice(name.length + 1),
        commit: entry.commit,
        date: entry.date,
        author: entry.author,
        op: trailers.Op ?? "manual",
        message: entry.message.split("\n")[0]!,
      };
    });
  }

  /**
   * Writes the files, commits them as one commit and tags it; on any
   * failure every file is put back as it was (a new one removed) and HEAD,
   * the index and the tags are as they were, so nothing half-done stays.
   * The old files are kept as hard links until then: putting them back is a
   * rename, which works on a full disk. The caller holds `git.exclusive`.
   */
  async commitFiles(writes: readonly FileWrite[], message: string, agentId: string | undefined, tag: string | undefined): Promise<string> {
    const paths = writes.map((w) => w.path);
    // A store off its branch, or gone: refused before a file is touched (commitPaths asks again).
    this.git.writable();
    // A link on the way to any of them: refused before the intent or a file is written.
    for (const path of paths) this.files.resolve(path);
    this.writeIntent({ paths, message, tag: tag ?? null });
    let replaced: Replaced | null = null;
    try {
      replaced = (await this.files.replaceAll(writes)).replaced;
      // Only these paths are committed: whatever else a person staged stays staged.
      const made = await this.git.commitPaths(paths, message, agentId, tag);
      replaced.discard();
      for (const { path, text } of writes) this.lastCommits.set(path, { commit: made, textId: textIdOf(text) });
      this.clearIntent();
      return made;
    } catch (err) {
      // A full or read-only disk is the caller's answer (unavailable), not a fault of the daemon's.
      if (isUnavailable(err)) this.log.warn({ err, paths }, "a change the disk could not take; the files are restored");
      else this.log.error({ err, paths }, "git refused a change; the files are restored");
      this.undo(replaced, paths);
      throw err;
    }
  }

  /**
   * A sync's change (store-sync.ts): the files written and removed, then
   * the branch moved from `from` to `to` (its commit `message`: what a
   * start finds in HEAD when the move was made), as one intent, so a kill
   * in between is finished or undone like any change; on failure every
   * file is back as it was. The catalog then serves what was written.
   * The caller holds `git.exclusive`.
   */
  async advance(from: string, to: string, message: string, writes: readonly FileWrite[], removals: readonly string[]): Promise<void> {
    const paths = [...writes.map((w) => w.path), ...removals];
    this.git.writable();
    for (const path of paths) this.files.resolve(path);
    this.writeIntent({ paths, message, tag: null });
    let replaced: Replaced | null = null;
    const removed: Replaced[] = [];
    try {
      replaced = (await this.files.replaceAll(writes)).replaced;
      for (const path of removals) removed.push(await this.files.removeKeeping(path));
      await this.git.advance(from, to, paths, `sync: ${message.split("\n")[0]!}`);
    } catch (err) {
      this.log.error({ err, paths: paths.length }, "a sync could not be applied; the files are restored");
      for (const file of removed.reverse()) file.restore();
      this.undo(replaced, paths);
      throw err;
    }
    replaced.discard();
    for (const file of removed) file.discard();
    this.clearIntent();
    for (const path of paths) this.lastCommits.delete(path);
    for (const { path, text } of writes) this.index(path, text);
    for (const path of removals) {
      const entry = this.catalog.get(stemOf(path));
      if (entry?.path === path) this.catalog.drop(entry.name);
    }
  }

  /** Puts the files back after a failed change (see commitFiles) and drops its intent; a failure to do so is logged, and start-up recovery finishes it. */
  private undo(replaced: Replaced | null, paths: readonly string[]): void {
    try {
      replaced?.restore((absolute) => {
        const linked = this.files.isLinked(absolute);
        if (linked) this.log.warn({ path: absolute }, "a file to put back is a symbolic link now; it is left as it is");
        return linked;
      });
      this.clearIntent();
    } catch (err) {
      this.log.error({ err, paths }, "a failed change could not be undone; the next start puts the files back as HEAD has them");
    }
  }

  /**
   * Puts one file back as it was (undefined: not there). A path that has
   * become a link meanwhile is left alone: removing or replacing it would
   * undo someone else's change, and nothing is done through it.
   */
  private async putBack(path: string, text: string | undefined): Promise<void> {
    try {
      if (text === undefined) await this.files.remove(path);
      else await this.files.write(path, text);
    } catch (err) {
      if (!isUnsafePath(err)) throw err;
      this.log.warn({ path, target: err.details?.target }, "a file to put back is a symbolic link now; it is left as it is");
    }
  }

  /** Finishes or undoes a mutation a killed daemon left half done (see Intent); at start, before the index is built. */
  async recover(): Promise<void> {
    let intent: Intent;
    try {
      intent = JSON.parse(this.git.readOwnFile(INTENT_FILE) ?? "") as Intent;
    } catch {
      return;
    }
    const head = await this.git.headCommit();
    if (head !== null && head.message.trim() === cleanMessage(intent.message)?.trim()) {
      if (intent.tag !== null && !(this.git.tagExists(intent.tag))) await this.git.tag(intent.tag, head.commit);
      this.log.warn({ paths: intent.paths, commit: head.commit, tag: intent.tag }, "a store change cut short by a stop was committed; its tag is now made");
    } else {
      await this.restoreFromHead(intent.paths);
      this.log.warn({ paths: intent.paths, subject: intent.message.split("\n")[0] }, "a store change cut short by a stop was never committed; its files are back as HEAD has them");
    }
    this.clearIntent();
  }

  /** Puts `paths` back as HEAD has them: out of the index, and the file as committed (or gone when HEAD has none). */
  private async restoreFromHead(paths: string[]): Promise<void> {
    await this.git.unstage(paths).catch(() => undefined);
    for (const path of paths) await this.putBack(path, await this.git.show("HEAD", path));
  }

  private writeIntent(intent: Intent): void {
    // No fsync: the threat is a killed daemon, and the page cache keeps this write ahead of the files'.
    try {
      this.git.writeOwnFile(INTENT_FILE, JSON.stringify(intent));
    } catch (err) {
      // Cut short by a full disk: a torn intent must not stay for the next start to puzzle over.
      try {
        this.clearIntent();
      } catch {
        // a read-only store: nothing was written either
      }
      throw asUnavailable(err, this.git.dir);
    }
  }

  private clearIntent(): void {
    this.git.removeOwnFile(INTENT_FILE);
  }

  /** Puts a document the daemon just wrote into the index. */
  index(path: string, text: string): void {
    const read = Catalog.read(path, text);
    if (read.ok) this.catalog.put(read.entry, this.files.state(path));
  }

  /**
   * The last commit that wrote an entry's text at its path (as of the HEAD
   * taken in), asked of git once per content (a `git log` costs more as
   * history grows); null when HEAD does not hold that text there (the file
   * is dirty, or not committed at all).
   */
  async lastCommit(entry: Entry): Promise<string | null> {
    const known = this.lastCommits.get(entry.path);
    if (known !== undefined && known.textId === entry.textId) return known.commit;
    const taken = await this.git.takenIn();
    if (taken === null || (await this.dirtyCheck())(entry)) return null;
    const commit = (await this.git.log(entry.path, 1, taken))[0]?.commit ?? null;
    if (commit !== null) this.lastCommits.set(entry.path, { commit, textId: entry.textId });
    return commit;
  }

  /** After commits made outside the daemon: the last commit of a file may be another one for the same text. */
  forgetLastCommits(): void {
    this.lastCommits.clear();
  }

  /**
   * A test for "this text is not what the HEAD taken in has at its path":
   * an edit not committed yet (or a file never committed). One read of
   * HEAD's tree per HEAD (none after the daemon's own commits: the commit
   * writer carries it forward). An entry carries its sha1 blob id; in a
   * sha256 store each text is read from its file and hashed once (a file
   * that no longer holds it is an edit not taken in yet: dirty).
   */
  async dirtyCheck(): Promise<(entry: Entry) => boolean> {
    const { tree, algorithm } = await this.git.treeAt(await this.git.takenIn());
    return (entry) => {
      if (algorithm === "sha1") return tree.get(entry.path)?.id !== entry.textId;
      let id = this.sha256Ids.get(entry);
      if (id === undefined) {
        const text = this.catalog.textOf(entry);
        if (text === undefined) return true;
        id = blobId(Buffer.from(text), algorithm);
        this.sha256Ids.set(entry, id);
      }
      return tree.get(entry.path)?.id !== id;
    };
  }

  private async pathAt(revision: string, name: string): Promise<string | undefined> {
    const current = this.catalog.get(name);
    if (current !== undefined && (await this.git.show(revision, current.path)) !== undefined) return current.path;
    return (await this.git.listFiles(revision))?.find((p) => isPatternPath(p) && stemOf(p) === name);
  }
}

/** True when two documents name the same parents (extends and mixins). */
function sameParents(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return deepEqual(a.extends ?? null, b.extends ?? null) && deepEqual(a.mixins ?? null, b.mixins ?? null);
}

function isUnavailable(err: unknown): boolean {
  return err instanceof DaemonError && err.code === "unavailable";
}

/** invalid_params naming the first issue and where it is; all issues in details. */
export function invalid(what: string, issues: Issue[]): DaemonError {
  const first = issues[0];
  const where = first === undefined || first.path === "" ? "" : ` at ${first.path}`;
  return new DaemonError("invalid_params", `${what}${where}: ${first?.message ?? "unknown problem"}`, { issues });
}
