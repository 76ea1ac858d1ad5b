/**
 * The only reader and writer of pattern files: size-limited reads (synchronous:
 * a pattern file is small, and the catalog reads thousands of them at start), atomic
 * writes (temp + fsync + rename, several files made durable together) that
 * skip a file whose content would not change, and paths that cannot leave the
 * store, neither by name (`..`, `.git`) nor through a symbolic link (confined-path.ts).
 *
 * Temp files go to `patternd-tmp` in the work tree's git dir (git-dirs.ts):
 * never tracked, not watched, and written beside the pattern they made the
 * watcher re-read its folder once more per save. A rename cannot cross
 * file systems, so when the git dir is on another one than the work tree
 * (a `--separate-git-dir` or submodule repository on another disk, a bind
 * mount) the temp files go beside their file instead, under a hidden name
 * the watcher and the listing pass over.
 */
import { linkSync, lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { mkdir, unlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { writeAtomicAll, type Replaced } from "../../../core/atomic-file.js";
import { asUnavailable } from "../../../core/disk-fault.js";
import { MAX_DOCUMENT_BYTES } from "../model/document.js";
import { ConfinedDir, isUnsafePath } from "./confined-path.js";
import { StoreDirs } from "./git-dirs.js";
import { fileState, type FileState } from "./listing.js";

/** In the work tree's git dir. */
const TEMP_DIR = "patternd-tmp";

export class StoreFiles {
  private readonly dir: ConfinedDir;
  /** The git dir a rename out of failed with EXDEV (a bind mount that stat does not tell): temp files go beside their file while it is the one. */
  private crossDevice: string | null = null;

  /** `dirs`: where the repository is (its owner resolves it at start; a plain `<root>/.git` until then). */
  constructor(
    readonly root: string,
    private readonly dirs: StoreDirs = new StoreDirs(root),
  ) {
    this.dir = new ConfinedDir(root);
  }

  /**
   * Absolute path of a store-relative path: refuses anything that would leave
   * the store or reach into .git (an Error), and a path through a link (unsafe_path).
   */
  resolve(path: string): string {
    return this.dir.path(this.checkName(path));
  }

  /** Opens a store file with `flags`, never through a link (unsafe_path). */
  open(path: string, flags: number, mode?: number): number {
    return this.dir.open(this.checkName(path), flags, mode);
  }

  /**
   * The text of a file, undefined when missing; an error when over `maxBytes`
   * (a pattern's limit unless told), not a regular file, or a link (unsafe_path).
   */
  read(path: string, maxBytes = MAX_DOCUMENT_BYTES): string | undefined {
    return this.dir.read(this.checkName(path), maxBytes)?.toString("utf8");
  }

  private checkName(path: string): string {
    const inside = relative(this.root, resolve(this.root, path));
    if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside) || inside.split(sep).includes(".git")) {
      throw new Error(`path ${path} is outside the store`);
    }
    return inside;
  }

  /** Writes atomically; false (and nothing written) when the file already holds exactly `text`. */
  async write(path: string, text: string): Promise<boolean> {
    return (await this.writeAll([{ path, text }])) > 0;
  }

  /**
   * Writes several files atomically each, made durable together; returns how
   * many were written (a file that already holds exactly its text is skipped).
   * Every path is checked for links before anything is written, and again
   * just before its rename: a link swapped in while the files were synced is
   * refused, never written through.
   */
  async writeAll(writes: readonly { path: string; text: string }[]): Promise<number> {
    const { written, replaced } = await this.replaceAll(writes);
    replaced.discard();
    return written;
  }

  /**
   * writeAll, keeping the old files until the caller discards them or puts
   * them back (`restore`: renames only, so a rollback works on a full disk).
   * A disk that cannot take the files is `unavailable`, and nothing is changed.
   */
  async replaceAll(writes: readonly { path: string; text: string }[]): Promise<{ written: number; replaced: Replaced }> {
    for (const { path } of writes) this.resolve(path);
    const changed = writes.filter(({ path, text }) => this.readIfPossible(path) !== text).map(({ path, text }) => ({ path: this.resolve(path), content: text }));
    if (changed.length === 0) return { written: 0, replaced: { restore: () => undefined, discard: () => undefined } };
    try {
      for (const dir of new Set(changed.map(({ path }) => dirname(path)))) mkdirSync(dir, { recursive: true });
      const check = (absolute: string) => void this.resolve(relative(this.root, absolute));
      const temp = await this.tempDir();
      try {
        return { written: changed.length, replaced: await writeAtomicAll(changed, temp, check) };
      } catch (err) {
        // Nothing was changed (writeAtomicAll puts back what it renamed): written again, beside each file.
        if (temp === undefined || !this.crossesDevices(err)) throw err;
        return { written: changed.length, replaced: await writeAtomicAll(changed, undefined, check) };
      }
    } catch (err) {
      throw asUnavailable(err, changed[0]!.path);
    }
  }

  /**
   * Removes a file, keeping it (a hard link in the temp folder, no data copied) until
   * the caller discards it or puts it back: a delete that git then refuses is
   * undone without writing a byte. A missing file is not an error.
   */
  async removeKeeping(path: string): Promise<Replaced> {
    const absolute = this.resolve(path);
    const name = `.${basename(absolute)}.${process.pid}.removed`;
    const temp = await this.tempDir().catch(() => undefined);
    let kept = join(temp ?? dirname(absolute), name);
    try {
      try {
        rmSync(kept, { force: true });
        linkSync(absolute, kept);
      } catch (err) {
        if (temp === undefined || !this.crossesDevices(err)) throw err;
        kept = join(dirname(absolute), name);
        rmSync(kept, { force: true });
        linkSync(absolute, kept);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { restore: () => undefined, discard: () => undefined };
      throw asUnavailable(err, absolute);
    }
    try {
      await this.remove(path);
    } catch (err) {
      rmSync(kept, { force: true });
      throw asUnavailable(err, absolute);
    }
    return {
      restore: (leave) => (leave?.(absolute) === true ? rmSync(kept, { force: true }) : renameSync(kept, absolute)),
      discard: () => rmSync(kept, { force: true }),
    };
  }

  /** True when an absolute path in the store is a link now, or lies under one: not to be put back or removed. */
  isLinked(absolute: string): boolean {
    try {
      this.resolve(relative(this.root, absolute));
      return false;
    } catch (err) {
      if (isUnsafePath(err)) return true;
      throw err;
    }
  }

  private readIfPossible(path: string): string | undefined {
    try {
      return this.read(path);
    } catch {
      return undefined;
    }
  }

  /** The file's state as the catalog compares it (listing.ts); undefined when missing (or not a regular file). */
  state(path: string): FileState | undefined {
    try {
      const seenAt = Date.now();
      const info = lstatSync(this.resolve(path));
      return info.isFile() ? fileState(info, seenAt) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `patternd-tmp` in the git dir, once the store is a repository (never
   * creates the git dir itself) and when that is on the work tree's file
   * system; undefined: beside each file. Checked on every use: a link
   * planted there would take every temp file outside the store. mkdir
   * first, since it never follows a link.
   */
  private async tempDir(): Promise<string | undefined> {
    const gitDir = this.dirs.gitDir;
    if (this.crossDevice === gitDir) return undefined;
    const info = lstatSync(gitDir, { throwIfNoEntry: false });
    if (info?.isDirectory() !== true || info.dev !== lstatSync(this.root, { throwIfNoEntry: false })?.dev) return undefined;
    await mkdir(join(gitDir, TEMP_DIR)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
    return this.dirs.gitFiles.path(TEMP_DIR);
  }

  /** True for a rename or link that crossed file systems (EXDEV); from then on temp files go beside their file for this git dir. */
  private crossesDevices(err: unknown): boolean {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") return false;
    this.crossDevice = this.dirs.gitDir;
    return true;
  }

  /** Removes a file (a missing one is not an error); a link is refused, never removed in its target's place. */
  async remove(path: string): Promise<void> {
    const absolute = this.resolve(path);
    await unlink(absolute).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}
