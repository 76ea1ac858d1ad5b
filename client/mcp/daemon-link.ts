/**
 * The bridge's one connection to the daemon, kept alive across daemon
 * restarts: a request that finds the connection gone reconnects first
 * (waiting out a restart, then starting the daemon when allowed). The
 * event schemas system:discover returns are cached per connection, since a
 * restarted daemon may be a newer one.
 */
import { Client, DaemonUnreachableError, type Subscription } from "../client.js";
import type { HandleOptions, HandlerFunction } from "../handlers.js";

export interface EventInfo {
  event: string;
  summary: string;
  effect: "read" | "write" | "destroy";
  params: Record<string, unknown>;
}

export interface DaemonLinkOptions {
  socketPath: string;
  agentId: string | undefined;
  /** Starts the daemon when none answers; undefined when the bridge must not (--no-start). */
  start: (() => Promise<void>) | undefined;
}

/** How long a lost connection is retried before the daemon counts as gone (a restart takes well under this). */
const RECONNECT_WAIT_MS = 5_000;
const RECONNECT_STEP_MS = 100;

/** `reconnected`: a connection after a lost one (the daemon may have changed meanwhile). */
export type ConnectListener = (client: Client, reconnected: boolean) => void | Promise<void>;

interface Registration {
  events: readonly string[];
  fn: HandlerFunction;
  options: HandleOptions;
}

export class DaemonLink {
  private client: Client | null = null;
  private connecting: { mayStart: boolean; client: Promise<Client> } | null = null;
  private events: Promise<Map<string, EventInfo>> | null = null;
  private readonly registrations: Registration[] = [];
  private closed = false;
  private pid: number | undefined;
  /** Each event's effect, from the last event table (kept across reconnects): which requests are safe to ask again. */
  private effects = new Map<string, EventInfo["effect"]>();
  private readonly connectListeners: ConnectListener[] = [];

  constructor(private readonly options: DaemonLinkOptions) {}

  /** The pid of the daemon the live connection reached: another pid after a reconnect means the daemon restarted (its seqs began again). */
  get daemonPid(): number | undefined {
    return this.pid;
  }

  /** The agent the bridge was told to act as (--agent-id, PATTERND_AGENT_ID), if any. */
  get agentId(): string | undefined {
    return this.options.agentId;
  }

  /**
   * The live client, connecting (and re-registering this bridge's handlers) when there is none.
   * `mayStart: false` waits out a restart but never starts the daemon: for reconnecting in the
   * background, so a daemon a person stopped stays stopped until an agent's next call.
   */
  connection(mayStart = true): Promise<Client> {
    if (this.closed) return Promise.reject(new DaemonUnreachableError(this.options.socketPath, "the MCP bridge is shutting down"));
    if (this.client !== null && !this.client.isClosed) return Promise.resolve(this.client);
    const attempt = (this.connecting ??= { mayStart, client: this.connect(mayStart).finally(() => (this.connecting = null)) });
    // A background attempt gives up without starting the daemon; a caller that may start it then does.
    return mayStart && !attempt.mayStart ? attempt.client.catch(() => this.connection(true)) : attempt.client;
  }

  /**
   * Runs `listener` on every connection from now on (the live one, if any, first): for what the
   * bridge keeps open on the daemon, such as a subscription. A lost connection is reconnected in
   * the background (without starting the daemon) so that it goes on.
   */
  onConnect(listener: ConnectListener): void {
    this.connectListeners.push(listener);
    if (this.client !== null && !this.client.isClosed) void this.notifyConnected(listener, this.client, false);
  }

  /**
   * One request. When the connection is lost before the reply (a daemon restart, a kill), a read is
   * asked again of the daemon that answers now; anything else may or may not have been done, and the
   * error says so.
   */
  async request<T = unknown>(event: string, data: Record<string, unknown>, timeoutMs?: number, agentId?: string): Promise<T> {
    const options = { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(agentId === undefined ? {} : { agentId }) };
    const client = await this.connection();
    try {
      return await client.request<T>(event, data, options);
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError) || this.closed) throw err;
      if (event !== "system:discover" && this.effects.get(event) !== "read") {
        throw new DaemonUnreachableError(
          this.options.socketPath,
          `the connection to patternd closed before it answered ${event} (a restart?): it may or may not have been done; read what it would change before sending it again`,
        );
      }
      return (await this.connection()).request<T>(event, data, options);
    }
  }

  async subscribe(patterns: string[], sinceSeq: number | undefined): Promise<Subscription> {
    const client = await this.connection();
    return client.subscribe(patterns, sinceSeq === undefined ? {} : { sinceSeq });
  }

  /** Registers a handler on the daemon; it is registered again after a reconnect. */
  async handle(events: readonly string[], fn: HandlerFunction, options: HandleOptions): Promise<void> {
    const client = await this.connection();
    await client.handle(events, fn, options);
    this.registrations.push({ events, fn, options });
  }

  /** Every event the daemon answers now, by name (its own and those connected processes registered). */
  eventTable(): Promise<Map<string, EventInfo>> {
    this.events ??= this.request<{ events: Record<string, EventInfo[]> }>("system:discover", {}).then(
      (reply) => {
        const table = new Map(Object.values(reply.events).flat().map((info) => [info.event, info]));
        this.effects = new Map([...table.values()].map((info) => [info.event, info.effect]));
        return table;
      },
      (err: unknown) => {
        this.events = null;
        throw err;
      },
    );
    return this.events;
  }

  /** Forgets the cached event table: handlers registered or gone change it. */
  refreshEvents(): void {
    this.events = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.close();
  }

  private async connect(mayStart: boolean): Promise<Client> {
    const reconnected = this.everConnected;
    const client = await this.reach(mayStart);
    try {
      this.pid = (await client.request<{ pid: number }>("system:health", {})).pid;
    } catch (err) {
      await client.close();
      throw err;
    }
    this.client = client;
    this.events = null;
    void client.closed().then(() => {
      if (this.client === client) this.client = null;
      // Calls for this bridge's handlers go elsewhere, and its subscriptions are gone, until it is back.
      if ((this.registrations.length > 0 || this.connectListeners.length > 0) && !this.closed) this.connection(false).catch(() => undefined);
    });
    for (const registration of this.registrations) await client.handle(registration.events, registration.fn, registration.options);
    for (const listener of this.connectListeners) await this.notifyConnected(listener, client, reconnected);
    return client;
  }

  private async notifyConnected(listener: ConnectListener, client: Client, reconnected: boolean): Promise<void> {
    try {
      await listener(client, reconnected);
    } catch {
      // A listener that fails on this connection (it closed meanwhile) runs again on the next one.
    }
  }

  /** Connects; after a lost connection waits for a restarting daemon, then starts one when allowed. */
  private async reach(mayStart: boolean): Promise<Client> {
    const deadline = Date.now() + (this.everConnected ? RECONNECT_WAIT_MS : 0);
    for (;;) {
      try {
        const client = await Client.connect({ socketPath: this.options.socketPath, agentId: this.options.agentId });
        this.everConnected = true;
        return client;
      } catch (err) {
        if (!(err instanceof DaemonUnreachableError)) throw err;
        if (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, RECONNECT_STEP_MS));
          continue;
        }
        if (this.options.start === undefined || !mayStart) throw err;
        await this.options.start();
        const client = await Client.connect({ socketPath: this.options.socketPath, agentId: this.options.agentId });
        this.everConnected = true;
        return client;
      }
    }
  }

  private everConnected = false;
}
