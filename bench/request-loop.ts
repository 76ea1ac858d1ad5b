/**
 * One client's sequential requests on its own connection, from start() to
 * stop(): each request written only once the previous reply came (so a
 * stalled daemon shows as one long request, not as a queue of them), each
 * reply checked, each answered request's send and answer time kept. The
 * burst bench's ping and the bar's four loads are such loops.
 */
import { performance } from "node:perf_hooks";
import { percentile, round, type LineConnection, type Reply } from "./common.js";

export interface Timed {
  sentAt: number;
  answeredAt: number;
}

export interface RequestLoopOptions {
  /** Request `id`'s line; the reply must be `ok` and echo `id`. */
  make: (id: number) => string;
  /** Throws when the (ok) reply to request `id` is not the right one. */
  check?: (reply: Reply, id: number) => void;
  /** Runs ahead of request `id`, untimed; throwing counts an error and skips the request. */
  before?: (id: number) => Promise<void>;
  /** The next request is sent this long after the last one was (0: as soon as its reply came). */
  everyMs?: number;
}

export class RequestLoop {
  /** The requests whose reply was right, in order. */
  readonly answered: Timed[] = [];
  /** Replies that were not ok or not right, and a lost connection. */
  errors = 0;
  firstError: string | null = null;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly conn: LineConnection,
    private readonly options: RequestLoopOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const everyMs = this.options.everyMs ?? 0;
    for (let id = 0; this.running; id++) {
      const startedAt = performance.now();
      try {
        await this.options.before?.(id);
        const line = this.options.make(id);
        const sentAt = performance.now();
        const reply = await this.conn.request(line);
        const answeredAt = performance.now();
        if (reply.ok !== true || reply.id !== id) throw new Error(`unexpected reply to #${id}: ${JSON.stringify(reply).slice(0, 300)}`);
        this.options.check?.(reply, id);
        this.answered.push({ sentAt, answeredAt });
      } catch (err) {
        this.errors++;
        this.firstError ??= err instanceof Error ? err.message : String(err);
        // Nothing more can be sent on a connection that is gone.
        if (this.conn.socket.destroyed) break;
      }
      if (everyMs > 0) await sleep(Math.max(0, startedAt + everyMs - performance.now()));
    }
  }

  /** Lets `graceMs` more pass (a stall right at the end still counts), then waits for the last reply and closes. */
  async stop(graceMs = 0): Promise<void> {
    if (graceMs > 0) await sleep(graceMs);
    this.running = false;
    await this.loop;
    await this.conn.close();
  }
}

export interface LatencyStats {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** p50, p99 and max of the round trips of `requests`. */
export function latencyStats(requests: Timed[]): LatencyStats {
  const sorted = Float64Array.from(requests, (r) => r.answeredAt - r.sentAt).sort();
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 0.5), 2),
    p99_ms: round(percentile(sorted, 0.99), 2),
    max_ms: round(sorted[sorted.length - 1] ?? NaN, 2),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
