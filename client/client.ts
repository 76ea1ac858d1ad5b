/**
 * The typed client of the patternd socket: requests with ids and timeouts,
 * pipelining (send many, replies are matched by id), subscriptions as
 * async iterators, and handlers (this process answers events: issue 14).
 */
import { createConnection, type Socket } from "node:net";
import type { ErrorCode } from "../daemon/core/errors.js";
import { LineSplitter } from "../daemon/core/framing.js";
import type { Push, Reply } from "../daemon/core/protocol.js";
import { HandlerCalls, type HandleOptions, type Handler, type HandlerFunction } from "./handlers.js";

export interface ClientOptions {
  socketPath: string;
  /** Sent as agent_id with every request that does not name its own. */
  agentId?: string | undefined;
  /** Default per-request timeout; 0 waits forever. */
  timeoutMs?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
  agentId?: string;
}

/** The daemon answered with an error (SPEC §2). */
export class RemoteError extends Error {
  constructor(
    readonly event: string,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(message);
    this.name = "RemoteError";
  }
}

/** No daemon answers on the socket, or the connection was lost. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    message: string,
  ) {
    super(message);
    this.name = "DaemonUnreachableError";
  }
}

export class RequestTimeoutError extends Error {
  constructor(
    readonly event: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${event} within ${timeoutMs} ms`);
    this.name = "RequestTimeoutError";
  }
}

interface Pending {
  event: string;
  resolve(reply: Reply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** Replies may be large (event-log queries); the client's own bound is generous. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;
/** Pushes for a subscription whose reply has not arrived yet are held, up to this many. */
const MAX_EARLY_PUSHES = 10_000;

