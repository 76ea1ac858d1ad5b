/**
 * The connection to the NATS server (issue 19): made in the background so
 * the daemon never waits for it, retried with backoff until the first
 * connect succeeds, then kept by the client, which reconnects forever and
 * re-creates subscriptions itself. `connected` is what the rest of the
 * module asks before it uses the link: while it is false, local work goes
 * on as if there were no link.
 */
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import type { Clock } from "../../core/clock.js";
import type { Log } from "../../core/log.js";

/** Reconnect backoff: 250 ms, doubling, at most 2 s between attempts. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 2_000;
/** A link that stopped answering is noticed within PING_INTERVAL_MS × (MAX_PINGS_OUT + 1). */
const PING_INTERVAL_MS = 10_000;
const MAX_PINGS_OUT = 2;

export class NatsLink {
  private nc: NatsConnection | null = null;
  private up = false;
  private stopped = false;
  private attempts = 0;
  private retryTimer: { id: number } | null = null;
  lastError: string | null = null;

  constructor(
    /** host:port */
    private readonly server: string,
    private readonly name: string,
    private readonly clock: Clock,
    private readonly log: Log,
    /** Runs once, on the first connect: make the subscriptions (the client keeps them across reconnects). */
    private readonly onFirstConnect: (nc: NatsConnection) => void,
  ) {}

  get connected(): boolean {
    return this.up;
  }

  /** The connection while it is up, else null. */
  get connection(): NatsConnection | null {
    return this.up ? this.nc : null;
  }

  /** The connection once made, up or reconnecting (publishes are buffered by the client while it reconnects). */
  get client(): NatsConnection | null {
    return this.nc;
  }

  /**
   * Publishes while the connection exists, up or reconnecting (the client
   * holds what is published while it reconnects); false when it was never
   * made. Throws what the client throws (a body over the server's max_payload).
   */
  publish(subject: string, body: string, values: Readonly<Record<string, string>>): boolean {
    if (this.nc === null) return false;
    const h = headers();
    for (const [key, value] of Object.entries(values)) h.set(key, value);
    this.nc.publish(subject, body, { headers: h });
    return true;
  }

  start(): void {
    void this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) this.clock.clearTimer(this.retryTimer);
    this.up = false;
    await this.nc?.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.server,
        name: this.name,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => this.nextDelay(),
        pingInterval: PING_INTERVAL_MS,
        maxPingOut: MAX_PINGS_OUT,
      });
    } catch (err) {
      this.failed(err, "cannot connect to the NATS server; retrying");
      if (!this.stopped) this.retryTimer = this.clock.setTimer(() => void this.attempt(), this.nextDelay());
      return;
    }
    if (this.stopped) {
      await nc.close().catch(() => undefined);
      return;
    }
    this.nc = nc;
    this.up = true;
    this.attempts = 0;
    this.log.info({ server: this.server }, "connected to the NATS server");
    try {
      this.onFirstConnect(nc);
    } catch (err) {
      this.failed(err, "NATS subscriptions failed");
    }
    void this.watch(nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.up = false;
        this.log.warn({ server: this.server }, "NATS link lost; reconnecting (local work goes on)");
      } else if (status.type === "reconnect") {
        this.up = true;
        this.attempts = 0;
        this.log.info({ server: this.server }, "NATS link back");
      } else if (status.type === "error") {
        this.failed(status.error, "NATS error");
      } else if (status.type === "close") break;
    }
    this.up = false;
  }

  private nextDelay(): number {
    return Math.min(FIRST_DELAY_MS * 2 ** this.attempts++, MAX_DELAY_MS);
  }

  /** Keeps the error for system:health; logs the first of a run of failures only, so an outage does not flood daemon.log. */
  failed(err: unknown, message: string): void {
    const text = err instanceof Error ? err.message : String(err);
    if (this.lastError !== text) this.log.warn({ server: this.server, error: text }, message);
    this.lastError = text;
  }
}
