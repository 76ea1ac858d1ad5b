/**
 * The state at start: var/lib/state.ndjson replayed, its torn last line
 * (a daemon killed in the middle of an append) cut off with a warning; or,
 * in a home from before the journal, var/lib/state.json carried over.
 *
 * Migration writes the journal from state.json atomically (temp + fsync +
 * rename), then renames state.json to state.json.migrated, which is kept
 * for a person to look at and never read again. A daemon killed in between
 * finds both: the journal holds the state, and state.json is left where it
 * is, with a warning at each start, since it may also be a file a person
 * put back by hand (nothing is overwritten or deleted).
 */
import { readFile, rename } from "node:fs/promises";
import { writeAtomic } from "../../core/atomic-file.js";
import { removeLeftoverTemps } from "../../core/atomic-file.js";
import type { Log } from "../../core/log.js";
import { decodeState } from "./state-document.js";
import { metaLine, replayJournal, setLine, type ReplayedState } from "./state-record.js";

export const MIGRATED_SUFFIX = ".migrated";

/** The replayed journal; throws an Error saying which file is wrong and how. */
export async function loadState(journalPath: string, legacyPath: string, log: Log): Promise<ReplayedState> {
  const left = await removeLeftoverTemps(journalPath);
  if (left.length > 0) log.info({ removed: left }, "removed the temp file of a state journal compaction a killed daemon left");
  let bytes = await readOrNull(journalPath);
  const legacy = await readOrNull(legacyPath);
  if (bytes === null && legacy !== null) {
    bytes = await migrate(journalPath, legacyPath, legacy, log);
  } else if (legacy !== null) {
    log.warn({ path: legacyPath, journal: journalPath }, `${legacyPath} is not read: ${journalPath} holds the state; remove ${legacyPath} (or move it away) to silence this`);
  }
  let state: ReplayedState;
  try {
    state = replayJournal(bytes ?? new Uint8Array());
  } catch (err) {
    throw new Error(`cannot read ${journalPath}: ${(err as Error).message}; fix or move it away`, { cause: err });
  }
  if (state.torn !== undefined) {
    log.warn(
      { path: journalPath, ...state.torn },
      `state journal: the last line (line ${state.torn.line}, ${state.torn.bytes} bytes at byte ${state.torn.offset}) was cut short by a crash while it was written; it was never acknowledged, and is cut off`,
    );
  }
  return state;
}

async function migrate(journalPath: string, legacyPath: string, legacy: Buffer, log: Log): Promise<Buffer> {
  let old;
  try {
    old = decodeState(JSON.parse(legacy.toString("utf8")));
  } catch (err) {
    throw new Error(`cannot read ${legacyPath}: ${(err as Error).message}; fix or move it away`, { cause: err });
  }
  const lines = [metaLine(old.highestDeletedVersion)];
  for (const [key, value] of old.values) lines.push(setLine(key, old.versions.get(key)!, JSON.stringify(value)));
  const text = Buffer.from(lines.join(""));
  await writeAtomic(journalPath, text);
  await rename(legacyPath, legacyPath + MIGRATED_SUFFIX);
  log.info({ from: legacyPath, to: journalPath, keys: old.values.size, kept: legacyPath + MIGRATED_SUFFIX }, "state carried over from state.json to the state journal");
  return text;
}

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
