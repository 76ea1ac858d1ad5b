/**
 * What crosses NATS (pure, issue 19): an exported event's body, the call
 * and reply bodies, and the rules that keep events from looping. Headers
 * carry who sent a message (`Patternd-Origin`, the sending daemon's id) and
 * its seq there; bodies are JSON objects, read defensively: a message from
 * the network that is too large or malformed is refused, never thrown.
 */
import type { ErrorCode, WireError } from "../../../core/errors.js";

export const ORIGIN_HEADER = "Patternd-Origin";
export const SEQ_HEADER = "Patternd-Seq";

/** An exported event as published. */
export interface EventBody {
  data: unknown;
  /** Epoch ms when the origin routed it. */
  ts: number;
  agent_id?: string;
}

/** A call to a handler on another daemon. */
export interface CallBody {
  data: Record<string, unknown>;
  agent_id?: string;
  /** The emit depth of the call on the caller's daemon (loop safety spans machines). */
  depth: number;
}

export type ReplyBody = { ok: true; data: unknown } | { ok: false; error: WireError };

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Should a routed event be exported? Only what succeeded (what subscribers
 * see), only what matches the export globs, and never an event that came
 * from another daemon (`meta.origin`): re-exporting those is how two
 * daemons that export and import the same names would echo forever.
 */
export function exportable(event: { ok: boolean; event: string; meta?: Record<string, unknown> | undefined }, matches: (name: string) => boolean): boolean {
  return event.ok && event.meta?.origin === undefined && matches(event.event);
}

/** Should a received message be dropped because this daemon sent it (a daemon that imports what it exports hears itself)? */
export function isOwnMessage(origin: string | undefined, self: string): boolean {
  return origin === self;
}

export function decodeEvent(bytes: Uint8Array, maxBytes: number): Decoded<EventBody> {
  const parsed = parseObject(bytes, maxBytes);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (!("data" in body)) return { ok: false, problem: "no data field" };
  if (typeof body.ts !== "number" || !Number.isFinite(body.ts)) return { ok: false, problem: "ts is not a number" };
  if (body.agent_id !== undefined && typeof body.agent_id !== "string") return { ok: false, problem: "agent_id is not a string" };
  return { ok: true, value: body as unknown as EventBody };
}

export function decodeCall(bytes: Uint8Array, maxBytes: number): Decoded<CallBody> {
  const parsed = parseObject(bytes, maxBytes);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (!isObject(body.data)) return { ok: false, problem: "data is not an object" };
  if (!Number.isInteger(body.depth) || (body.depth as number) < 0) return { ok: false, problem: "depth is not a whole number ≥ 0" };
  if (body.agent_id !== undefined && typeof body.agent_id !== "string") return { ok: false, problem: "agent_id is not a string" };
  return { ok: true, value: body as unknown as CallBody };
}

export function decodeReply(bytes: Uint8Array, maxBytes: number): Decoded<ReplyBody> {
  const parsed = parseObject(bytes, maxBytes);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (body.ok === true) return { ok: true, value: { ok: true, data: body.data ?? null } };
  const error = body.error;
  if (body.ok !== false || !isObject(error) || typeof error.code !== "string" || typeof error.message !== "string") {
    return { ok: false, problem: "neither {ok: true, data} nor {ok: false, error: {code, message}}" };
  }
  // The remote daemon's code is passed on as it came (a handler's own codes included, as handler:reply passes them).
  const wire: WireError = { code: error.code as ErrorCode, message: error.message };
  if (isObject(error.details)) wire.details = error.details;
  return { ok: true, value: { ok: false, error: wire } };
}

function parseObject(bytes: Uint8Array, maxBytes: number): Decoded<Record<string, unknown>> {
  if (bytes.length > maxBytes) return { ok: false, problem: `${bytes.length} bytes, over the limit of ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, problem: "not valid JSON" };
  }
  return isObject(value) ? { ok: true, value } : { ok: false, problem: "not a JSON object" };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
