/**
 * The in-memory index of the store: name → its current document. Built by
 * scanning `<type>s/<name>.yaml` files and kept current by reconciling
 * against the files (mtime and size decide what to re-read). A file that
 * stops parsing or validating is reported, and the last good version of its
 * pattern keeps serving until it is fixed or deleted.
 */
import { lstatSync, readdirSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { isUnsafePath } from "./confined-path.js";
import type { Log } from "../../../core/log.js";
import { readData, type Issue } from "../model/document.js";
import { DECISIONS_SUFFIX, NAME_PATTERN } from "../model/ref.js";
import { typeDirectory, validateComposition } from "../model/schema.js";
import type { StoreFiles } from "./files.js";

export interface Entry {
  name: string;
  type: string;
  version: string;
  description: string;
  /** Store-relative path, e.g. orchestrations/tournament.yaml. */
  path: string;
  text: string;
  data: Record<string, unknown>;
}

export interface InvalidFile {
  path: string;
  issues: Issue[];
}

/** A path the index does not read, and why (a stable reason code, and a sentence for people). */
export interface IgnoredPath {
  path: string;
  reason: "unsafe_path";
  message: string;
  target: string;
}

export interface ReconcileResult {
  indexed: number;
  invalid: InvalidFile[];
  ignored: IgnoredPath[];
  /** Pattern files read again (their mtime or size moved) or gone since the last reconcile. */
  changed: string[];
}

interface FileState {
  mtimeMs: number;
  size: number;
}

/** An entry with the file state it was read at (what the index cache stores). */
export interface CachedEntry {
  entry: Entry;
  state: FileState;
}

export class Catalog {
  private readonly byName = new Map<string, Entry>();
  private readonly invalidFiles = new Map<string, Issue[]>();
  private readonly seen = new Map<string, FileState>();
  private ignoredPaths = new Map<string, IgnoredPath>();
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

  /** Entries read in an earlier run; reconcile() then re-reads only files whose mtime or size changed. */
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

  /** Every entry, in no particular order (list() sorts; discover and select order for themselves). */
  entries(): IterableIterator<Entry> {
    return this.byName.values();
  }

  list(type?: string): Entry[] {
    const all = [...this.byName.values()];
    return (type === undefined ? all : all.filter((e) => e.type === type)).sort((a, b) => (a.name < b.name ? -1 : 1));
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

  /** What the last reconcile found and did not read (links), by path. */
  ignored(): IgnoredPath[] {
    return [...this.ignoredPaths.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
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
   * interleaved with another needs no coordination. A store of 10 000
   * patterns costs ~40 ms to list, plus ~0.1 ms per changed file.
   */
  reconcile(options: { full?: boolean } = {}): ReconcileResult {
    const present = this.patternFiles();
    const nameAt = new Map([...this.byName.values()].map((e) => [e.path, e.name]));
    // A name served from a file that is still there stays its file's, whichever folder is read first.
    const owner = new Map([...this.byName.values()].filter((e) => present.has(e.path)).map((e) => [e.name, e.path]));
    // full: every file read again, whatever its mtime and size say (a reset can put back a file of the same size within the same tick).
    const changed = [...present].filter(([path, state]) => {
      const before = this.seen.get(path);
      return options.full === true || before === undefined || before.mtimeMs !== state.mtimeMs || before.size !== state.size;
    });
    const touched: string[] = [];
    for (const [path, state] of changed) {
      this.seen.set(path, state);
      touched.push(path);
      let text: string | undefined;
      try {
        text = this.files.read(path);
      } catch (err) {
        this.markInvalid(path, [{ path: "", message: (err as Error).message }]);
        continue;
      }
      if (text === undefined) continue;
      const result = Catalog.read(path, text);
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
      touched.push(path);
      const name = nameAt.get(path);
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
    return { indexed: this.byName.size, invalid: this.invalid(), ignored: this.ignored(), changed: touched };
  }

  /**
   * True when every one of these store-relative paths is a pattern file the
   * catalog already holds at its current mtime and size (the daemon's own
   * saves): the watcher then has nothing to reconcile.
   */
  holds(paths: readonly string[]): boolean {
    for (const path of paths) {
      const known = this.seen.get(path);
      if (known === undefined) return false;
      const now = this.files.state(path);
      if (now === undefined || now.mtimeMs !== known.mtimeMs || now.size !== known.size) return false;
    }
    return true;
  }

  /** Parses and validates one file's text as the pattern at `path`. */
  static read(path: string, text: string): { ok: true; entry: Entry } | { ok: false; issues: Issue[] } {
    const parsed = readData(text);
    if (!parsed.ok) return parsed;
    const data = parsed.data;
    const valid = validateComposition(data);
    if (!valid.ok) return valid;
    const { name, type, version, description } = valid.composition;
    const expected = `${typeDirectory(type)}/${name}.yaml`;
    if (path !== expected) {
      return { ok: false, issues: [{ path: "name", message: `a ${type} named ${name} belongs at ${expected}, not ${path}` }] };
    }
    return { ok: true, entry: { name: flat(name), type, version, description, path, text, data } };
  }

  private markInvalid(path: string, issues: Issue[]): void {
    this.invalidFiles.set(path, issues);
    this.log.warn({ path, issues }, "invalid composition file; its last good version keeps serving");
  }

  /**
   * `<dir>/<name>.yaml` one level down, decision logs and dot-folders
   * excluded. Links are never followed: each one met (a folder, a pattern
   * file, a decision log) is listed as ignored, and logged when first seen.
   */
  private patternFiles(): Map<string, FileState> {
    const found = new Map<string, FileState>();
    const links = new Map<string, IgnoredPath>();
    for (const dir of listDirectory(this.files.root)) {
      if (dir.name.startsWith(".")) continue;
      if (dir.isSymbolicLink()) this.ignoreLink(dir.name, links);
      if (!dir.isDirectory()) continue;
      for (const file of listDirectory(join(this.files.root, dir.name))) {
        const path = `${dir.name}/${file.name}`;
        if (file.isSymbolicLink()) this.ignoreLink(path, links);
        if (!file.isFile() || !file.name.endsWith(".yaml") || !isPatternFileName(file.name.slice(0, -5))) continue;
        const info = lstatSync(join(this.files.root, path), { throwIfNoEntry: false });
        if (info?.isFile() === true) found.set(path, { mtimeMs: info.mtimeMs, size: info.size });
      }
    }
    this.ignoredPaths = links;
    return found;
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

function listDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isPatternFileName(base: string): boolean {
  return !base.endsWith(DECISIONS_SUFFIX) && NAME_PATTERN.test(base);
}

/**
 * A copy of `text` that is its own string: the parser's strings are slices
 * of the file's text, and comparing slices costs V8 several times more.
 * Names are compared on every discover and list that orders by name (a page
 * of 50 out of 3 000 matches: 0.7 against 0.1 ms).
 */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
