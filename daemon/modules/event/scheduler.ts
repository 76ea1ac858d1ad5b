/**
 * Delayed emits over time: keeps one clock timer armed for the earliest
 * schedule, journals every change (fsync'd) before acknowledging it, and
 * fires due schedules right after their "done" records are written, in the
 * same turn of the event loop, and writes out what the fires published
 * (pushes, log lines) in that turn too — so a killed daemon never fires one
 * twice, and the window in which a kill loses one is the few microseconds
 * between that write and the pushes'. (The fsync follows; only a power loss inside
 * it could make a fired schedule fire again after reboot.)
 *
 * The daemon's rule: no request, and no timer turn, does more than ~10 ms
 * of synchronous work; anything larger is sliced or moved off the loop.
 * Here that means a burst (50 000 schedules due at one instant) fires in
 * slices: chunks of FIRE_CHUNK, each journaled done and then fired, until
 * the slice has taken SLICE_BUDGET_MS (or SLICE_MAX_FIRES); the rest waits
 * in the book — still pending, listed and cancellable — for the next slice,
 * which the clock defers until the sockets have had their turn. Every
 * client is served between slices, and the pushes of each slice reach the
 * subscribers' sockets before the next slice queues more.
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import { DaemonError } from "../../core/errors.js";
import type { Log } from "../../core/log.js";
import { Journal, type JournalRecord } from "./journal.js";
import { ScheduleBook, type Schedule } from "./schedule-book.js";

/** Nothing due within this long: the journal may take its time to compact. */
const QUIET_MS = 250;

/** Timers are re-armed at least this often, so very long delays never overflow setTimeout. */
const MAX_TIMER_MS = 60 * 60 * 1000;

/** How often "done" records the disk refused are tried again. */
const DONE_RETRY_MS = 1_000;

/** Synchronous firing per turn of the event loop, then it yields (see the rule above). */
const SLICE_BUDGET_MS = 5;
/** At most this many fires per turn, however cheap they are. */
const SLICE_MAX_FIRES = 1_000;
/** Schedules journaled done with one write, then fired; the budget is checked between chunks. */
export const FIRE_CHUNK = 64;

export interface FireSlice {
  /** Stop taking more once this much synchronous time went into the turn. */
  budgetMs: number;
  maxFires: number;
}

export interface SchedulerOptions {
  journalPath: string;
  clock: Clock;
  log: Log;
  maxPending: number;
  /** Called for each due schedule, earliest first; `lateMs` is how far past its time it fires. */
  fire(schedule: Schedule, lateMs: number): Promise<void>;
  /** Writes out now what the fires just dispatched left queued (their pushes and log lines: Bus.settle). */
  settle(): void;
  /** How much firing one turn does (default: SLICE_BUDGET_MS, SLICE_MAX_FIRES); tests make it countable. */
  slice?: FireSlice;
}

export class Scheduler {
  private readonly book = new ScheduleBook();
  private timer: TimerHandle | null = null;
  private armedFor = Infinity;
  /** Settles when every fire started so far has finished (stop waits for it). */
  private firing: Promise<void> = Promise.resolve();
  private stopped = false;
  private journal!: Journal;
  /** "done" records not written yet (a full disk), and the timer that tries again. */
  private undone: JournalRecord[] = [];
  private retryTimer: TimerHandle | null = null;
  /** A slice of a burst is deferred to the next turn: no timer is armed meanwhile. */
  private sliceDeferred = false;
  private readonly slice: FireSlice;

  private constructor(private readonly options: SchedulerOptions) {
    this.slice = options.slice ?? { budgetMs: SLICE_BUDGET_MS, maxFires: SLICE_MAX_FIRES };
  }

  static async start(options: SchedulerOptions): Promise<{ scheduler: Scheduler; loaded: number; loadMs: number; skipped: number }> {
    const scheduler = new Scheduler(options);
    const started = performance.now();
    const { journal, replay } = await Journal.open(options.journalPath, {
      isQuiet: () => (scheduler.book.nextFireAt() ?? Infinity) - options.clock.now() > QUIET_MS,
      isBursting: () => scheduler.sliceDeferred,
      log: options.log,
      now: () => options.clock.now(),
    });
    scheduler.journal = journal;
    for (const schedule of replay.schedules) scheduler.book.add(schedule);
    const loadMs = performance.now() - started;
    scheduler.rearm();
    return { scheduler, loaded: replay.schedules.length, loadMs, skipped: replay.skipped };
  }

  get size(): number {
    return this.book.size;
  }

  list(): Schedule[] {
    return this.book.list();
  }

