/**
 * Work done a bounded slice per turn of the event loop (docs/architecture.md:
 * no turn does more than ~10 ms of work). Each job is stepped with a budget
 * of time and bytes; when the turn's budget is spent, the rest waits for
 * `Clock.defer`, so the sockets are served between slices.
 *
 * Jobs something waits for (a request) go before background ones, and take
 * turns among themselves (one that is not done after its share goes to the
 * back), so a short job asked for behind a long one waits a slice, not the
 * whole of it. Background jobs run only when no job is waited for.
 */
import { performance } from "node:perf_hooks";
import type { Clock } from "../../../core/clock.js";

/** How much one turn does; the defaults are the daemon's, tests make them countable. */
export interface SliceLimits {
  budgetMs: number;
  maxBytes: number;
}

/** What is left of a turn's budget, shared by the jobs stepped in that turn. */
export class SliceBudget {
  private bytes = 0;

  constructor(
    private readonly until: number,
    private readonly maxBytes: number,
  ) {}

  /** Counts bytes read or hashed. */
  count(bytes: number): void {
    this.bytes += bytes;
  }

  get spent(): boolean {
    return this.bytes >= this.maxBytes || performance.now() >= this.until;
  }
}

/** One step of a job: work until the budget is spent; true when the job is done. It must not throw. */
export type SliceStep = (budget: SliceBudget) => boolean;

export class SliceQueue<K> {
  /** Insertion order is the order of turns. */
  private readonly waitedFor = new Map<K, SliceStep>();
  private readonly background = new Map<K, SliceStep>();
  private deferred = false;

  constructor(
    private readonly clock: Clock,
    private readonly limits: SliceLimits,
  ) {}

  has(key: K): boolean {
    return this.waitedFor.has(key) || this.background.has(key);
  }

  /** Queues a job (run from a later turn); one already queued under `key` keeps its place. */
  add(key: K, step: SliceStep, waitedFor: boolean): void {
    if (this.has(key)) return;
    (waitedFor ? this.waitedFor : this.background).set(key, step);
    this.schedule();
  }

  /** Something waits for a background job now: it runs with those waited for. */
  promote(key: K): void {
    const step = this.background.get(key);
    if (step === undefined) return;
    this.background.delete(key);
    this.waitedFor.set(key, step);
  }

  remove(key: K): void {
    this.waitedFor.delete(key);
    this.background.delete(key);
  }

  keys(): K[] {
    return [...this.waitedFor.keys(), ...this.background.keys()];
  }

  private schedule(): void {
    if (this.deferred || (this.waitedFor.size === 0 && this.background.size === 0)) return;
    this.deferred = true;
    this.clock.defer(() => this.turn());
  }

  private turn(): void {
    this.deferred = false;
    const budget = new SliceBudget(performance.now() + this.limits.budgetMs, this.limits.maxBytes);
    while (!budget.spent) {
      const queue = this.waitedFor.size > 0 ? this.waitedFor : this.background;
      const next = queue.entries().next();
      if (next.done === true) break;
      const [key, step] = next.value;
      queue.delete(key);
      // Not done: to the back of its queue, after the others' share.
      if (!step(budget)) queue.set(key, step);
    }
    this.schedule();
  }
}
