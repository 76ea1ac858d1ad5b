/**
 * In-process fan-out of routed events. The router publishes every request
 * it answered; modules publish the events they emit. Listeners (event log,
 * subscriptions) must be quick; one that throws is reported and skipped,
 * never allowed to fail the request that published.
 */
import type { RequestId } from "./protocol.js";
import type { ErrorCode } from "./errors.js";

export interface RoutedEvent {
  /** Daemon-wide sequence number, increasing from 1 for each daemon start. */
  seq: number;
  /** Epoch ms when the event was routed. */
  ts: number;
  event: string;
  id: RequestId | null;
  agentId: string | undefined;
  ok: boolean;
  code?: ErrorCode;
  /** Handling time in ms. */
  ms: number;
  data: unknown;
  /** Extra fields for the event log (e.g. schedule_id, late_ms). */
  meta?: Record<string, unknown> | undefined;
  /** Subscriptions it was pushed to; counted by the listener that pushes. */
  delivered?: number;
  /** `data` as JSON, set by the first listener that serialises it (the event log), for the others to reuse. */
  dataJson?: string;
}

export type RoutedEventInput = Omit<RoutedEvent, "seq">;
export type BusListener = (event: RoutedEvent) => void;

export class Bus {
  private readonly listeners: BusListener[] = [];
  private readonly settlers: (() => void)[] = [];
  private seq = 0;

  constructor(private readonly onListenerError: (err: unknown, event: RoutedEvent) => void) {}

  subscribe(listener: BusListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index !== -1) this.listeners.splice(index, 1);
    };
  }

  publish(input: RoutedEventInput): RoutedEvent {
    const event = input as RoutedEvent;
    event.seq = ++this.seq;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
    return event;
  }

  /** `settle` writes out what this listener's side queued for later (a batch of log lines, replies waiting for the next tick). */
  onSettle(settle: () => void): void {
    this.settlers.push(settle);
  }

  /**
   * Writes out now what the events just published left queued, for a caller
   * whose next step assumes they have left the process: a fired schedule is
   * already journaled done, so its pushes and its log line must not wait for
   * a later turn that a kill may never give.
   */
  settle(): void {
    for (const settle of this.settlers) settle();
  }

  /** The seq of the last published event (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }
}
