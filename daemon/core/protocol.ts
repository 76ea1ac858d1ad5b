/**
 * Wire messages of SPEC §2: one JSON object per line. Pure: parsing a line
 * into a request (or the error that answers it) and encoding replies.
 */
import type { WireError } from "./errors.js";
import { jsonErrorPosition } from "./json-position.js";

export type RequestId = string | number;
export type IdKey = "id" | "correlation_id";

export interface Request {
  event: string;
  data: Record<string, unknown>;
  id: RequestId | null;
  /** The key the client used for its id; the reply echoes the same key. */
  idKey: IdKey;
  agentId: string | undefined;
}

export interface SuccessReply {
  event: string;
  id?: RequestId | null;
  correlation_id?: RequestId | null;
  ok: true;
  data: unknown;
}

export interface ErrorReply {
  event: string | null;
  id?: RequestId | null;
  correlation_id?: RequestId | null;
  ok: false;
  error: WireError;
}

export type Reply = SuccessReply | ErrorReply;

export interface Push {
  event: string;
  data: unknown;
  subscription: string;
  seq: number;
  ts: string;
  /** The id of the daemon the event came from, for an event imported through NATS (issue 19); absent for this daemon's own. */
  origin?: string;
}

/** A push that belongs to no subscription (e.g. a call to a connected handler): only event and data. */
export interface DirectPush {
  event: string;
  data: unknown;
}

export type ParsedLine =
  | { ok: true; request: Request }
  | { ok: false; event: string | null; id: RequestId | null; idKey: IdKey; error: WireError };

export function parseRequest(line: string, maxDepth: number): ParsedLine {
  if (exceedsDepth(line, maxDepth)) {
    return fail(null, null, "id", {
      code: "invalid_request",
      message: `JSON nested deeper than ${maxDepth} levels`,
      details: { max_depth: maxDepth },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return fail(null, null, "id", {
      code: "invalid_json",
      message: `line is not valid JSON: ${(err as Error).message}`,
      details: { position: jsonErrorPosition(line) },
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(null, null, "id", {
      code: "invalid_request",
      message: `a request must be a JSON object, got ${describe(value)}`,
    });
  }
  const msg = value as Record<string, unknown>;
  const idKey: IdKey = "id" in msg || !("correlation_id" in msg) ? "id" : "correlation_id";
  const rawId = msg[idKey];
  const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  const event = typeof msg.event === "string" ? msg.event : null;
  if (rawId !== undefined && rawId !== null && id === null) {
    return fail(event, null, idKey, {
      code: "invalid_request",
      message: `"${idKey}" must be a string or a number, got ${describe(rawId)}`,
    });
  }
  if (event === null || event.length === 0) {
    return fail(null, id, idKey, {
      code: "invalid_request",
      message:
        msg.event === undefined
          ? 'missing "event": a request needs an event name, e.g. {"event": "system:health"}'
          : `"event" must be a non-empty string, got ${describe(msg.event)}`,
    });
  }
  const data = msg.data === undefined ? {} : msg.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return fail(event, id, idKey, {
      code: "invalid_request",
      message: `"data" must be a JSON object, got ${describe(data)}`,
    });
  }
  // JSON.parse keeps a "__proto__" key as an own property, but every later copy or
  // schema pass drops it (or worse): refuse it rather than lose it silently.
  // The key may be written with \u escapes, hence the second test.
  if (line.includes("__proto__") || line.includes("\\u")) {
    const path = protoKeyPath(data);
    if (path !== null) {
      return fail(event, id, idKey, {
        code: "invalid_params",
        message: `data has a key named "__proto__" at "${path}"; rename it`,
        details: { issues: [{ path, message: 'keys named "__proto__" are not accepted' }] },
      });
    }
  }
  const agentId = msg.agent_id;
  if (agentId !== undefined && agentId !== null && typeof agentId !== "string") {
    return fail(event, id, idKey, {
      code: "invalid_request",
      message: `"agent_id" must be a string, got ${describe(agentId)}`,
    });
  }
  return {
    ok: true,
    request: { event, data: data as Record<string, unknown>, id, idKey, agentId: agentId ?? undefined },
  };
}

export function successReply(event: string, idKey: IdKey, id: RequestId | null, data: unknown): SuccessReply {
  return idKey === "id" ? { event, id, ok: true, data } : { event, correlation_id: id, ok: true, data };
}

export function errorReply(event: string | null, idKey: IdKey, id: RequestId | null, error: WireError): ErrorReply {
  return idKey === "id" ? { event, id, ok: false, error } : { event, correlation_id: id, ok: false, error };
}

export function encode(message: Reply | Push | DirectPush | Record<string, unknown>): string {
  return JSON.stringify(message) + "\n";
}

/**
 * `encode(successReply(event, idKey, id, data))`, the same text, built
 * around the data's JSON: no envelope object to make and walk for every
 * reply. Throws where stringify does (a cycle, a BigInt).
 */
export function encodeSuccess(event: string, idKey: IdKey, id: RequestId | null, data: unknown): string {
  const json = JSON.stringify(data) as string | undefined;
  // Data JSON cannot carry (undefined, a function) is left out, as stringify leaves out such a key.
  const tail = json === undefined ? "}\n" : `,"data":${json}}\n`;
  return `{"event":${JSON.stringify(event)},"${idKey}":${JSON.stringify(id)},"ok":true${tail}`;
}

function fail(event: string | null, id: RequestId | null, idKey: IdKey, error: WireError): ParsedLine {
  return { ok: false, event, id, idKey, error };
}

/** Dotted path of the first "__proto__" own key under `root`, or null. Iterative: depth is bounded but not tiny. */
function protoKeyPath(root: unknown): string | null {
  const stack: { node: unknown; path: string }[] = [{ node: root, path: "" }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    for (const key of Object.keys(node)) {
      const child = path === "" ? key : `${path}.${key}`;
      if (key === "__proto__") return child;
      stack.push({ node: (node as Record<string, unknown>)[key], path: child });
    }
  }
  return null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * True when brackets nest deeper than `limit` outside strings. Checked before
 * JSON.parse so that a hostile line never reaches recursive code (stringify,
 * schema validation) that could overflow the stack.
 */
export function exceedsDepth(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
