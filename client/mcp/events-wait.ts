/**
 * events_wait: routed events as a long poll, since MCP hosts drop pushes.
 * Each call subscribes with since_seq (the daemon replays what it still
 * holds after that seq), waits for the first match, gathers what arrives
 * right after it, and unsubscribes; next_since_seq continues without a gap.
 */
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
  /** since_seq was ahead of the daemon: it restarted, and its seqs began again. */
  daemon_restarted?: true;
}

/** After the first event, what else arrives within this is returned with it. */
const GATHER_MS = 25;

export async function waitEvents(link: DaemonLink, patterns: string[], sinceSeq: number | undefined, timeoutMs: number, max: number): Promise<WaitResult> {
  const subscription = await link.subscribe(patterns, sinceSeq);
  const restarted = sinceSeq !== undefined && sinceSeq > subscription.seq;
  const iterator = subscription[Symbol.asyncIterator]();
  const events: WaitedEvent[] = [];
  let timedOut = false;
  let missed = subscription.missed;
  let firstAt = 0;
  try {
    const deadline = Date.now() + timeoutMs;
    while (events.length < max) {
      const left = (events.length === 0 ? deadline : Math.min(deadline, firstAt + GATHER_MS)) - Date.now();
      const next = await within(iterator.next(), Math.max(0, left));
      if (next === "late") {
        timedOut = events.length === 0;
        break;
      }
      if (next.done === true) break;
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
  const after = restarted ? subscription.seq : Math.max(sinceSeq ?? 0, subscription.seq);
  const result: WaitResult = { events, next_since_seq: events.length > 0 ? events[events.length - 1]!.seq : after, timed_out: timedOut };
  if (missed) result.missed = true;
  if (restarted) result.daemon_restarted = true;
  return result;
}

async function within<T>(work: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
