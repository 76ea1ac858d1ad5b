/**
 * Versions and compare-and-set of state keys (pure). Each key has a version
 * that grows with every change and is never handed out twice for the same
 * key, so a writer that read version N can ask to write only if the key is
 * still at N (optimistic locking) and never be fooled by a key deleted and
 * set again (ABA). A key that does not exist is at version 0.
 */
import { isDeepStrictEqual } from "node:util";
import { DaemonError } from "../../core/errors.js";

/** A key's value with its version; undefined where the key does not exist. */
export interface Versioned {
  value: unknown;
  version: number;
}

/** The version of a key that does not exist; `expect: {version: 0}` creates a key only while it is absent. */
export const ABSENT_VERSION = 0;

/**
 * The version a change of a key gets: one more than the key's current one;
 * a key that does not exist starts above every version a deleted key had,
 * so a key deleted and set again never repeats a version.
 */
export function nextVersion(current: Versioned | undefined, highestDeletedVersion: number): number {
  return current === undefined ? highestDeletedVersion + 1 : current.version + 1;
}

/** `{version: N}` (an object whose only member is `version`) asks for a version; anything else is the value expected. */
export function isVersionExpectation(expect: unknown): expect is { version: unknown } {
  if (typeof expect !== "object" || expect === null || Array.isArray(expect)) return false;
  const members = Object.keys(expect);
  return members.length === 1 && members[0] === "version";
}

/** Why a `{version: ...}` expectation is malformed, or null when it is fine (or not a version expectation). */
export function versionExpectationProblem(expect: unknown): string | null {
  if (!isVersionExpectation(expect)) return null;
  const { version } = expect;
  return Number.isSafeInteger(version) && (version as number) >= 0
    ? null
    : `{version: N} expects a version, a whole number ≥ 0 (0: the key does not exist), not ${JSON.stringify(version)}`;
}

/**
 * The `conflict` a set with `expect` meets when the key is not as expected,
 * or null when it is. Details carry the key's current version and value
 * (no value: the key does not exist), so the writer can build on them and
 * retry without reading again.
 */
export function expectationConflict(key: string, expect: unknown, current: Versioned | undefined): DaemonError | null {
  const version = current?.version ?? ABSENT_VERSION;
  const details = current === undefined ? { key, version, expected: expect } : { key, version, value: current.value, expected: expect };
  const retry = `build on details.value and retry with expect {version: ${version}}`;
  if (isVersionExpectation(expect)) {
    if (expect.version === version) return null;
    if (current === undefined) {
      return new DaemonError("conflict", `state key ${key} does not exist (version 0), not version ${expect.version as number}; to create it only while it is absent, expect {version: 0}`, details);
    }
    if (expect.version === ABSENT_VERSION) {
      return new DaemonError("conflict", `state key ${key} already exists (version ${version}); expect {version: 0} only creates an absent key; to change it, ${retry}`, details);
    }
    return new DaemonError("conflict", `state key ${key} is at version ${version}, not ${expect.version as number}: it changed since it was read; ${retry}`, details);
  }
  if (current === undefined) {
    return new DaemonError("conflict", `state key ${key} does not exist, so it does not hold the expected value; to create it only while it is absent, expect {version: 0}`, details);
  }
  if (isDeepStrictEqual(current.value, expect)) return null;
  return new DaemonError("conflict", `state key ${key} (version ${version}) does not hold the expected value; ${retry}`, details);
}
