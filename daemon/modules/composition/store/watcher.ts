/**
 * Keeps the catalog current with what happens to the store behind the
 * daemon's back (a hand edit, git pull, git checkout): any file event
 * schedules one debounced reconcile from the files themselves.
 */
import { watch, type FSWatcher } from "chokidar";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import type { Catalog } from "./catalog.js";

const DEBOUNCE_MS = 100;

export class StoreWatcher {
  private timer: TimerHandle | null = null;

  private constructor(
    private readonly watcher: FSWatcher,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly onChange: () => void,
  ) {
    watcher.on("all", () => this.schedule());
    watcher.on("error", (err) => this.log.warn({ err }, "store watcher error"));
  }

  static async start(root: string, catalog: Catalog, clock: Clock, log: Log, onChange: () => void): Promise<StoreWatcher> {
    const watcher = watch(root, {
      ignoreInitial: true,
      depth: 1,
      ignored: (path) => /(^|[/\\])\.git([/\\]|$)/.test(path),
    });
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
    return new StoreWatcher(watcher, catalog, clock, log, onChange);
  }

  async close(): Promise<void> {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    await this.watcher.close();
  }

  private schedule(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.catalog.reconcile().then(this.onChange, (err: unknown) => this.log.error({ err }, "store reconcile failed"));
    }, DEBOUNCE_MS);
  }
}
