/**
 * Durable file writes. `writeAtomic`: a reader sees the old file or the new
 * one, never half of either, and the new one survives a crash once this
 * resolves (temp file + fsync + rename + directory fsync). `writeAtomicAll`:
 * the same for several small files at once.
 */
import { closeSync, constants, fsync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

const fsyncAsync = promisify(fsync);

/** A temp file is created or truncated, never opened through a link planted at its name. */
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * `content` may be a sequence of chunks, written one after another, so a
 * large file never has to be one string. `tempDir` must be on the same file
 * system as `path` (the rename must not cross devices); it defaults to the
 * file's own directory.
 */
export async function writeAtomic(path: string, content: string | Uint8Array | Iterable<string>, tempDir = dirname(path)): Promise<void> {
  const temp = join(tempDir, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, TEMP_FLAGS, 0o600);
  try {
    if (typeof content === "string" || content instanceof Uint8Array) await file.writeFile(content);
    else for (const chunk of content) await file.write(chunk);
    await file.sync();
  } catch (err) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await file.close();
  await rename(temp, path);
  await syncDirectory(dirname(path));
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
 * Small files (a pattern and its parent) made durable together: written to
 * temp files synchronously (a few KB into the page cache cost less than the
 * thread pool's round trips, which made two files take 3 ms), fsynced all at
 * once off the event loop, renamed, then each directory fsynced once. Each
 * file is atomic on its own; a crash between two renames leaves some new
 * and some old, which the caller must be able to tell (the store's intent).
 * `beforeRename(path)` runs right before each rename, in the same turn of
 * the event loop, and may throw to stop it (the store checks the path for
 * links again: the fsync is long enough for one to be swapped in).
 */
export async function writeAtomicAll(
  files: readonly { path: string; content: string }[],
  tempDir?: string,
  beforeRename?: (path: string) => void,
): Promise<void> {
  const temps: { temp: string; path: string; fd: number }[] = [];
  let renamed = 0;
  try {
    try {
      for (const { path, content } of files) {
        const temp = join(tempDir ?? dirname(path), `.${basename(path)}.${process.pid}.${temps.length}.tmp`);
        const fd = openSync(temp, TEMP_FLAGS, 0o600);
        temps.push({ temp, path, fd });
        writeFileSync(fd, content);
      }
      await Promise.all(temps.map(({ fd }) => fsyncAsync(fd)));
    } finally {
      for (const { fd } of temps) closeSync(fd);
    }
    for (const { temp, path } of temps) {
      beforeRename?.(path);
      renameSync(temp, path);
      renamed++;
    }
  } finally {
    // Whatever was not renamed into place is not left behind.
    for (const { temp } of temps.slice(renamed)) rmSync(temp, { force: true });
  }
  await Promise.all([...new Set(files.map(({ path }) => dirname(path)))].map(syncDirectory));
}
