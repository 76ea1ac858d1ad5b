/**
 * The pending delayed emits (pure): add, replace by key, cancel, and take
 * what is due. A heap orders them by fire time; cancelled entries are left
 * in the heap and skipped when they surface (lazy deletion).
 */
import { MinHeap } from "./min-heap.js";

export interface Schedule {
  schedule_id: string;
  event: string;
  data: Record<string, unknown>;
  /** Epoch ms. */
  fire_at: number;
  key?: string | undefined;
  condition?: unknown;
  agent_id?: string | undefined;
  /** Epoch ms. */
  created_at: number;
  /** Made for an event a connected handler owned: at fire time, none is no_handler in the event log (issue 14). */
  expects_handler?: boolean;
}

export class ScheduleBook {
  private readonly byId = new Map<string, Schedule>();
  private readonly byKey = new Map<string, string>();
  private heap = new MinHeap<Schedule>();
  /** Heap entries of schedules no longer live; rebuilt away before they outnumber the live ones. */
  private dead = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Schedule | undefined {
    return this.byId.get(id);
  }

  idForKey(key: string): string | undefined {
    return this.byKey.get(key);
  }

  /** Adds a schedule; one with the same key is replaced and returned. */
  add(schedule: Schedule): Schedule | undefined {
    let replaced: Schedule | undefined;
    if (schedule.key !== undefined) {
      const previous = this.byKey.get(schedule.key);
      if (previous !== undefined) replaced = this.remove(previous);
      this.byKey.set(schedule.key, schedule.schedule_id);
    }
    this.byId.set(schedule.schedule_id, schedule);
    this.heap.push(schedule.fire_at, schedule);
    return replaced;
  }

  remove(id: string): Schedule | undefined {
    const schedule = this.byId.get(id);
    if (schedule === undefined) return undefined;
    this.byId.delete(id);
    if (schedule.key !== undefined && this.byKey.get(schedule.key) === id) this.byKey.delete(schedule.key);
    if (++this.dead > Math.max(1024, this.byId.size)) this.rebuild();
    return schedule;
  }

  /** Fire time of the earliest live schedule. */
  nextFireAt(): number | undefined {
    this.dropDead();
    return this.heap.peek()?.priority;
  }

  /** Removes and returns the schedules due at `now`, earliest first: all of them, or the first `limit`. */
  takeDue(now: number, limit = Infinity): Schedule[] {
    const due: Schedule[] = [];
    while (due.length < limit) {
      this.dropDead();
      const top = this.heap.peek();
      if (top === undefined || top.priority > now) return due;
      this.heap.pop();
      this.dead--; // remove() counts the entry as dead, but it just left the heap
      due.push(this.remove(top.value.schedule_id)!);
    }
    return due;
  }

  /** Live schedules, earliest first. */
  list(): Schedule[] {
    return [...this.byId.values()].sort((a, b) => a.fire_at - b.fire_at || a.created_at - b.created_at);
  }

  /** Pops heap entries whose schedule was cancelled or replaced. */
  private dropDead(): void {
    for (let top = this.heap.peek(); top !== undefined && this.byId.get(top.value.schedule_id) !== top.value; top = this.heap.peek()) {
      this.heap.pop();
      this.dead--;
    }
  }

  private rebuild(): void {
    this.heap = new MinHeap<Schedule>();
    for (const schedule of this.byId.values()) this.heap.push(schedule.fire_at, schedule);
    this.dead = 0;
  }
}
