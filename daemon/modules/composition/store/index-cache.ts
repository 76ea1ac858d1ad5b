/**
 * The catalog saved under var/lib, so that a restart re-reads only the
 * pattern files whose mtime or size changed: parsing is nearly all of an
 * index build (about 1 ms a file), and one JSON parse of the cache is not.
 * A cache for another store, another format or a damaged file is ignored.
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../../core/atomic-file.js";
import type { CachedEntry } from "./catalog.js";

const FORMAT = 1;

interface CacheFile {
  format: number;
  store: string;
  entries: CachedEntry[];
}

export async function readIndexCache(path: string, store: string): Promise<CachedEntry[]> {
  try {
    const cache = JSON.parse(await readFile(path, "utf8")) as Partial<CacheFile>;
    return cache.format === FORMAT && cache.store === store && Array.isArray(cache.entries) ? cache.entries : [];
  } catch {
    return [];
  }
}

export async function writeIndexCache(path: string, store: string, entries: CachedEntry[]): Promise<void> {
  const cache: CacheFile = { format: FORMAT, store, entries };
  await writeAtomic(path, JSON.stringify(cache));
}
