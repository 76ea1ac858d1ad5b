/**
 * The in-memory index of the store: name → its current document. Built by
 * scanning `<type>s/<name>.yaml` files and kept current by reconciling
 * against the files (mtime and size decide what to re-read). A file that
 * stops parsing or validating is reported, and the last good version of its
 * pattern keeps serving until it is fixed or deleted.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Log } from "../../../core/log.js";
import { YamlDocument, type Issue } from "../model/document.js";
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
  private scanning: Promise<{ indexed: number; invalid: InvalidFile[] }> | null = null;
  private queued: Promise<{ indexed: number; invalid: InvalidFile[] }> | null = null;

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

  list(type?: string): Entry[] {
    const all = [...this.byName.values()];
    return (type === undefined ? all : all.filter((e) => e.type === type)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  invalid(): InvalidFile[] {
    return [...this.invalidFiles].map(([path, issues]) => ({ path, issues }));
  }

  /** Records a document the daemon itself just wrote (no need to wait for the watcher). */
  put(entry: Entry, state?: FileState): void {
    this.revision++;
    this.byName.set(entry.name, entry);
    this.invalidFiles.delete(entry.path);
    if (state !== undefined) this.seen.set(entry.path, state);
  }

  drop(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.revision++;
    this.byName.delete(name);
    this.seen.delete(entry.path);
  }

  /**
   * Reconciles the index with the files. A call while a scan runs gets the
   * scan after it (files may have changed since the running one listed
   * them), shared by every call made meanwhile.
   */
  reconcile(): Promise<{ indexed: number; invalid: InvalidFile[] }> {
    if (this.scanning === null) {
      this.scanning = this.scan().finally(() => {
        this.scanning = null;
      });
      return this.scanning;
    }
    this.queued ??= this.scanning
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.reconcile();
      });
    return this.queued;
  }

  /**
   * True when every one of these store-relative paths is a pattern file the
   * catalog already holds at its current mtime and size (the daemon's own
   * saves): the watcher then has nothing to reconcile.
   */
  async holds(paths: readonly string[]): Promise<boolean> {
    for (const path of paths) {
      const known = this.seen.get(path);
      if (known === undefined) return false;
      try {
        const info = await stat(join(this.files.root, path));
        if (info.mtimeMs !== known.mtimeMs || info.size !== known.size) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Parses and validates one file's text as the pattern at `path`. */
  static read(path: string, text: string): { ok: true; entry: Entry } | { ok: false; issues: Issue[] } {
    const parsed = YamlDocument.parse(text);
    if (!parsed.ok) return parsed;
    const data = parsed.document.data;
    const valid = validateComposition(data);
    if (!valid.ok) return valid;
    const { name, type, version, description } = valid.composition;
    const expected = `${typeDirectory(type)}/${name}.yaml`;
    if (path !== expected) {
      return { ok: false, issues: [{ path: "name", message: `a ${type} named ${name} belongs at ${expected}, not ${path}` }] };
    }
    return { ok: true, entry: { name, type, version, description, path, text, data } };
  }

  private async scan(): Promise<{ indexed: number; invalid: InvalidFile[] }> {
    const present = await this.patternFiles();
    const nameAt = new Map([...this.byName.values()].map((e) => [e.path, e.name]));
    // A name served from a file that is still there stays its file's, whichever folder is read first.
    const owner = new Map([...this.byName.values()].filter((e) => present.has(e.path)).map((e) => [e.name, e.path]));
    for (const [path, state] of present) {
      const before = this.seen.get(path);
      if (before !== undefined && before.mtimeMs === state.mtimeMs && before.size === state.size) continue;
      this.seen.set(path, state);
      let text: string | undefined;
      try {
        text = await this.files.read(path);
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
      const name = nameAt.get(path);
      this.revision++;
      if (name !== undefined && this.byName.get(name)?.path === path) this.byName.delete(name);
    }
    return { indexed: this.byName.size, invalid: this.invalid() };
  }

  private markInvalid(path: string, issues: Issue[]): void {
    this.invalidFiles.set(path, issues);
    this.log.warn({ path, issues }, "invalid composition file; its last good version keeps serving");
  }

  /** `<dir>/<name>.yaml` one level down, decision logs and dot-folders excluded. */
  private async patternFiles(): Promise<Map<string, FileState>> {
    const found = new Map<string, FileState>();
    const dirs = await readdir(this.files.root, { withFileTypes: true }).catch(() => []);
    for (const dir of dirs) {
      if (!dir.isDirectory() || dir.name.startsWith(".")) continue;
      const names = await readdir(join(this.files.root, dir.name)).catch(() => [] as string[]);
      for (const file of names) {
        if (!file.endsWith(".yaml")) continue;
        const base = file.slice(0, -5);
        if (base.endsWith(DECISIONS_SUFFIX) || !NAME_PATTERN.test(base)) continue;
        const path = `${dir.name}/${file}`;
        try {
          const info = await stat(join(this.files.root, path));
          if (info.isFile()) found.set(path, { mtimeMs: info.mtimeMs, size: info.size });
        } catch {
          // vanished between readdir and stat: the next reconcile sees it gone
        }
      }
    }
    return found;
  }
}
