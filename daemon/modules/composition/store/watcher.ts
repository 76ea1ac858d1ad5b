/**
 * Keeps the catalog current with what happens to the store behind the
 * daemon's back (a hand edit, git pull, git checkout): any file event
 * schedules one debounced reconcile from the files themselves.
 *
 * One `fs.watch` per folder (the store and each `<type>s/` folder in it),
 * not chokidar: chokidar watches every file on its own (10 000 patterns
 * were 10 000 inotify watches, more than many systems allow a user) and
 * re-reads a whole folder on each event in it, so every atomic save on a
 * large store cost a directory scan. The events are only a hint here —
 * the reconcile reads the files — so the folder-level events are enough.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import { DECISIONS_SUFFIX } from "../model/ref.js";
import type { Catalog } from "./catalog.js";

const DEBOUNCE_MS = 100;

export interface WatcherHooks {
  /** After a reconcile that was needed (the index may have changed). */
  onChange(): void;
  /** A decision log changed (store-relative path): not a pattern, so no reconcile. */
  onDecisionLog(path: string): void;
  /**
   * Runs `settle` when no store operation is half done (between the file
   * write of a save and its entry in the catalog, the file would look like
   * a change made behind the daemon's back and cost a full reconcile).
   */
  whenIdle(settle: () => void): void;
}

export class StoreWatcher {
  private timer: TimerHandle | null = null;
  /** Store-relative paths of the events since the last reconcile; null when a folder changed. */
  private changed: Set<string> | null = new Set();
  private readonly folders = new Map<string, FSWatcher>();
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly hooks: WatcherHooks,
  ) {}

  static start(root: string, catalog: Catalog, clock: Clock, log: Log, hooks: WatcherHooks): StoreWatcher {
    const watcher = new StoreWatcher(root, catalog, clock, log, hooks);
    watcher.watchFolder("");
    watcher.watchTypeFolders();
    return watcher;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    for (const handle of this.folders.values()) handle.close();
    this.folders.clear();
  }

  /** Watches `folder` (store-relative, "" for the store itself) unless already watched. */
  private watchFolder(folder: string): void {
    if (this.closed || this.folders.has(folder)) return;
    let handle: FSWatcher;
    try {
      handle = watch(join(this.root, folder), { persistent: false }, (_event, file) => this.onEvent(folder, file));
    } catch (err) {
      // Gone already (or never a folder): the reconcile sees what is there.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && (err as NodeJS.ErrnoException).code !== "ENOTDIR") this.log.warn({ err, folder }, "store folder not watched");
      return;
    }
    handle.on("error", () => {
      handle.close();
      this.folders.delete(folder);
      this.changed = null;
      this.schedule();
    });
    this.folders.set(folder, handle);
  }

  private watchTypeFolders(): void {
    let entries;
    try {
      entries = readdirSync(this.root, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory() && !entry.name.startsWith(".")) this.watchFolder(entry.name);
  }

  private onEvent(folder: string, file: string | Buffer | null): void {
    const name = file === null ? null : String(file);
    // .git, and the temp files of atomic writes.
    if (name?.startsWith(".") === true) return;
    if (folder === "") {
      // Something at the top: a type folder may have appeared (or gone); its files count from now on.
      this.watchTypeFolders();
      this.changed = null;
    } else if (name === null) {
      this.changed = null;
    } else if (name.endsWith(`${DECISIONS_SUFFIX}.yaml`)) {
      this.hooks.onDecisionLog(`${folder}/${name}`);
      return;
    } else {
      this.changed?.add(`${folder}/${name}`);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.hooks.whenIdle(() => {
        if (this.closed) return;
        const changed = this.changed;
        this.changed = new Set();
        this.settle(changed);
      });
    }, DEBOUNCE_MS);
  }

  /** The daemon's own saves are already in the catalog: only a change it does not hold costs a full reconcile. */
  private settle(changed: Set<string> | null): void {
    try {
      if (changed !== null && this.catalog.holds([...changed])) return;
      this.catalog.reconcile();
      this.hooks.onChange();
    } catch (err) {
      this.log.error({ err }, "store reconcile failed");
    }
  }
}
