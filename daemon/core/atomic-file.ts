/**
 * Durable file writes. `writeAtomic`: a reader sees the old file or the new
 * one, never half of either, and the new one survives a crash once this
 * resolves (temp file + fsync + rename + directory fsync).
 */
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * `content` may be a sequence of chunks, written one after another, so a
 * large file never has to be one string. `tempDir` must be on the same file
 * system as `path` (the rename must not cross devices); it defaults to the
 * file's own directory.
 */
export async function writeAtomic(path: string, content: string | Uint8Array | Iterable<string>, tempDir = dirname(path)): Promise<void> {
  const temp = join(tempDir, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, "w", 0o600);
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
