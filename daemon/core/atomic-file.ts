/**
 * Durable file writes. `writeAtomic`: a reader sees the old file or the new
 * one, never half of either, and the new one survives a crash once this
 * resolves (temp file + fsync + rename + directory fsync). `writeAtomicAll`:
 * the same for several small files at once, able to put the old ones back
 * without writing a byte (a full disk must not stop a rollback). A disk that
 * cannot take the write is `unavailable` naming the file (disk-fault.ts).
 */
import { closeSync, constants, fstatSync, fsync, ftruncateSync, linkSync, lstatSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { asUnavailable } from "./disk-fault.js";

const fsyncAsync = promisify(fsync);

/** A temp file is created or truncated, never opened through a link planted at its name. */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * `content` may be a sequence of chunks, written one after another, so a
 * large file never has to be one string. `tempDir` must be on the same file
 * system as `path` (the rename must not cross devices); it defaults to the
 * file's own directory.
 */
export async function writeAtomic(path: string, content: string | Uint8Array | Iterable<string | Uint8Array>, tempDir = dirname(path)): Promise<void> {
  const temp = join(tempDir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(temp, TEMP_FLAGS, 0o600);
    try {
      if (typeof content === "string" || content instanceof Uint8Array) await file.writeFile(content);
      else for (const chunk of content) await (typeof chunk === "string" ? file.write(chunk) : file.write(chunk));
      await file.sync();
    } catch (err) {
      await file.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await file.close();
    await rename(temp, path);
  } catch (err) {
    throw asUnavailable(err, path);
  }
  // Renamed: the new file is in place; a directory that cannot be synced no longer changes what readers see.
  await syncDirectory(dirname(path)).catch((err: unknown) => {
    throw asUnavailable(err, path);
  });
}

/**
 * Appends all of `data` to the file open for appending at `fd`, or none of
 * it: a write cut short (a full disk) is truncated away before the error is
 * thrown, so no torn record is left for a reader. Costs nothing more than a
 * plain write when it succeeds.
 */
export function appendWhole(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written);
  } catch (err) {
    if (written > 0) ftruncateSync(fd, fstatSync(fd).size - written);
    throw err;
  }
}

/**
 * Ends the file open at `fd` with a newline when its last line has none (a
 * crash in the middle of an append, a hand edit, or a cut-short write whose
 * truncation failed too), so that the next record starts a line of its own
 * and is never lost glued to a torn one. Returns the file's size before.
 */
export function closeTornLine(fd: number): number {
  const size = fstatSync(fd).size;
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) appendWhole(fd, "\n");
  return size;
}

/** Makes a rename or a newly created file in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes the temp files that writes of `path` left behind when a daemon
 * was killed (`.<name>.<pid>.tmp`, or with a tag before the pid; any pid:
 * it is gone); returns their names.
 */
export async function removeLeftoverTemps(path: string): Promise<string[]> {
  const prefix = `.${basename(path)}.`;
  const left = (await readdir(dirname(path))).filter((name) => name.startsWith(prefix) && /^\.\S+\.\d+\.tmp$/.test(name));
  for (const name of left) await unlink(join(dirname(path), name));
  return left;
}

/** What `writeAtomicAll` replaced, to keep or to put back. */
export interface Replaced {
  /**
   * Puts every file back as it was (one that was new: removed). Renames only:
   * it needs no free space. A path for which `leave(path)` is true is left as
   * it is now (its old version let go): someone else's change, not to undo.
   */
  restore(leave?: (path: string) => boolean): void;
  /** Lets the old versions go. */
  discard(): void;
}

/**
 * Small files (a pattern and its parent) made durable together: written to
 * temp files synchronously (a few KB into the page cache cost less than the
 * thread pool's round trips, which made two files take 3 ms), fsynced all at
 * once off the event loop, renamed, then each directory fsynced once. Each
 * file is atomic on its own; a crash between two renames leaves some new
 * and some old, which the caller must be able to tell (the store's intent).
 * `beforeRename(path)` runs right before each rename, in the same turn of
 * the event loop, and may throw to stop it (the store checks the path for
 * links again: the fsync is long enough for one to be swapped in).
 * Each old file is kept as a hard link beside its temp file until the
 * caller restores or discards it; a failure on the way puts back whatever
 * was already renamed, so the files are as they were.
 */
export async function writeAtomicAll(
  files: readonly { path: string; content: string }[],
  tempDir?: string,
  beforeRename?: (path: string) => void,
): Promise<Replaced> {
  const temps: { temp: string; path: string; fd: number }[] = [];
  const replaced: { path: string; old: string | null }[] = [];
  const replacement: Replaced = {
    restore: (leave) => {
      for (const { path, old } of replaced.reverse()) {
        if (leave?.(path) === true) {
          if (old !== null) rmSync(old, { force: true });
        } else if (old === null) rmSync(path, { force: true });
        else renameSync(old, path);
      }
      replaced.length = 0;
    },
    discard: () => {
      for (const { old } of replaced) if (old !== null) rmSync(old, { force: true });
      replaced.length = 0;
    },
  };
  let current = files[0]?.path ?? "";
  let renamed = 0;
  try {
    try {
      for (const { path, content } of files) {
        current = path;
        const temp = join(tempDir ?? dirname(path), `.${basename(path)}.${process.pid}.${temps.length}.tmp`);
        const fd = openSync(temp, TEMP_FLAGS, 0o600);
        temps.push({ temp, path, fd });
        writeFileSync(fd, content);
      }
      current = files[0]?.path ?? "";
      await Promise.all(temps.map(({ fd }) => fsyncAsync(fd)));
    } finally {
      for (const { fd } of temps) closeSync(fd);
    }
    for (const { temp, path } of temps) {
      current = path;
      beforeRename?.(path);
      const old = keepOld(path, `${temp.slice(0, -".tmp".length)}.old`);
      try {
        renameSync(temp, path);
      } catch (err) {
        if (old !== null) rmSync(old, { force: true });
        throw err;
      }
      replaced.push({ path, old });
      renamed++;
    }
    await Promise.all([...new Set(files.map(({ path }) => dirname(path)))].map(syncDirectory));
  } catch (err) {
    // Nothing half-done stays: the files as they were, no temp file left behind.
    try {
      replacement.restore((path) => lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true);
    } finally {
      for (const { temp } of temps.slice(renamed)) rmSync(temp, { force: true });
    }
    throw asUnavailable(err, current);
  }
  return replacement;
}

/** A hard link to the file at `path` under the name `old` (no data is copied); null when there is no file. */
function keepOld(path: string, old: string): string | null {
  try {
    linkSync(path, old);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code !== "EEXIST") throw err;
    // Left by a daemon killed mid-write with the same pid.
    rmSync(old, { force: true });
    linkSync(path, old);
  }
  return old;
}
