/**
 * The in-memory index of the store: name → its current document. Built by
 * walking every folder for `.yaml`, `.yml` and `.md` files (a markdown
 * file's YAML front matter is its document) and kept current by reconciling
 * against the files (each file's lstat decides what to re-read). Every file is
 * accounted for: indexed, invalid (with its issues), or ignored (with its
 * reason); data faults KSI lives with (a missing parent, a `name:` other
 * than the file name) are warnings on an indexed pattern. A file that stops
 * parsing or validating is reported, and the last good version of its
 * pattern keeps serving until it is fixed or deleted.
 */
import { isUnsafePath } from "./confined-path.js";
import type { Log } from "../../../core/log.js";
import type { Issue } from "../model/document.js";
import { readPatternData, splitPatternText } from "../model/front-matter.js";
import { fileWarnings, missingParents } from "../model/pattern-warnings.js";
import { validateComposition } from "../model/schema.js";
import { ignoredBecause, type IgnoreReason } from "../model/store-layout.js";
import type { StoreFiles } from "./files.js";
import { blobId } from "./git-objects.js";
import { isRacy, listStore, sameFile, type FileState } from "./listing.js";
import { NameOrderedMap, type NamePage } from "../model/name-order.js";

export interface Entry {
  name: string;
  type: string;
  version: string;
  description: string;
  /** Store-relative path, e.g. orchestrations/tournament.yaml. */
  path: string;
  /**
   * Git's sha1 blob id of the text this entry was parsed from: what "the same
   * text" means, and where the text is read back from (the file while it still
   * holds it, else git). The text itself is not kept: at 100 000 patterns the
   * texts and what slices of them kept alive were two thirds of the memory.
   */
  textId: string;
  /** The parsed document, holding no slice of the text (flatData). */
  data: Record<string, unknown>;
  /** What the file says of itself that KSI lives with (name ≠ file name, no description); missing parents are worked out over the index. */
  warnings: Issue[];
}

export interface InvalidFile {
  path: string;
  issues: Issue[];
}

/** A path the index does not read, and why (a stable reason code, and a sentence for people; a link's target). */
export interface IgnoredPath {
  path: string;
  reason: IgnoreReason;
  message: string;
  target?: string;
}

/** A warning on an indexed pattern's file (store-relative path), for the reload's account. */
export interface FileWarning {
  path: string;
  message: string;
}

export interface ReconcileResult {
  indexed: number;
  invalid: InvalidFile[];
  ignored: IgnoredPath[];
  warnings: FileWarning[];
  /** Pattern files whose state (listing.ts) or text moved, or gone, since the last reconcile. */
  changed: string[];
}

/** An entry with the file state it was read at (what the index cache stores). */
export interface CachedEntry {
  entry: Entry;
  state: FileState;
}

export class Catalog {
  /** Name → entry, its names kept in order overall and per type: a page of composition:list costs O(limit + log n). */
  private readonly byName = new NameOrderedMap<Entry>((entry) => entry.type);
  private readonly invalidFiles = new Map<string, Issue[]>();
  private readonly seen = new Map<string, FileState>();
  private ignoredPaths = new Map<string, IgnoredPath>();
  /** Pattern-named files that turned out not to be compositions (read, so kept until they change), with the text that said so. */
  private readonly notCompositions = new Map<string, { ignored: IgnoredPath; text: string }>();
  private listed: { folders: string[]; ignored: IgnoredPath[] } = { folders: [], ignored: [] };
  private typesAt: { revision: number; types: ReadonlySet<string> } | null = null;

  constructor(
    private readonly files: StoreFiles,
    private readonly log: Log,
  ) {}

  /** Goes up on every change to the index (the cache is rewritten when it moved). */
  revision = 0;

  get size(): number {
    return this.byName.size;
  }

  /** Entries read in an earlier run; reconcile() then re-reads only files whose state changed (or was racy). */
  restore(cached: readonly CachedEntry[]): void {
    this.typesAt = null;
    for (const { entry, state } of cached) {
      this.byName.set(entry.name, entry);
      this.seen.set(entry.path, state);
    }
  }