export class Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<string, SubscriptionQueue>();
  private readonly earlyPushes: Push[] = [];
  private closedError: Error | null = null;
  private readonly closeWaiters: (() => void)[] = [];
  private readonly handlerCalls = new HandlerCalls((line) => this.write(line));
  private outgoing: string[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly options: ClientOptions,
  ) {
    const splitter = new LineSplitter(MAX_REPLY_BYTES);
    socket.on("data", (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        if (frame.kind === "overflow") {
          this.fail(new DaemonUnreachableError(options.socketPath, `a message from the daemon exceeded ${frame.limit} bytes`));
          socket.destroy();
          return;
        }
        this.receive(frame.line);
      }
    });
    socket.on("error", () => undefined); // reported through "close"
    socket.on("close", () => {
      this.fail(new DaemonUnreachableError(options.socketPath, `the connection to patternd at ${options.socketPath} closed`));
    });
  }

  static connect(options: ClientOptions): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(options.socketPath);
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        socket.setNoDelay(true);
        resolve(new Client(socket, options));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => reject(unreachable(options.socketPath, err)));
    });
  }

  /** Sends a request and resolves with its `data`; a daemon error rejects with RemoteError. */
  async request<T = unknown>(event: string, data: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    const reply = await this.send(event, data, options);
    if (reply.ok) return reply.data as T;
    throw new RemoteError(event, reply.error.code, reply.error.message, reply.error.details);
  }

  /** Sends a request and resolves with the whole reply, error replies included. */
  send(event: string, data: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<Reply> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const agentId = options.agentId ?? this.options.agentId;
    const message = agentId === undefined ? { event, data, id } : { event, data, id, agent_id: agentId };
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    return new Promise<Reply>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new RequestTimeoutError(event, timeoutMs));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { event, resolve, reject, timer });
      this.write(JSON.stringify(message) + "\n");
    });
  }

  /**
   * Answers `events` (names or globs) in this process: `fn(data, call)` runs
   * for each call and its result (or thrown error) is the reply. Ends with
   * `handler.close()` or the connection. Options: mode (exclusive, group,
   * observe), group, concurrency, timeoutMs, maxQueue, params (JSON Schema),
   * description — handler:register's parameters.
   */
  async handle(events: string | readonly string[], fn: HandlerFunction, options: HandleOptions = {}): Promise<Handler> {
    const data: Record<string, unknown> = { events: typeof events === "string" ? [events] : [...events] };
    if (options.mode !== undefined) data.mode = options.mode;
    if (options.group !== undefined) data.group = options.group;
    if (options.concurrency !== undefined) data.concurrency = options.concurrency;
    if (options.timeoutMs !== undefined) data.timeout_ms = options.timeoutMs;
    if (options.maxQueue !== undefined) data.max_queue = options.maxQueue;
    if (options.params !== undefined) data.params = options.params;
    if (options.description !== undefined) data.description = options.description;
    const result = await this.request<{ handler_id: string }>("handler:register", data);
    const id = result.handler_id;
    this.handlerCalls.add(id, fn);
    return {
      id,
      close: async () => {
        this.handlerCalls.remove(id);
        if (this.closedError === null) await this.request("handler:unregister", { handler_id: id });
      },
    };
  }

  /** Lines written in one turn of the event loop go out in one socket write (pipelined requests, a burst of handler replies). */
  private write(line: string): void {
    if (this.closedError !== null) return;
    this.outgoing.push(line);
    if (this.outgoing.length === 1) process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    const text = this.outgoing.length === 1 ? this.outgoing[0]! : this.outgoing.join("");
    this.outgoing = [];
    if (this.closedError === null) this.socket.write(text);
  };

  /** Subscribes to routed events matching the globs; iterate the result to receive them. */
  async subscribe(patterns: string[], options: { sinceSeq?: number } = {}): Promise<Subscription> {
    const data: Record<string, unknown> = { patterns };
    if (options.sinceSeq !== undefined) data.since_seq = options.sinceSeq;
    const result = await this.request<{ subscription: string; seq: number; missed?: boolean }>("monitor:subscribe", data);
    const queue = new SubscriptionQueue(result.subscription, result.seq, result.missed === true, () => {
      this.subscriptions.delete(result.subscription);
      if (this.closedError === null) {
        void this.request("monitor:unsubscribe", { subscription: result.subscription }).catch(() => undefined);
      }
    });
    this.subscriptions.set(result.subscription, queue);
    // Pushes that came in with the reply, before this subscription was known: in the order they came.
    const early = this.earlyPushes.filter((push) => push.subscription === result.subscription);
    if (early.length > 0) {
      this.earlyPushes.splice(0, this.earlyPushes.length, ...this.earlyPushes.filter((push) => push.subscription !== result.subscription));
      for (const push of early) queue.put(push);
    }
    return queue;
  }

  /** True once the connection is gone (closed by either side). */
  get isClosed(): boolean {
    return this.closedError !== null;
  }

  /** Resolves when the connection closes. */
  closed(): Promise<void> {
    if (this.closedError !== null) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): Promise<void> {
    const done = this.closed();
    if (this.outgoing.length > 0) this.flush();
    this.socket.end();
    return done;
  }

  private receive(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // the daemon only writes JSON; ignore noise rather than fail every request
    }
    if (typeof message.subscription === "string" && !("ok" in message)) {
      const push = message as unknown as Push;
      const queue = this.subscriptions.get(push.subscription);
      if (queue !== undefined) queue.put(push);
      else if (this.earlyPushes.length < MAX_EARLY_PUSHES) this.earlyPushes.push(push);
      return;
    }
    if (message.ok === undefined && message.id === undefined && this.handlerCalls.receive(message)) return;
    const id = message.id;
    const pending = typeof id === "number" ? this.pending.get(id) : undefined;
    if (pending === undefined) return;
    this.pending.delete(id as number);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.resolve(message as unknown as Reply);
  }

  private fail(err: Error): void {
    if (this.closedError !== null) return;
    this.closedError = err;
    for (const pending of this.pending.values()) {
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.pending.clear();
    for (const queue of this.subscriptions.values()) queue.end();
    this.handlerCalls.closeAll();
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }
}

export interface Subscription extends AsyncIterable<Push> {
  readonly id: string;
  /** The daemon's event seq when the subscription began. */
  readonly seq: number;
  /** With sinceSeq: events after it were no longer held by the daemon, so the replay may lack some. */
  readonly missed: boolean;
  /** Ends the subscription; iteration finishes after what was already received. */
  close(): void;
}

class SubscriptionQueue implements Subscription {
  private readonly items: Push[] = [];
  private waiting: ((result: IteratorResult<Push>) => void) | null = null;
  private ended = false;

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly missed: boolean,
    private readonly onClose: () => void,
  ) {}

  put(push: Push): void {
    if (this.ended) return;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: push, done: false });
    } else {
      this.items.push(push);
    }
    // The daemon ends a subscription after dropping it; so does the iterator, after this push.
    if (push.event === "monitor:dropped") this.end();
  }

  end(): void {
    this.ended = true;
    if (this.waiting !== null && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  close(): void {
    if (this.ended) return;
    this.end();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<Push> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

function unreachable(socketPath: string, err: NodeJS.ErrnoException): DaemonUnreachableError {
  const why =
    err.code === "ENOENT"
      ? `no socket at ${socketPath}`
      : err.code === "ECONNREFUSED"
        ? `nothing listens on ${socketPath} (a stale socket from a stopped daemon)`
        : `cannot connect to ${socketPath}: ${err.message}`;
  return new DaemonUnreachableError(socketPath, `patternd is not running: ${why}. Start it with \`pat start\`, or \`npm start\` in the foreground.`);
}
