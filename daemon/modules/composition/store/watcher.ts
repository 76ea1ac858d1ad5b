/**
 * Keeps the catalog current with what happens to the store behind the
 * daemon's back (a hand edit, git pull, git checkout): any file event
 * schedules one debounced reconcile from the files themselves.
 */
import { relative, sep } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import type { Catalog } from "./catalog.js";

const DEBOUNCE_MS = 100;

export class StoreWatcher {
  private timer: TimerHandle | null = null;
  /** Store-relative paths of the events since the last reconcile; null after an event on a folder. */
  private changed: Set<string> | null = new Set();

  private constructor(
    root: string,
    private readonly watcher: FSWatcher,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly onChange: () => void,
  ) {
    watcher.on("all", (event, path) => {
      const relativePath = relative(root, path).split(sep).join("/");
      if (event === "add" || event === "change" || event === "unlink") this.changed?.add(relativePath);
      else this.changed = null;
      this.schedule();
    });
    watcher.on("error", (err) => this.log.warn({ err }, "store watcher error"));
  }

  /**
   * Starts watching without waiting for chokidar to be ready (on 10 000
   * patterns that takes most of a second: it watches every file). Once it
   * is, one full reconcile catches whatever changed in between.
   */
  static start(root: string, catalog: Catalog, clock: Clock, log: Log, onChange: () => void): StoreWatcher {
    const watcher = watch(root, {
      ignoreInitial: true,
      depth: 1,
      // Dot-files and folders: .git, and the temp files of atomic writes.
      ignored: (path) => /(^|[/\\])\.[^/\\]+/.test(relative(root, path)),
    });
    const storeWatcher = new StoreWatcher(root, watcher, catalog, clock, log, onChange);
    watcher.once("ready", () => {
      storeWatcher.changed = null;
      storeWatcher.schedule();
    });
    return storeWatcher;
  }

  async close(): Promise<void> {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    await this.watcher.close();
  }

  private schedule(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      const changed = this.changed;
      this.changed = new Set();
      this.settle(changed);
    }, DEBOUNCE_MS);
  }

  /** The daemon's own saves are already in the catalog: only a change it does not hold costs a full reconcile. */
  private settle(changed: Set<string> | null): void {
    try {
      if (changed !== null && this.catalog.holds([...changed])) return;
      this.catalog.reconcile();
      this.onChange();
    } catch (err) {
      this.log.error({ err }, "store reconcile failed");
    }
  }
}
