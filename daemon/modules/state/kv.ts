/**
 * The state's keys (pure): a flat map of dotted keys to JSON values, seen
 * by conditions as one nested object (nested-view.ts).
 */

export const KEY_PATTERN = /^[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*$/;
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);

/** Why `key` cannot be a state key, or null when it can. */
export function keyProblem(key: string): string | null {
  if (!KEY_PATTERN.test(key)) return "keys are dot-separated segments of letters, digits, _ - and :";
  if (key.split(".").some((segment) => FORBIDDEN_SEGMENTS.has(segment))) return "__proto__, prototype and constructor are not usable segments";
  return null;
}

/** Entries whose key is `prefix` or lies under it (`run_1` matches `run_1` and `run_1.status`, not `run_10`). */
export function underPrefix(entries: ReadonlyMap<string, unknown>, prefix: string | undefined): { key: string; value: unknown }[] {
  const matches: { key: string; value: unknown }[] = [];
  for (const [key, value] of entries) {
    if (prefix === undefined || prefix === "" || key === prefix || key.startsWith(prefix.endsWith(".") ? prefix : `${prefix}.`)) {
      matches.push({ key, value });
    }
  }
  return matches.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
