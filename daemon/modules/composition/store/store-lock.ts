/**
 * One daemon per store: `patternd.lock` in the work tree's git dir
 * (`.git/patternd.lock` in a plain clone; git-dirs.ts), created
 * exclusively, holds the pid, socket and home of the daemon serving the
 * store. Per work tree: two worktrees of one repository are two stores,
 * each with its own daemon. Two daemons
 * with different homes and the same `--store` used to both start and race
 * each other's commits (issue 24: 20 of 60 saves `internal`, paths left
 * staged); the second now refuses to start, naming the first.
 *
 * A lock whose holder is gone (killed, or its pid now some other program)
 * is taken over. The take-over moves the stale file aside by a rename and
 * checks it moved the file it judged stale: a daemon that took the lock
 * over a moment earlier gets its lock back. What remains is a window of a
 * few microseconds in which a third daemon starting at that very instant
 * could create the lock while the second's is moved aside and back: three
 * daemons started together on a store whose holder died.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const STORE_LOCK = "patternd.lock";

export interface LockHolder {
  pid: number;
  socket: string;
  home: string;
}

/** The store is served by another live daemon: the one line `patternd: cannot start:` prints. */
export class StoreTakenError extends Error {
  constructor(
    readonly store: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the store ${store} is served by another daemon (pid ${holder.pid}, socket ${holder.socket}); ` +
        `one daemon per store: stop that one (pat stop --home ${holder.home}) or give this one another --store`,
    );
    this.name = "StoreTakenError";
  }
}

export class StoreLock {
  private constructor(
    private readonly path: string,
    private readonly text: string,
  ) {}

  /**
   * Takes the lock in `gitDir` for `me`, or throws StoreTakenError when a
   * live daemon holds it. `isLive(pid)` says whether a pid is a running
   * patternd (the caller's probe); a lock holding this process's own pid
   * is a leftover of an earlier process that had it (a container's pid 1).
   */
  static async acquire(store: string, gitDir: string, me: LockHolder, isLive: (pid: number) => Promise<boolean>): Promise<StoreLock> {
    const path = join(gitDir, STORE_LOCK);
    const text = `${JSON.stringify({ ...me, started: new Date().toISOString() })}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        writeFileSync(path, text, { flag: "wx", mode: 0o644 });
        return new StoreLock(path, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const seen = readText(path);
      if (seen === undefined) continue;
      const holder = parseHolder(seen);
      if (holder !== undefined && holder.pid !== process.pid && (await isLive(holder.pid))) throw new StoreTakenError(store, holder);
      takeOver(path, seen);
    }
    throw new Error(`could not take the store's lock ${path}: it keeps changing hands`);
  }

  /** True while the lock file is this daemon's (the store may have been removed, or moved back). */
  held(): boolean {
    return readText(this.path) === this.text;
  }

  /** At a clean stop: removes the lock if it is still this daemon's. */
  release(): void {
    if (this.held()) rmSync(this.path, { force: true });
  }
}

/** Moves a stale lock aside; puts it back if what moved is not the stale one (another daemon's fresh lock). */
function takeOver(path: string, stale: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: taken over by someone else, or released
  }
  if (readText(aside) !== stale) {
    try {
      linkSync(aside, path);
    } catch {
      // a third lock appeared meanwhile: that one stands
    }
  }
  rmSync(aside, { force: true });
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== "number" || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return { pid: value.pid, socket: String(value.socket ?? "?"), home: String(value.home ?? "?") };
  } catch {
    return undefined;
  }
}
