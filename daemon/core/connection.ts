/**
 * One client connection: frames lines, answers them in request order
 * (pipelining), writes replies and pushes in batches, and honours
 * backpressure in both directions.
 */
import type { Socket } from "node:net";
import type { Limits } from "../config.js";
import type { WireError } from "./errors.js";
import { LineSplitter } from "./framing.js";
import type { Log } from "./log.js";
import { encode, encodeSuccess, errorReply, parseRequest, type DirectPush, type IdKey, type Push, type RequestId } from "./protocol.js";
import type { Outcome, Router } from "./router.js";
import type { Session } from "./session.js";

interface Slot {
  text: string | null;
}

/**
 * Output is batched into one socket write per turn, except that this much
 * is written at once: a burst of pushes then reaches the socket (and the
 * client) while it is being produced, instead of piling up in memory.
 */
const WRITE_NOW_CHARS = 64 * 1024;

export class Connection implements Session {
  agentId: string | undefined;
  nesting = 0;
  private readonly splitter: LineSplitter;
  /** Replies not yet written, in request order; a null text is still being handled. */
  private readonly slots: Slot[] = [];
  private out: string[] = [];
  /** Length of the texts in `out`, kept as they come and go: a push checks the queue limit in O(1). */
  private outChars = 0;
  private flushScheduled = false;
  private writeBlocked = false;
  private readPaused = false;
  private closed = false;
  /** Set after a too_large line: close once the replies before it are written. */
  private ending = false;
  private readonly closeCallbacks: (() => void)[] = [];
  private readonly inputEndCallbacks: (() => void)[] = [];
  private inputEnded = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly router: Router,
    private readonly limits: Limits,
    private readonly log: Log,
    private readonly isStopping: () => boolean,
  ) {
    this.splitter = new LineSplitter(limits.maxLineBytes);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("drain", () => {
      this.writeBlocked = false;
      this.updateReading();
    });
    // The client has sent all it will: answer what it asked, then close our side.
    socket.on("end", () => {
      this.inputEnded = true;
      for (const callback of this.inputEndCallbacks.splice(0)) callback();
      void this.idle().then(() => this.close());
    });
    socket.on("error", (err) => this.log.debug({ err, connection: id }, "connection error"));
    socket.on("close", () => this.onSocketClose());
  }

  push(message: Push | DirectPush, force = false): boolean {
    if (this.closed) return false;
    if (!force && this.queuedBytes() > this.limits.maxQueuedBytes) return false;
    this.write(encode(message));
    return true;
  }

  onClose(callback: () => void): void {
    if (this.closed) callback();
    else this.closeCallbacks.push(callback);
  }

  onInputEnd(callback: () => void): void {
    if (this.inputEnded || this.closed) callback();
    else this.inputEndCallbacks.push(callback);
  }

  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void> {
    if (this.slots.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes once the client has it. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end(() => this.socket.destroy());
  }

  /** Closes now, whatever is still queued (a client that does not read). */
  destroy(): void {
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.splitter.push(chunk)) {
      if (frame.kind === "overflow") {
        this.rejectOversized(frame.limit);
        return;
      }
      if (frame.line.trim() === "") continue;
      this.handleLine(frame.line);
    }
    this.updateReading();
  }

  private handleLine(line: string): void {
    const parsed = parseRequest(line, this.limits.maxDepth);
    if (!parsed.ok) {
      this.answerNow(encode(errorReply(parsed.event, parsed.idKey, parsed.id, parsed.error)));
      return;
    }
    const { request } = parsed;
    if (this.isStopping()) {
      const error: WireError = { code: "shutting_down", message: "the daemon is stopping; retry after it restarts" };
      this.answerNow(encode(errorReply(request.event, request.idKey, request.id, error)));
      return;
    }
    const outcome = this.router.dispatch({
      event: request.event,
      data: request.data,
      id: request.id,
      agentId: request.agentId,
      session: this,
      depth: this.nesting,
    });
    if (!(outcome instanceof Promise)) {
      this.answerNow(encodeOutcome(request.event, request.idKey, request.id, outcome));
      return;
    }
    const slot: Slot = { text: null };
    this.slots.push(slot);
    void outcome.then((result) => {
      slot.text = encodeOutcome(request.event, request.idKey, request.id, result);
      this.releaseReadySlots();
    });
  }

  /** A reply that is ready now: written at once unless earlier replies are still pending. */
  private answerNow(text: string): void {
    if (this.slots.length === 0) this.write(text);
    else this.slots.push({ text });
  }

  private releaseReadySlots(): void {
    while (this.slots.length > 0 && this.slots[0]!.text !== null) {
      this.write(this.slots.shift()!.text!);
    }
    if (this.slots.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.endIfDone();
    this.updateReading();
  }

  private rejectOversized(limit: number): void {
    const error: WireError = {
      code: "too_large",
      message: `request line exceeds ${limit} bytes; the connection is closed`,
      details: { limit },
    };
    this.log.warn({ connection: this.id, limit }, "request line too large; closing connection");
    this.ending = true;
    this.answerNow(encode(errorReply(null, "id", null, error)));
    this.endIfDone();
  }

  private endIfDone(): void {
    if (!this.ending || this.slots.length > 0 || this.closed) return;
    this.flush();
    // Keep reading (and discarding) so the client can finish its write and see the reply.
    this.socket.end(() => this.socket.destroy());
  }

  private write(text: string): void {
    if (this.closed) return;
    this.out.push(text);
    this.outChars += text.length;
    if (this.outChars >= WRITE_NOW_CHARS) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Batch the replies of one burst of lines into a single socket write.
      process.nextTick(() => this.flush());
    }
  }

  /** Writes the replies and pushes queued for this turn now (Bus.settle). */
  writeQueued(): void {
    if (this.out.length > 0) this.flush();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.closed || this.socket.destroyed) {
      this.out = [];
      this.outChars = 0;
      return;
    }
    const text = this.out.length === 1 ? this.out[0]! : this.out.join("");
    this.out = [];
    this.outChars = 0;
    if (!this.socket.write(text)) {
      this.writeBlocked = true;
      this.updateReading();
    }
  }

  /** Output not yet taken by the kernel: what the socket holds plus what waits for this turn's write. */
  private queuedBytes(): number {
    return this.socket.writableLength + this.outChars;
  }

  /** Stop reading while the client does not read its replies or too many requests are in flight. */
  private updateReading(): void {
    if (this.closed) return;
    const shouldPause = this.writeBlocked || this.slots.length >= this.limits.maxPendingRequests;
    if (shouldPause && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private onSocketClose(): void {
    this.closed = true;
    this.out = [];
    this.outChars = 0;
    for (const callback of this.closeCallbacks.splice(0)) {
      try {
        callback();
      } catch (err) {
        this.log.error({ err, connection: this.id }, "close callback failed");
      }
    }
    // Requests still in flight finish on their own; their replies are dropped.
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function encodeOutcome(event: string, idKey: IdKey, id: RequestId | null, outcome: Outcome): string {
  try {
    return outcome.ok ? encodeSuccess(event, idKey, id, outcome.data) : encode(errorReply(event, idKey, id, outcome.error));
  } catch {
    // A handler returned something JSON cannot carry (a cycle, a BigInt): a bug, reported as one.
    const error: WireError = { code: "internal", message: `internal error: the result of ${event} could not be encoded` };
    return encode(errorReply(event, idKey, id, error));
  }
}