  snapshot(): CachedEntry[] {
    const entries: CachedEntry[] = [];
    for (const entry of this.byName.values()) {
      const state = this.seen.get(entry.path);
      if (state !== undefined && !this.invalidFiles.has(entry.path)) entries.push({ entry, state });
    }
    return entries;
  }

  get(name: string): Entry | undefined {
    return this.byName.get(name);
  }

  /** Every entry, in no particular order (list() and page() give name order; discover and select order for themselves). */
  entries(): IterableIterator<Entry> {
    return this.byName.values();
  }

  /** Every entry (of one type), in name order. */
  list(type?: string): Entry[] {
    return this.byName.names(type).map((name) => this.byName.get(name)!);
  }

  /** Up to `limit` entries (of one type) whose names come after `after`, in name order, and how many there are in all. */
  page(limit: number, after?: string, type?: string, prefix?: string): NamePage<Entry> {
    return this.byName.page(limit, after, type, prefix);
  }

  /** The types the patterns have (kept until the index changes): a type asked for that none has may be a typo of one of them. */
  types(): ReadonlySet<string> {
    if (this.typesAt?.revision !== this.revision) {
      const types = new Set<string>();
      for (const entry of this.byName.values()) types.add(entry.type);
      this.typesAt = { revision: this.revision, types };
    }
    return this.typesAt.types;
  }

  invalid(): InvalidFile[] {
    return [...this.invalidFiles].map(([path, issues]) => ({ path, issues }));
  }

