/**
 * Where a pattern keeps its own history — `lineage`, `forks`, `merges` —
 * and its evidence, `performance` (pure). patternd keeps them at the top
 * level; KSI keeps them under `metadata` (`metadata.lineage.parent`,
 * `metadata.forks: [{name, date, reason, author}]`, `metadata.merges:
 * [{from, date, ...}]`, `metadata.performance`). Both are read; a write
 * goes where the file already keeps that field, else where it keeps the
 * others, so KSI still finds its forks where it wrote them and a file never
 * holds a second copy of a list beside the first.
 */

export const HISTORY_KEYS = ["lineage", "forks", "merges"] as const;
/** Fields that are a pattern's own, never taken from another (fork, merge): its history and its evidence. */
export const OWN_KEYS = [...HISTORY_KEYS, "performance"] as const;

export type OwnKey = (typeof OWN_KEYS)[number];
export type Place = "top" | "metadata";

/** Where `data` keeps `key`: where it is; else where the file keeps its other history; else the top level. */
export function placeOf(data: Record<string, unknown>, key: OwnKey): Place {
  if (Object.hasOwn(data, key)) return "top";
  if (Object.hasOwn(metadataOf(data), key)) return "metadata";
  return historyPlace(data);
}

/** Where `data` keeps its history: under metadata when some of it is there and none at the top level. */
export function historyPlace(data: Record<string, unknown>): Place {
  if (HISTORY_KEYS.some((key) => Object.hasOwn(data, key))) return "top";
  const metadata = metadataOf(data);
  return HISTORY_KEYS.some((key) => Object.hasOwn(metadata, key)) ? "metadata" : "top";
}

/** The field's value: the top level's, else metadata's; undefined when neither has it. */
export function ownValue(data: Record<string, unknown>, key: OwnKey): unknown {
  if (Object.hasOwn(data, key)) return data[key];
  const metadata = metadataOf(data);
  return Object.hasOwn(metadata, key) ? metadata[key] : undefined;
}

/** A copy of `data` with `key` set to `value` at `place` (metadata copied, never edited in place). */
export function withOwnValue(data: Record<string, unknown>, key: OwnKey, value: unknown, place: Place = placeOf(data, key)): Record<string, unknown> {
  if (place === "top") return { ...data, [key]: value };
  return { ...data, metadata: { ...metadataOf(data), [key]: value } };
}

/** A copy of `data` without `keys`, at the top level and under metadata (metadata itself stays, even when emptied). */
export function withoutOwnValues(data: Record<string, unknown>, keys: readonly OwnKey[]): Record<string, unknown> {
  const rest = { ...data };
  for (const key of keys) delete rest[key];
  if (isMap(data.metadata) && keys.some((key) => Object.hasOwn(data.metadata as Record<string, unknown>, key))) {
    const metadata = { ...data.metadata };
    for (const key of keys) delete metadata[key];
    rest.metadata = metadata;
  }
  return rest;
}

/** `lineage.parent` (a ref) wherever the file keeps it. */
export function lineageParent(data: Record<string, unknown>): string | undefined {
  const lineage = ownValue(data, "lineage");
  return isMap(lineage) && typeof lineage.parent === "string" && lineage.parent !== "" ? lineage.parent : undefined;
}

/** The lineage map wherever the file keeps it, or undefined. */
export function lineageOf(data: Record<string, unknown>): Record<string, unknown> | undefined {
  const lineage = ownValue(data, "lineage");
  return isMap(lineage) ? lineage : undefined;
}

/**
 * Names in the `forks` lists, top level and metadata both (a file patternd
 * wrote a top-level list into before it kept KSI's place has both): maps
 * with a name, as fork writes them and KSI does, or plain names or refs.
 */
export function forkNames(data: Record<string, unknown>, parseName: (ref: string) => string): string[] {
  const lists = [data.forks, metadataOf(data).forks];
  const names = lists.flatMap((forks) =>
    Array.isArray(forks) ? forks.flatMap((f: unknown) => (typeof f === "string" ? [parseName(f)] : isMap(f) && typeof f.name === "string" ? [f.name] : [])) : [],
  );
  return [...new Set(names)];
}

/** The `merges` records, top level then metadata. */
export function mergeRecords(data: Record<string, unknown>): unknown[] {
  return [data.merges, metadataOf(data).merges].flatMap((merges) => (Array.isArray(merges) ? (merges as unknown[]) : []));
}

/**
 * The history a file records about itself, wherever it keeps it: what git
 * cannot tell of a store kept by KSI (its forks are recorded in the files,
 * not in commit trailers). Only what is there.
 */
export function recordedHistory(data: Record<string, unknown>): { lineage?: Record<string, unknown>; forks?: unknown[]; merges?: unknown[] } {
  const lineage = lineageOf(data);
  const forks = [data.forks, metadataOf(data).forks].flatMap((list) => (Array.isArray(list) ? (list as unknown[]) : []));
  const merges = mergeRecords(data);
  return { ...(lineage === undefined ? {} : { lineage }), ...(forks.length === 0 ? {} : { forks }), ...(merges.length === 0 ? {} : { merges }) };
}

function metadataOf(data: Record<string, unknown>): Record<string, unknown> {
  return isMap(data.metadata) ? data.metadata : {};
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
