/**
 * A subscriber to one bench event whose data carries `n` in [0, count):
 * stamps each push's arrival, counts duplicates, checks the order, and
 * notes a monitor:dropped. The schedule and burst benches both read it.
 */
import { LineConnection } from "./common.js";

export class PushWatcher {
  /** Arrival time of each n (performance.now()), 0 until it came. */
  readonly arrivedAt: Float64Array;
  readonly seen: Uint8Array;
  unique = 0;
  duplicates = 0;
  /** Every n came after the one before it. */
  inOrder = true;
  dropped = false;
  firstAt = NaN;
  lastAt = NaN;
  private expected = 0;
  private problem: Error | null = null;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly conn: LineConnection,
    private readonly event: string,
    readonly count: number,
  ) {
    this.arrivedAt = new Float64Array(count);
    this.seen = new Uint8Array(count);
  }

  static async open(socketPath: string, event: string, count: number): Promise<PushWatcher> {
    const conn = await LineConnection.connect(socketPath);
    const reply = await conn.request(`{"event":"monitor:subscribe","id":1,"data":{"patterns":["${event}"]}}\n`);
    if (reply.ok !== true) throw new Error(`monitor:subscribe failed: ${JSON.stringify(reply)}`);
    const watcher = new PushWatcher(conn, event, count);
    conn.onLines = (lines, now) => watcher.onLines(lines, now);
    conn.onFailure((err) => watcher.fail(err));
    return watcher;
  }

  private onLines(lines: string[], now: number): void {
    if (Number.isNaN(this.firstAt)) this.firstAt = now;
    this.lastAt = now;
    for (const line of lines) {
      let push: { event?: unknown; data?: { n?: unknown } };
      try {
        push = JSON.parse(line) as typeof push;
      } catch {
        this.fail(new Error(`subscriber got a line that is not JSON: ${line.slice(0, 300)}`));
        return;
      }
      if (push.event === "monitor:dropped") {
        this.dropped = true;
        continue;
      }
      const n = push.data?.n;
      if (push.event !== this.event || typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= this.count) {
        this.fail(new Error(`subscriber got an unexpected push: ${line.slice(0, 300)}`));
        return;
      }
      if (this.seen[n] === 1) {
        this.duplicates++;
        continue;
      }
      this.seen[n] = 1;
      this.arrivedAt[n] = now;
      if (n !== this.expected) this.inOrder = false;
      this.expected = n + 1;
      this.unique++;
    }
    if (this.unique === this.count || this.dropped) this.wake?.();
  }

  private fail(err: Error): void {
    this.problem ??= err;
    this.wake?.();
  }

  /** Until every n arrived, the subscription was dropped, or `deadline` (epoch ms); throws what went wrong. */
  async waitAll(deadline: number): Promise<void> {
    while (this.unique < this.count && !this.dropped && this.problem === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1_000, Math.max(1, deadline - Date.now())));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.problem !== null) throw this.problem;
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}
