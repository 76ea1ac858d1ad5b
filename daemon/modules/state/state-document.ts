/**
 * The layout of state.json (pure), where homes from before the state
 * journal (issue 22) kept the state: read once, to carry it over into
 * state.ndjson (state-load.ts). Each key's value sits at the top level,
 * as a person opening the file expects; two members no state key can spell
 * (keys have no `$`) hold the versions, so they survive a restart:
 *
 *   {"run_42.status": "done", "counter": 400,
 *    "$versions": {"run_42.status": 2, "counter": 400},
 *    "$highest_deleted_version": 3}
 *
 * A file from before versions (no `$` members) loads with every key at
 * version 1.
 */
import { keyProblem } from "./kv.js";

export const VERSIONS_MEMBER = "$versions";
export const HIGHEST_DELETED_MEMBER = "$highest_deleted_version";

export interface StoredState {
  values: Map<string, unknown>;
  versions: Map<string, number>;
  /** The highest version any deleted key had: a key set again starts above it. */
  highestDeletedVersion: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The state a parsed state.json holds; throws an Error saying what is wrong with the file. */
export function decodeState(document: unknown): StoredState {
  if (!isRecord(document)) throw new Error("it does not hold a JSON object");
  const { [VERSIONS_MEMBER]: versionsMember = {}, [HIGHEST_DELETED_MEMBER]: highestMember = 0, ...values } = document;
  // The file is outside the daemon's control: a key like "__proto__.x" would reach Object.prototype in the nested view.
  for (const key of Object.keys(values)) {
    const problem = keyProblem(key);
    if (problem !== null) throw new Error(`it holds the key ${JSON.stringify(key)}: ${problem}`);
  }
  if (!isRecord(versionsMember)) throw new Error(`its ${VERSIONS_MEMBER} is not an object of key → version`);
  if (!isVersion(highestMember)) throw new Error(`its ${HIGHEST_DELETED_MEMBER} is not a whole number ≥ 0: ${JSON.stringify(highestMember)}`);
  let highestDeletedVersion = highestMember;
  const versions = new Map<string, number>();
  for (const [key, version] of Object.entries(versionsMember)) {
    if (!isVersion(version) || version === 0) throw new Error(`its ${VERSIONS_MEMBER} gives ${JSON.stringify(key)} the version ${JSON.stringify(version)}, not a whole number ≥ 1`);
    // A version without its key (the key removed by hand) counts as deleted, so it is never handed out again.
    if (Object.hasOwn(values, key)) versions.set(key, version);
    else highestDeletedVersion = Math.max(highestDeletedVersion, version);
  }
  // A key without a version (an older file, or one added by hand) starts above every deleted key's version.
  for (const key of Object.keys(values)) if (!versions.has(key)) versions.set(key, highestDeletedVersion + 1);
  return { values: new Map(Object.entries(values)), versions, highestDeletedVersion };
}
