/**
 * Which event-log day files to delete (pure): whole days, oldest first,
 * those older than the age cap and then as many more as it takes to bring
 * the total under the size cap. The day being written, and today's, are
 * never chosen, even when they alone are over the cap.
 */

export interface DayFile {
  /** YYYY-MM-DD (UTC), from the file's name. */
  day: string;
  bytes: number;
}

export interface RetentionPolicy {
  /** Total bytes of every day file together. */
  maxBytes: number;
  /** A file whose day is this many days or more before today is deleted: 1 keeps today's only. */
  maxDays: number;
}

export interface Expired extends DayFile {
  reason: "age" | "size";
}

const DAY_MS = 86_400_000;

/** `kept` lists the days never to delete (today's, and the one being written if it differs). */
export function expiredDays(files: readonly DayFile[], policy: RetentionPolicy, today: string, kept: readonly string[] = []): Expired[] {
  const keep = new Set([today, ...kept]);
  const oldestKept = Date.parse(today) - (policy.maxDays - 1) * DAY_MS;
  const oldestFirst = [...files].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  let total = oldestFirst.reduce((sum, file) => sum + file.bytes, 0);
  const expired: Expired[] = [];
  for (const file of oldestFirst) {
    if (keep.has(file.day)) continue;
    const reason = Date.parse(file.day) < oldestKept ? "age" : total > policy.maxBytes ? "size" : null;
    if (reason === null) continue;
    expired.push({ ...file, reason });
    total -= file.bytes;
  }
  return expired;
}
