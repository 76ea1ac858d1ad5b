/**
 * Who gets which routed events. Each subscription belongs to one
 * connection; a connection that stops reading loses its subscriptions (one
 * `monitor:dropped` push) instead of growing the daemon's memory.
 */
import type { RoutedEvent } from "../../core/bus.js";
import { DaemonError } from "../../core/errors.js";
import { compileGlobs, type NameMatcher } from "../../core/glob.js";
import type { Session } from "../../core/session.js";

/** What a push needs of an event. */
type Pushable = Pick<RoutedEvent, "event" | "data" | "seq" | "ts"> & { meta?: Record<string, unknown> | undefined };

/**
 * An event as the replay ring keeps it: its data as JSON text, parsed again
 * only for a replay. Kept as objects, ten thousand events took several times
 * their JSON size, and the ring's byte bound said less than it held.
 */
interface Remembered {
  event: string;
  seq: number;
  ts: number;
  json: string;
  /** The meta of an event from another daemon (issue 19), whose origin its pushes name. */
  meta?: Record<string, unknown> | undefined;
}

interface Subscription {
  id: string;
  session: Session;
  matches: NameMatcher;
  /** Until the subscribe reply is written, events are held here so none overtakes it. */
  held: Pushable[] | null;
  /** Seq of the last event pushed to it. */
  lastSeq: number;
}

export interface SubscribeResult {
  subscription: string;
  seq: number;
  /** True when events after `since_seq` had left memory; monitor:get_events still has them. */
  missed?: true;
}

export class Subscriptions {
  private readonly byId = new Map<string, Subscription>();
  /** The latest successful events, oldest at `recentStart`; at most `replayLimit` of them and `replayBytes` of data. */
  private recent: Remembered[] = [];
  private recentStart = 0;
  private recentBytes = 0;
  /** Seq of the newest event pushed out of the ring. */
  private evictedSeq = 0;
  private nextId = 1;

  constructor(
    private readonly replayLimit: number,
    private readonly perConnectionLimit: number,
    private readonly queueLimitBytes: number,
    private readonly replayBytes: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  add(session: Session, patterns: readonly string[], lastSeq: number, sinceSeq?: number): SubscribeResult {
    let owned = 0;
    for (const sub of this.byId.values()) if (sub.session === session) owned++;
    if (owned >= this.perConnectionLimit) {
      throw new DaemonError("limit_exceeded", `a connection may hold at most ${this.perConnectionLimit} subscriptions`, {
        limit: this.perConnectionLimit,
      });
    }
    const held: Pushable[] = [];
    const sub: Subscription = { id: `s${this.nextId++}`, session, matches: compileGlobs(patterns), held, lastSeq };
    if (sinceSeq !== undefined) {
      for (const kept of this.recentInOrder()) {
        if (kept.seq > sinceSeq && sub.matches(kept.event)) held.push({ event: kept.event, seq: kept.seq, ts: kept.ts, data: JSON.parse(kept.json) as unknown, meta: kept.meta });
      }
    }
    this.byId.set(sub.id, sub);
    session.onClose(() => this.byId.delete(sub.id));
    // The reply is queued synchronously after this handler returns; release what was held after it.
    setImmediate(() => this.release(sub));
    const missed = sinceSeq !== undefined && sinceSeq < this.evictedSeq;
    return missed ? { subscription: sub.id, seq: lastSeq, missed } : { subscription: sub.id, seq: lastSeq };
  }

  remove(session: Session, id: string): void {
    const sub = this.byId.get(id);
    if (sub === undefined || sub.session !== session) {
      throw new DaemonError("not_found", `no subscription ${id} on this connection`);
    }
    this.byId.delete(id);
  }

  /** Bus listener: fan a routed event out to matching subscriptions. */
  readonly onEvent = (event: RoutedEvent): void => {
    if (!event.ok) return;
    this.remember(event);
    let delivered = 0;
    for (const sub of this.byId.values()) {
      if (!sub.matches(event.event)) continue;
      if (sub.held !== null) sub.held.push(event);
      else if (!this.deliver(sub, event)) continue;
      delivered++;
    }
    event.delivered = delivered;
  };

  private release(sub: Subscription): void {
    const held = sub.held ?? [];
    sub.held = null;
    if (!this.byId.has(sub.id)) return;
    for (const event of held) if (!this.deliver(sub, event)) return;
  }

  private deliver(sub: Subscription, event: Pushable): boolean {
    const ts = new Date(event.ts).toISOString();
    const origin = event.meta?.origin;
    const push = typeof origin === "string"
      ? { event: event.event, data: event.data, subscription: sub.id, seq: event.seq, ts, origin }
      : { event: event.event, data: event.data, subscription: sub.id, seq: event.seq, ts };
    if (sub.session.push(push)) {
      sub.lastSeq = event.seq;
      return true;
    }
    this.byId.delete(sub.id);
    sub.session.push(
      {
        event: "monitor:dropped",
        data: {
          subscription: sub.id,
          reason: "the client did not read its pushes; the subscription ended",
          limit: this.queueLimitBytes,
          last_seq: sub.lastSeq,
        },
        subscription: sub.id,
        seq: event.seq,
        ts,
      },
      true,
    );
    return false;
  }

  private remember(event: RoutedEvent): void {
    if (this.replayLimit === 0) return;
    const json = event.dataJson ?? JSON.stringify(event.data) ?? "null";
    this.recent.push(event.meta?.origin === undefined ? { event: event.event, seq: event.seq, ts: event.ts, json } : { event: event.event, seq: event.seq, ts: event.ts, json, meta: { origin: event.meta.origin } });
    this.recentBytes += json.length;
    while (this.recent.length - this.recentStart > this.replayLimit || (this.recentBytes > this.replayBytes && this.recent.length - this.recentStart > 1)) {
      const evicted = this.recent[this.recentStart]!;
      this.recent[this.recentStart++] = undefined as unknown as Remembered;
      this.recentBytes -= evicted.json.length;
      this.evictedSeq = evicted.seq;
    }
    // Dropping the evicted prefix now and then keeps the array from growing with the daemon's age.
    if (this.recentStart > 1024 && this.recentStart * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.recentStart);
      this.recentStart = 0;
    }
  }

  private recentInOrder(): Remembered[] {
    return this.recent.slice(this.recentStart);
  }
}
