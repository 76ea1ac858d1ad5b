/**
 * The store can vanish and come back while the daemon runs (issue 24: a
 * store removed and re-created with `git init` was listed with 37
 * patterns that were not on disk, and every save answered `internal`
 * until a restart). A store found gone — by a request, system:health or a
 * look every second — is let go: its watcher closed and its index
 * emptied, so nothing is served whose file is gone, and every composition
 * request answers store_missing. A store found back (moved back, restored,
 * or re-initialised by a person) is taken in again from disk: the lock,
 * the branch, a full index build and a new watcher, every cached view of
 * HEAD dropped. It is never re-created or seeded by the daemon.
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Log } from "../../core/log.js";
import type { StoreGuard } from "./store/store-guard.js";

/** How often the store's folder is looked at between requests. */
const LOOK_EVERY_MS = 1_000;

export interface AttachmentHooks {
  /** Stops serving the store: watcher closed, index emptied. */
  detach(): void;
  /** Takes the store in again from disk; runs in the store's exclusive turn. */
  attach(): Promise<void>;
  /** Runs `work` in the store's exclusive turn (git.exclusive). */
  exclusive(work: () => Promise<void>): Promise<void>;
}

export class StoreAttachment {
  private attached = true;
  private attaching: Promise<void> | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** The message of the last attach that failed, so a failure repeated every second is logged once. */
  private lastFailure: string | null = null;

  constructor(
    private readonly guard: StoreGuard,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly hooks: AttachmentHooks,
  ) {}

  /** After the start-up index build: the store is served, and looked at every second. */
  start(): void {
    this.attached = true;
    this.look();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /**
   * Before a composition request: store_missing while the store is gone
   * (let go first, if it was served); a store that is back is taken in
   * before the request is answered.
   */
  async require(): Promise<void> {
    this.check();
    this.guard.requirePresent();
    if (!this.attached) await this.reattach();
  }

  /** Notices a store gone or back (health, and the look every second); the attach runs in the background. */
  check(): void {
    const missing = this.guard.state().state === "missing";
    if (missing && this.attached) this.letGo();
    else if (!missing && !this.attached) void this.reattach().catch(() => undefined);
  }

  private look(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.guard.forget();
      this.check();
      this.look();
    }, LOOK_EVERY_MS);
  }

  private letGo(): void {
    this.attached = false;
    this.hooks.detach();
    const state = this.guard.state();
    this.log.warn(
      { store: this.guard.dir, reason: state.state === "missing" ? state.reason : undefined },
      "the store is gone; composition requests answer store_missing until it is back, and it is taken in again then, without a restart",
    );
  }

  private reattach(): Promise<void> {
    this.attaching ??= this.hooks
      .exclusive(async () => {
        if (this.attached || this.stopped || this.guard.state().state === "missing") return;
        try {
          await this.hooks.attach();
        } catch (err) {
          const message = (err as Error).message;
          if (message !== this.lastFailure) this.log.error({ err, store: this.guard.dir }, "the store is back but could not be taken in; tried again every second");
          this.lastFailure = message;
          this.hooks.detach();
          throw err;
        }
        this.attached = true;
        this.lastFailure = null;
      })
      .finally(() => (this.attaching = null));
    return this.attaching;
  }
}