  /** What the last reconcile found and did not index, and why (links, decision logs, other files, ...), by path. */
  ignored(): IgnoredPath[] {
    return [...this.ignoredPaths.values(), ...this.listed.ignored, ...[...this.notCompositions.values()].map((file) => file.ignored)].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** The folders the last reconcile walked, store-relative ("" the store itself): what the watcher watches. */
  folders(): readonly string[] {
    return this.listed.folders;
  }

  /** An entry's warnings: its file's own, and parents (extends, mixins) no pattern in the index has. */
  warningsOf(entry: Entry): Issue[] {
    return [...(entry.warnings ?? []), ...missingParents(entry.data, (name) => this.byName.has(name))];
  }

  /** Every indexed file's warnings, by path. */
  warnings(): FileWarning[] {
    const all: FileWarning[] = [];
    for (const entry of this.byName.values()) {
      if (this.invalidFiles.has(entry.path)) continue;
      for (const warning of this.warningsOf(entry)) all.push({ path: entry.path, message: `${warning.path}: ${warning.message}` });
    }
    return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Records a document the daemon itself just wrote (no need to wait for the watcher). */
  put(entry: Entry, state?: FileState): void {
    this.revision++;
    this.byName.set(entry.name, entry);
    this.invalidFiles.delete(entry.path);
    if (state !== undefined) this.seen.set(entry.path, state);
  }

  /** Forgets everything (the store is gone): the next reconcile reads every file there is. */
  clear(): void {
    this.revision++;
    this.typesAt = null;
    this.byName.clear();
    this.invalidFiles.clear();
    this.seen.clear();
    this.ignoredPaths = new Map();
  }

  drop(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.revision++;
    this.byName.delete(name);
    this.seen.delete(entry.path);
  }

  /**
   * Reconciles the index with the files, synchronously: listing, reading and
   * parsing are all CPU-bound small-file work (sync reads are 7 times faster
   * than the thread-pool round trips here), and a scan that cannot be
   * interleaved with another needs no coordination. The listing lstats
   * every file; a file is read only when that says it changed (inode, size,
   * mtime or ctime: listing.ts) or when its last state was taken too soon
   * after a change to prove anything (racy), and parsed only when its text
   * is not what its entry holds. So a reconcile with nothing changed costs
   * the listing alone, and an edit of the same size within the same mtime
   * tick is still seen: the edit moves the ctime, or the state before it
   * was racy.
   */
  reconcile(): ReconcileResult {
    const present = this.patternFiles();
    const servedAt = new Map([...this.byName.values()].map((e) => [e.path, e]));
    // A name served from a file that is still there stays its file's, whichever folder is read first.
    const owner = new Map([...this.byName.values()].filter((e) => present.has(e.path)).map((e) => [e.name, e.path]));
    const changed = [...present].filter(([path, state]) => {
      const before = this.seen.get(path);
      return before === undefined || !sameFile(before, state) || isRacy(before);
    });
    const touched: string[] = [];
    for (const [path, state] of changed) {
      const before = this.seen.get(path);
      const moved = before === undefined || !sameFile(before, state);
      this.seen.set(path, state);
      let text: string | undefined;
      try {
        text = this.files.read(path);
      } catch (err) {
        touched.push(path);
        this.markInvalid(path, [{ path: "", message: (err as Error).message }]);
        continue;
      }
      if (text === undefined) {
        touched.push(path);
        continue;
      }
      // The very text the served entry was parsed from (a touched or racy file): parsing it would give
      // that entry again, so it is kept, and with it every view made of it (discover's columns, the index cache).
      const served = servedAt.get(path);
      const textId = textIdOf(text);
      if (served !== undefined && served.textId === textId && !this.invalidFiles.has(path)) {
        // Touched without a change (same text, new mtime): recorded and reported as before, and the cache rewritten with the new state.
        if (moved) {
          this.revision++;
          touched.push(path);
        }
        continue;
      }
      // Likewise a file already found to be no composition, as it was then.
      if (this.notCompositions.get(path)?.text === text) {
        if (moved) touched.push(path);
        continue;
      }
      touched.push(path);
      const result = Catalog.read(path, text, textId);
      this.notCompositions.delete(path);
      // A pattern's file that stops being one (its type removed, its front matter broken) is invalid: its last good version keeps serving.
      if (!result.ok && result.ignored !== undefined && !servedAt.has(path)) {
        this.notCompositions.set(path, { ignored: { path, ...result.ignored }, text });
        this.invalidFiles.delete(path);
        continue;
      }
      if (!result.ok && result.ignored !== undefined) {
        this.markInvalid(path, [{ path: "", message: result.ignored.message }]);
        continue;
      }
      if (!result.ok) {
        this.markInvalid(path, result.issues);
        continue;
      }
      const clash = owner.get(result.entry.name);
      if (clash !== undefined && clash !== path) {
        this.markInvalid(path, [{ path: "name", message: `name ${result.entry.name} is already used by ${clash}; names are unique across types` }]);
        continue;
      }
      owner.set(result.entry.name, path);
      this.revision++;
      this.byName.set(result.entry.name, result.entry);
      this.invalidFiles.delete(path);
    }
    for (const path of [...this.seen.keys()]) {
      if (present.has(path)) continue;
      this.seen.delete(path);
      this.invalidFiles.delete(path);
      this.notCompositions.delete(path);
      touched.push(path);
      const name = servedAt.get(path)?.name;
      this.revision++;
      if (name !== undefined && this.byName.get(name)?.path === path) this.byName.delete(name);
    }
    // An entry whose file is gone though it was never seen (put by a save whose file a `git reset --hard` removed
    // before it could be stat'ed): nothing is served whose file is not there.
    for (const entry of [...this.byName.values()]) {
      if (present.has(entry.path)) continue;
      this.revision++;
      this.byName.delete(entry.name);
      touched.push(entry.path);
    }
    return { indexed: this.byName.size, invalid: this.invalid(), ignored: this.ignored(), warnings: this.warnings(), changed: touched };
  }

  /** The text `entry` was parsed from, when its file still holds it (undefined: the file changed or is gone since; see PatternStore.textOf). */
  textOf(entry: Entry): string | undefined {
    let text: string | undefined;
    try {
      text = this.files.read(entry.path);
    } catch {
      return undefined;
    }
    return text !== undefined && textIdOf(text) === entry.textId ? text : undefined;
  }

  /**
   * True when every one of these store-relative paths is a pattern file the
   * catalog already holds as it is now (the daemon's own saves: listing.ts's
   * sameFile): the watcher then has nothing to reconcile.
   */
  holds(paths: readonly string[]): boolean {
    for (const path of paths) {
      const known = this.seen.get(path);
      if (known === undefined) return false;
      const now = this.files.state(path);
      if (now === undefined || !sameFile(known, now)) return false;
    }
    return true;
  }

  /**
   * Parses and validates one file's text as the pattern at `path`, as a file
   * already in the store (what KSI accepts: no description is a warning).
   * `ignored`: the file is not a composition at all (markdown without front
   * matter, a mapping without a type), which is no fault of the file.
   */
  static read(path: string, text: string, textId = textIdOf(text)): { ok: true; entry: Entry } | { ok: false; issues: Issue[]; ignored?: { reason: IgnoreReason; message: string } } {
    if (splitPatternText(path, text) === null) return { ok: false, issues: [], ignored: ignoredBecause("no_front_matter") };
    const parsed = readPatternData(path, text);
    if (!parsed.ok) return parsed;
    const data = parsed.data;
    if (data.type == null && data.component_type == null) return { ok: false, issues: [], ignored: ignoredBecause("not_a_composition") };
    const valid = validateComposition(data, "stored");
    if (!valid.ok) return valid;
    const { name, type, version, description } = valid.composition;
    const own = flatData({ name, type, version, description, data });
    return { ok: true, entry: { ...own, path, textId, warnings: fileWarnings(path, name, data) } };
  }

  private markInvalid(path: string, issues: Issue[]): void {
    this.invalidFiles.set(path, issues);
    this.log.warn({ path, issues }, "invalid composition file; its last good version keeps serving");
  }

  /**
   * The pattern files, every folder down (see listing.ts). Links are never
   * followed: each one met (a folder, a pattern file, a decision log) is
   * listed as ignored, and logged when first seen.
   */
  private patternFiles(): Map<string, FileState> {
    const listing = listStore(this.files.root);
    const links = new Map<string, IgnoredPath>();
    for (const path of listing.links) this.ignoreLink(path, links);
    this.ignoredPaths = links;
    this.listed = { folders: listing.folders, ignored: listing.ignored };
    return listing.patterns;
  }

  private ignoreLink(path: string, links: Map<string, IgnoredPath>): void {
    let ignored = this.ignoredPaths.get(path);
    if (ignored === undefined) {
      try {
        this.files.resolve(path);
        return;
      } catch (err) {
        if (!isUnsafePath(err)) return;
        const target = String(err.details?.target);
        ignored = { path, reason: "unsafe_path", message: err.message, target };
        this.log.warn({ path, target }, "a symbolic link in the store is ignored; the store never reads or writes through a link");
      }
    }
    links.set(path, ignored);
  }
}

/**
 * A copy of `text` that is its own string: the parser's strings are slices
 * of the file's text, which keep the whole text alive, and comparing slices
 * costs V8 several times more (names are compared on every discover and list
 * that orders by name: a page of 50 out of 3 000 matches, 0.7 against 0.1 ms).
 */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** Strings this long or longer may be slices of the text (V8 slices from 13 characters). */
const SLICEABLE = 13;

/**
 * A copy of parsed data whose strings are their own (flat): an entry that
 * holds one slice costs its file's whole text as well (a synthetic pattern
 * of 2.8 KB: 7 KB an entry against 4). Values other than plain objects,
 * arrays and strings are kept as they are (numbers, booleans, null).
 */
function flatData<T>(value: T): T {
  if (typeof value === "string") return (value.length >= SLICEABLE ? flat(value) : value) as T;
  if (Array.isArray(value)) return value.map(flatData) as T;
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // A key `__proto__` (YAML allows it) is data: assigning it would set the copy's prototype instead.
    if (key === "__proto__") Object.defineProperty(copy, key, { value: flatData(item), enumerable: true, writable: true, configurable: true });
    else copy[key.length >= SLICEABLE ? flat(key) : key] = flatData(item);
  }
  return copy as T;
}

/** git's sha1 blob id of a text (the same for the same text on every machine, so it also names the blob in a sha1 store). */
export function textIdOf(text: string): string {
  return blobId(Buffer.from(text), "sha1");
}
