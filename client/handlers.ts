/**
 * The handler side of the client (issue 14): runs the registered function
 * for each handler:call push and answers with handler:reply; handler:cancel
 * aborts the call's signal. Kept light per call: the AbortController is
 * made only when a function asks for the signal.
 */
import type { ErrorCode } from "../daemon/core/errors.js";

export interface HandleOptions {
  mode?: "exclusive" | "group" | "observe";
  group?: string;
  concurrency?: number;
  timeoutMs?: number;
  maxQueue?: number;
  /** JSON Schema of the event's data: callers are checked against it, system:discover shows it. */
  params?: Record<string, unknown>;
  description?: string;
}

export interface Handler {
  /** The handler_id the daemon gave. */
  readonly id: string;
  /** Unregisters: no new calls (calls already pushed still run and are answered). */
  close(): Promise<void>;
}

export type HandlerFunction = (data: Record<string, unknown>, call: HandlerCall) => unknown;

/** A function throws this to answer with a chosen error code (anything else answers `handler_error`). */
export class HandlerError extends Error {
  constructor(
    readonly code: ErrorCode | (string & {}),
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "HandlerError";
  }
}

/** What a handler function learns about its call besides the data. */
export class HandlerCall {
  private controller: AbortController | null = null;
  private cancelReason: string | null = null;

  constructor(
    readonly callId: string,
    readonly handlerId: string,
    readonly event: string,
    readonly agentId: string | undefined,
    /** ISO time after which the caller no longer waits (absent for observers). */
    readonly deadline: string | undefined,
    /** True for an observer: its result is not sent anywhere. */
    readonly observe: boolean,
  ) {}

  /** Aborted when the daemon cancels the call (deadline passed, caller gone, collect over); `reason` says which. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.cancelReason !== null && !this.controller.signal.aborted) this.controller.abort(this.cancelReason);
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.cancelReason !== null;
  }

  /** @internal */
  cancel(reason: string): void {
    this.cancelReason = reason;
    this.controller?.abort(reason);
  }
}

/** Calls pushed for a handler whose register reply has not been read yet are held, up to this many. */
const MAX_EARLY_CALLS = 10_000;

export class HandlerCalls {
  private readonly functions = new Map<string, HandlerFunction>();
  private readonly running = new Map<string, HandlerCall>();
  private early: Record<string, unknown>[] = [];

  constructor(private readonly write: (line: string) => void) {}

  add(handlerId: string, fn: HandlerFunction): void {
    this.functions.set(handlerId, fn);
    if (this.early.length === 0) return;
    const held = this.early;
    this.early = [];
    for (const data of held) this.call(data);
  }

  remove(handlerId: string): void {
    this.functions.delete(handlerId);
  }

  /** Takes a handler:call or handler:cancel push; false for any other message. */
  receive(message: Record<string, unknown>): boolean {
    const data = message.data as Record<string, unknown> | undefined;
    if (typeof data !== "object" || data === null) return false;
    if (message.event === "handler:call") {
      this.call(data);
      return true;
    }
    if (message.event === "handler:cancel") {
      this.running.get(data.call_id as string)?.cancel(typeof data.reason === "string" ? data.reason : "cancelled");
      return true;
    }
    return false;
  }

  closeAll(): void {
    for (const call of this.running.values()) call.cancel("connection_closed");
    this.running.clear();
  }

  private call(data: Record<string, unknown>): void {
    const handlerId = data.handler_id as string;
    const fn = this.functions.get(handlerId);
    if (fn === undefined) {
      if (this.early.length < MAX_EARLY_CALLS) this.early.push(data);
      return;
    }
    const call = new HandlerCall(
      data.call_id as string,
      handlerId,
      data.event as string,
      data.agent_id as string | undefined,
      data.deadline as string | undefined,
      data.observe === true,
    );
    if (!call.observe) this.running.set(call.callId, call);
    let result: unknown;
    try {
      result = fn((data.data ?? {}) as Record<string, unknown>, call);
    } catch (err) {
      this.answer(call, false, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.answer(call, true, value),
        (err: unknown) => this.answer(call, false, err),
      );
    } else this.answer(call, true, result);
  }

  private answer(call: HandlerCall, ok: boolean, value: unknown): void {
    if (call.observe) return;
    this.running.delete(call.callId);
    // A cancelled call's answer would only be dropped as late.
    if (call.cancelled) return;
    let line: string;
    try {
      line = JSON.stringify({ event: "handler:reply", data: ok ? { call_id: call.callId, ok: true, data: value ?? null } : { call_id: call.callId, ok: false, error: errorOf(value) } });
    } catch (err) {
      line = JSON.stringify({ event: "handler:reply", data: { call_id: call.callId, ok: false, error: { code: "handler_error", message: `the result could not be sent as JSON: ${(err as Error).message}` } } });
    }
    // Sent without an id: the daemon's acknowledgement is not waited for.
    this.write(line + "\n");
  }
}

function errorOf(err: unknown): { code: string; message: string; details?: Record<string, unknown> } {
  if (err instanceof HandlerError) return err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details };
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { code: typeof code === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : "handler_error", message: message.slice(0, 4_000) || "the handler failed" };
}
