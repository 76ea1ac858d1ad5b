/**
 * Tells StoreGuard when what it reads may have changed, so that its last
 * reading of an untroubled store can be served until then. system:health
 * and every composition request ask whether the store is there and on its
 * branch; one reading is a dozen file-system calls (the folder, `.git`,
 * HEAD, one per operation marker, the read of HEAD): 80–200 µs on a loaded
 * machine, thirty times the rest of a health request.
 *
 * Two `fs.watch`es, not recursive: the work tree's folder (its `.git`
 * entry replaced or removed, the folder itself moved or removed) and the
 * git dir, whose entries HEAD and the operation markers are (git writes
 * HEAD through HEAD.lock and a rename; a rebase, merge, cherry-pick,
 * revert, am or bisect starts by creating its marker there). Any event, or
 * an error, marks the reading stale. Linux only: inotify queues the event
 * inside the call that makes the change, so it is ready for the daemon
 * before the person who ran `git checkout` can send a request, and is
 * taken at the next poll for I/O (a request read in that same poll may
 * still be answered from the reading before: as if read a moment sooner;
 * a commit reads afresh whatever was heard). FSEvents and kqueue deliver
 * later and coalesce, so elsewhere nothing is kept. Not seen by a watch: a
 * folder above the store moved away; the look every second
 * (store-attachment.ts) reads afresh and catches it.
 */
import { watch, type FSWatcher } from "node:fs";

export class StoreWatch {
  private watchers: FSWatcher[] = [];
  /** Bumped by every event: a reading taken at an older generation is stale. */
  private generation = 0;
  private closed = false;

  constructor(private readonly enabled = process.platform === "linux") {}

  /**
   * Watches `folders` afresh (the old watches may be on folders since
   * replaced) and returns the generation a reading taken now belongs to,
   * or null when the folders cannot be watched (nothing may be kept).
   * Called before the reading, so a change made while it is taken is
   * heard.
   */
  arm(folders: readonly string[]): number | null {
    this.disarm();
    if (!this.enabled || this.closed) return null;
    try {
      for (const folder of folders) {
        const watcher = watch(folder, { persistent: false }, () => this.generation++);
        watcher.on("error", () => {
          this.generation++;
          this.disarm();
        });
        this.watchers.push(watcher);
      }
    } catch {
      // A folder gone meanwhile, or no inotify watch left (ENOSPC): read every time.
      this.disarm();
      return null;
    }
    return this.generation;
  }

  /** True while nothing was heard since `generation` was handed out, and the watches still stand. */
  quietSince(generation: number): boolean {
    return generation === this.generation && this.watchers.length > 0;
  }

  close(): void {
    this.closed = true;
    this.disarm();
  }

  private disarm(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }
}
