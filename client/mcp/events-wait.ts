/**
 * events_wait: routed events as a long poll, since MCP hosts drop pushes.
 * Each call subscribes with since_seq (the daemon replays what it still
 * holds after that seq), waits for the first match, gathers what arrives
 * right after it, and unsubscribes; next_since_seq continues without a gap.
 * A daemon connection lost while waiting is reconnected and the wait goes
 * on: a restarted daemon numbers its events from 1 again, which the result
 * says (daemon_restarted), so the agent knows its cursor began again, and
 * what the new daemon saw before the wait is replayed, not skipped.
 */
import type { Subscription } from "../client.js";
import type { DaemonLink } from "./daemon-link.js";

export interface WaitedEvent {
  event: string;
  seq: number;
  ts: string;
  data: unknown;
}

export interface WaitResult {
  events: WaitedEvent[];
  /** Give it as since_seq to the next call. */
  next_since_seq: number;
  timed_out: boolean;
  /** Events after since_seq were no longer held by the daemon: some may be missing. */
  missed?: true;
  /** The daemon restarted (before this call or during it): its seqs began again, and next_since_seq counts from the new start. */
  daemon_restarted?: true;
}

/** After the first event, what else arrives within this is returned with it. */
const GATHER_MS = 25;

/**
 * The waits of one bridge. It remembers which daemon (by pid) counted the
 * last next_since_seq it gave: a since_seq given after that daemon was
 * replaced is from its earlier life, and everything the new daemon still
 * holds is new to the agent, whatever the numbers say.
 */
export class EventWaits {
  private cursorDaemon: number | undefined;

  constructor(private readonly link: DaemonLink) {}

  /** A wait the MCP client cancelled (`signal`) ends at once with what it has. */
  async wait(patterns: string[], sinceSeq: number | undefined, timeoutMs: number, max: number, signal?: AbortSignal): Promise<WaitResult> {
    const { link } = this;
    const deadline = Date.now() + timeoutMs;
    await link.connection();
    let daemon = link.daemonPid;
    let restarted = sinceSeq !== undefined && this.cursorDaemon !== undefined && this.cursorDaemon !== daemon;
    let subscription = await link.subscribe(patterns, restarted ? 0 : sinceSeq);
    if (!restarted && sinceSeq !== undefined && sinceSeq > subscription.seq) {
      // Ahead of the daemon: a cursor from a life of it this bridge did not see end. Replay what the new one holds.
      restarted = true;
      subscription.close();
      subscription = await link.subscribe(patterns, 0);
    }
    let iterator = subscription[Symbol.asyncIterator]();
    /** The seq the result continues from when no event comes. */
    let after = restarted ? subscription.seq : Math.max(sinceSeq ?? 0, subscription.seq);
    let missed = subscription.missed;
    const events: WaitedEvent[] = [];
    let timedOut = false;
    let firstAt = 0;
    try {
      while (events.length < max) {
        const left = (events.length === 0 ? deadline : Math.min(deadline, firstAt + GATHER_MS)) - Date.now();
        const next = await within(iterator.next(), Math.max(0, left), signal);
        if (next === "late") {
          timedOut = events.length === 0;
          break;
        }
        if (next.done === true) {
          // The connection to the daemon was lost (a restart, most often): wait on through a new one.
          if (events.length > 0 || Date.now() >= deadline) break;
          subscription = await resubscribe(link, patterns, subscription, after, daemon);
          iterator = subscription[Symbol.asyncIterator]();
          if (link.daemonPid !== daemon) {
            daemon = link.daemonPid;
            restarted = true;
          }
          after = subscription.seq;
          missed ||= subscription.missed;
          continue;
        }
        const push = next.value as unknown as { event: string; seq: number; ts: string; data: unknown };
        if (push.event === "monitor:dropped") {
          missed = true;
          break;
        }
        if (events.length === 0) firstAt = Date.now();
        events.push({ event: push.event, seq: push.seq, ts: push.ts, data: push.data });
      }
    } finally {
      subscription.close();
    }
    this.cursorDaemon = daemon;
    const result: WaitResult = { events, next_since_seq: events.length > 0 ? events[events.length - 1]!.seq : after, timed_out: timedOut };
    if (missed) result.missed = true;
    if (restarted) result.daemon_restarted = true;
    return result;
  }
}

/**
 * A new subscription after the old one's connection was lost: the same
 * daemon replays from where the wait was; a new one (another pid) replays
 * all it holds, its seqs having begun again.
 */
async function resubscribe(link: DaemonLink, patterns: string[], lost: Subscription, after: number, daemon: number | undefined): Promise<Subscription> {
  lost.close();
  await link.connection();
  return link.subscribe(patterns, link.daemonPid === daemon ? after : 0);
}

/** `work`, or "late" after `ms` or once `signal` aborts. */
async function within<T>(work: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T | "late"> {
  if (signal?.aborted === true) return "late";
  let timer: NodeJS.Timeout | undefined;
  let abort: (() => void) | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
    abort = () => resolve("late");
    signal?.addEventListener("abort", abort, { once: true });
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    if (abort !== undefined) signal?.removeEventListener("abort", abort);
  }
}
