/**
 * The only reader and writer of pattern files: size-limited reads (synchronous:
 * a pattern file is small, and the catalog reads thousands of them at start), atomic
 * writes (temp + fsync + rename, several files made durable together) that
 * skip a file whose content would not change, and paths that cannot leave the store.
 */
import { lstatSync, mkdirSync, readFileSync } from "node:fs";
import { lstat, mkdir, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { writeAtomicAll } from "../../../core/atomic-file.js";
import { MAX_DOCUMENT_BYTES } from "../model/document.js";

export class StoreFiles {
  private temp: string | undefined;

  constructor(readonly root: string) {}

  /** Absolute path of a store-relative path; refuses anything that would leave the store. */
  resolve(path: string): string {
    const absolute = resolve(this.root, path);
    const inside = relative(this.root, absolute);
    if (inside === "" || inside.startsWith("..") || inside.split(sep).includes(".git")) throw new Error(`path ${path} is outside the store`);
    return absolute;
  }

  /** The text of a file, undefined when missing; an error when over the size limit or not a regular file. */
  read(path: string): string | undefined {
    const absolute = this.resolve(path);
    const info = lstatSync(absolute, { throwIfNoEntry: false });
    if (info === undefined) return undefined;
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    if (info.size > MAX_DOCUMENT_BYTES) throw new Error(`${path} is ${info.size} bytes; the limit is ${MAX_DOCUMENT_BYTES}`);
    return readFileSync(absolute, "utf8");
  }

  /** Writes atomically; false (and nothing written) when the file already holds exactly `text`. */
  async write(path: string, text: string): Promise<boolean> {
    return (await this.writeAll([{ path, text }])) > 0;
  }

  /**
   * Writes several files atomically each, made durable together; returns how
   * many were written (a file that already holds exactly its text is skipped).
   */
  async writeAll(writes: readonly { path: string; text: string }[]): Promise<number> {
    const changed = writes.filter(({ path, text }) => this.readIfPossible(path) !== text).map(({ path, text }) => ({ path: this.resolve(path), content: text }));
    if (changed.length === 0) return 0;
    for (const dir of new Set(changed.map(({ path }) => dirname(path)))) mkdirSync(dir, { recursive: true });
    // The temp files go under .git (same file system, never tracked, not watched): written beside the
    // pattern, they made the watcher re-read the whole folder one more time per save.
    await writeAtomicAll(changed, await this.tempDir());
    return changed.length;
  }

  private readIfPossible(path: string): string | undefined {
    try {
      return this.read(path);
    } catch {
      return undefined;
    }
  }

  /** mtime and size, as the catalog compares them; undefined when missing. */
  async state(path: string): Promise<{ mtimeMs: number; size: number } | undefined> {
    try {
      const info = await lstat(this.resolve(path));
      return { mtimeMs: info.mtimeMs, size: info.size };
    } catch {
      return undefined;
    }
  }

  /** `.git/patternd-tmp`, once the store is a repository (never creates `.git` itself). */
  private async tempDir(): Promise<string | undefined> {
    if (this.temp !== undefined) return this.temp;
    const dir = join(this.root, ".git", "patternd-tmp");
    const ready = await mkdir(dir).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code === "EEXIST",
    );
    if (ready) this.temp = dir;
    return this.temp;
  }

  async remove(path: string): Promise<void> {
    await unlink(this.resolve(path)).catch(() => undefined);
  }
}
