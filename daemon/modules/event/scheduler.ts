/**
 * Delayed emits over time: keeps one clock timer armed for the earliest
 * schedule, journals every change before acknowledging it, and hands due
 * schedules to `fire` only after their removal is on disk — so a crash can
 * not fire one twice, and the window in which a crash loses one is the
 * instant between that write and the dispatch.
 */
import type { Clock, TimerHandle } from "../../core/clock.js";
import { DaemonError } from "../../core/errors.js";
import type { Log } from "../../core/log.js";
import { Journal } from "./journal.js";
import { ScheduleBook, type Schedule } from "./schedule-book.js";

/** Timers are re-armed at least this often, so very long delays never overflow setTimeout. */
const MAX_TIMER_MS = 60 * 60 * 1000;

export interface SchedulerOptions {
  journalPath: string;
  clock: Clock;
  log: Log;
  maxPending: number;
  /** Called for each due schedule, earliest first; `lateMs` is how far past its time it fires. */
  fire(schedule: Schedule, lateMs: number): Promise<void>;
}

export class Scheduler {
  private readonly book = new ScheduleBook();
  private timer: TimerHandle | null = null;
  private armedFor = Infinity;
  /** Due batches in order: each waits for its journal write, then fires. */
  private firing: Promise<void> = Promise.resolve();
  private stopped = false;
  private journal!: Journal;

  private constructor(private readonly options: SchedulerOptions) {}

  static async start(options: SchedulerOptions): Promise<{ scheduler: Scheduler; loaded: number; loadMs: number; skipped: number }> {
    const scheduler = new Scheduler(options);
    const started = performance.now();
    const { journal, replay } = await Journal.open(
      options.journalPath,
      () => scheduler.book.list(),
      () => scheduler.book.size,
      options.log,
    );
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
      await this.journal.append([{ op: "add", ...schedule }]);
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
    await this.journal.append([{ op: "cancel", schedule_id: removed.schedule_id }]);
    return removed;
  }

  /** Stops firing; waits for batches already due, then closes the journal. Pending schedules stay in it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    await this.firing;
    await this.journal.close();
  }

  private rearm(): void {
    if (this.stopped) return;
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
    const due = this.book.takeDue(this.options.clock.now());
    if (due.length > 0) {
      const written = this.journal.append(due.map((s) => ({ op: "done" as const, schedule_id: s.schedule_id })));
      this.firing = this.firing.then(() => this.fireBatch(due, written));
    }
    this.rearm();
  }

  private async fireBatch(due: Schedule[], written: Promise<void>): Promise<void> {
    try {
      await written;
    } catch (err) {
      // Not durably removed: fire anyway (a restart may fire them again) rather than lose them.
      this.options.log.error({ err, schedules: due.length }, "could not journal fired schedules");
    }
    for (const schedule of due) {
      const lateMs = Math.max(0, this.options.clock.now() - schedule.fire_at);
      try {
        await this.options.fire(schedule, lateMs);
      } catch (err) {
        this.options.log.error({ err, schedule_id: schedule.schedule_id }, "firing a schedule failed");
      }
    }
  }
}