  /** Durable before it resolves; a schedule with the same key is replaced (and returned). */
  async add(schedule: Schedule): Promise<Schedule | undefined> {
    const replacing = schedule.key === undefined ? undefined : this.book.idForKey(schedule.key);
    if (replacing === undefined && this.book.size >= this.options.maxPending) {
      throw new DaemonError("limit_exceeded", `at most ${this.options.maxPending} schedules may be pending; cancel some or wait`, {
        limit: this.options.maxPending,
      });
    }
    const replaced = this.book.add(schedule);
    this.rearm();
    try {
      const add = { op: "add" as const, ...schedule };
      await this.journal.append(replaced === undefined ? [add] : [{ op: "cancel", schedule_id: replaced.schedule_id }, add]);
    } catch (err) {
      this.book.remove(schedule.schedule_id);
      if (replaced !== undefined) this.book.add(replaced);
      this.rearm();
      throw err;
    }
    return replaced;
  }

  /** Durable before it resolves; undefined when nothing matched. */
  async cancel(target: { schedule_id?: string | undefined; key?: string | undefined }): Promise<Schedule | undefined> {
    const id = target.schedule_id ?? (target.key === undefined ? undefined : this.book.idForKey(target.key));
    const removed = id === undefined ? undefined : this.book.remove(id);
    if (removed === undefined) return undefined;
    this.rearm();
    try {
      await this.journal.append([{ op: "cancel", schedule_id: removed.schedule_id }]);
    } catch (err) {
      // Not cancelled on disk: not cancelled at all (it fires as it would have).
      if (removed.key === undefined || this.book.idForKey(removed.key) === undefined) this.book.add(removed);
      this.rearm();
      throw err;
    }
    return removed;
  }

  /**
   * Stops firing; waits for the fires already started, then closes the
   * journal. Pending schedules stay in it, and so do due ones a burst had
   * not reached yet: they fire at the next start.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    await this.firing;
    if (this.retryTimer !== null) this.options.clock.clearTimer(this.retryTimer);
    this.retryTimer = null;
    this.journalDone([]);
    await this.journal.close();
  }

  private rearm(): void {
    if (this.stopped || this.sliceDeferred) return;
    const next = this.book.nextFireAt();
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== null && next >= this.armedFor) return;
    this.disarm();
    const { clock } = this.options;
    const delay = Math.min(Math.max(0, next - clock.now()), MAX_TIMER_MS);
    this.armedFor = next;
    this.timer = clock.setTimer(() => this.onTimer(), delay);
  }

  private disarm(): void {
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private onTimer(): void {
    this.timer = null;
    this.armedFor = Infinity;
    this.fireSlice();
  }

  /**
   * Fires what is due, earliest first, chunk by chunk, until nothing due is
   * left or the slice is spent; then defers the next slice (the book still
   * holds the rest) or re-arms the timer for the next fire time.
   */
  private fireSlice(): void {
    this.sliceDeferred = false;
    if (this.stopped) return;
    const { clock } = this.options;
    const started = performance.now();
    let fired = 0;
    for (;;) {
      const due = this.book.takeDue(clock.now(), Math.min(FIRE_CHUNK, this.slice.maxFires - fired));
      if (due.length === 0) break;
      fired += due.length;
      this.journalDone(due.map((s) => ({ op: "done" as const, schedule_id: s.schedule_id })));
      // Every dispatch starts now, in order; none waits for another's handler (or its I/O).
      const batch = Promise.all(due.map((schedule) => this.fireOne(schedule)));
      this.firing = Promise.all([this.firing, batch]).then(() => undefined);
      // Journaled done: what the fires published leaves the process in this same turn, not at a later one a kill may never give.
      try {
        this.options.settle();
      } catch (err) {
        this.options.log.error({ err }, "writing out fired schedules' pushes and log lines failed");
      }
      if (fired >= this.slice.maxFires || performance.now() - started >= this.slice.budgetMs) {
        if ((this.book.nextFireAt() ?? Infinity) <= clock.now()) {
          this.sliceDeferred = true;
          clock.defer(() => this.fireSlice());
          return;
        }
        break;
      }
    }
    this.rearm();
  }

  /**
   * Marks fired schedules done in the journal. When the disk cannot take it
   * (full) they fire anyway rather than be lost, and the records are kept
   * and written as soon as it can (tried every second, and at the stop), so
   * that only a restart before then fires them again.
   */
  private journalDone(records: JournalRecord[]): void {
    const all = this.undone.length === 0 ? records : [...this.undone, ...records];
    if (all.length === 0) return;
    try {
      this.journal.appendNow(all);
      this.undone = [];
    } catch (err) {
      if (this.undone.length === 0) this.options.log.error({ err, schedules: all.length }, "could not journal fired schedules; retrying every second");
      this.undone = all;
      if (this.stopped) return;
      this.retryTimer ??= this.options.clock.setTimer(() => {
        this.retryTimer = null;
        this.journalDone([]);
      }, DONE_RETRY_MS);
    }
  }

  private async fireOne(schedule: Schedule): Promise<void> {
    const lateMs = Math.max(0, this.options.clock.now() - schedule.fire_at);
    try {
      await this.options.fire(schedule, lateMs);
    } catch (err) {
      this.options.log.error({ err, schedule_id: schedule.schedule_id }, "firing a schedule failed");
    }
  }
}
