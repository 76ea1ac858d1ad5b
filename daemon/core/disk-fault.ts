/**
 * The one place that tells a disk that cannot take a write (full, over
 * quota, read-only, not ours to write) from a bug, and names it for the
 * wire: `unavailable` with `{reason, path}`. The I/O layers call it with
 * the path they were writing; the router calls it last for anything they
 * did not, so such a fault is never `internal` and never stops the daemon.
 */
import { DaemonError } from "./errors.js";

export type DiskFaultReason = "no_space" | "read_only" | "permission_denied";

const BY_ERRNO: Record<string, DiskFaultReason> = {
  ENOSPC: "no_space",
  EDQUOT: "no_space",
  EROFS: "read_only",
  EACCES: "permission_denied",
  EPERM: "permission_denied",
};

/** What git and other tools print for the same faults (their errno is gone by the time we see their stderr). */
const BY_TEXT: readonly [RegExp, string][] = [
  [/No space left on device|Out of diskspace/i, "ENOSPC"],
  [/Disk quota exceeded/i, "EDQUOT"],
  [/Read-only file system/i, "EROFS"],
  [/Permission denied/i, "EACCES"],
  [/Operation not permitted/i, "EPERM"],
];

/** The errno a tool's error output reports, or undefined (git.ts sets it as the error's `code`). */
export function errnoInText(text: string): string | undefined {
  return BY_TEXT.find(([pattern]) => pattern.test(text))?.[1];
}

/** The disk fault behind `err` (its errno `code`, or that of its `cause`), or undefined. */
export function diskFault(err: unknown): DiskFaultReason | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && Object.hasOwn(BY_ERRNO, code)) return BY_ERRNO[code];
  }
  return undefined;
}

/**
 * `unavailable` naming `path` (default: the path the error carries) when
 * `err` is a disk fault; otherwise `err` itself, unchanged.
 */
export function asUnavailable(err: unknown, path?: string): unknown {
  if (err instanceof DaemonError) return err;
  const reason = diskFault(err);
  if (reason === undefined) return err;
  const where = path ?? pathOf(err) ?? "the daemon's home";
  return new DaemonError("unavailable", messageFor(reason, where, (err as { code: string }).code), { reason, path: where });
}

function pathOf(err: unknown): string | undefined {
  const path = (err as { path?: unknown }).path;
  return typeof path === "string" ? path : undefined;
}

function messageFor(reason: DiskFaultReason, path: string, code: string): string {
  const after = "the request was refused and changed nothing; reads still work, and writes are taken again once this is fixed (no restart needed)";
  switch (reason) {
    case "no_space":
      return code === "EDQUOT"
        ? `cannot write ${path}: the disk quota is used up; free some space or raise the quota, then retry; ${after}`
        : `cannot write ${path}: no space left on its device; free some space there, then retry; ${after}`;
    case "read_only":
      return `cannot write ${path}: it is on a read-only file system; remount it read-write, then retry; ${after}`;
    case "permission_denied":
      return `cannot write ${path}: permission denied; give the daemon's user write access to it, then retry; ${after}`;
  }
}
