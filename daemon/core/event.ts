/**
 * One event, one definition: name, schema, summary and handler together.
 * Validation, types, discover/help and CLI argument typing derive from it.
 */
import type { z } from "zod";
import type { RequestId } from "./protocol.js";
import type { Session } from "./session.js";

export interface HandlerContext {
  /** The caller: the request's agent_id, else the connection's (system:hello). */
  readonly agentId: string | undefined;
  readonly requestId: RequestId | null;
  /** 0 for a client's request; each emit issued while handling an emitted event adds one. */
  readonly depth: number;
  /** The connection the request came on; null for events the daemon dispatches itself. */
  readonly session: Session | null;
}

/**
 * What answering an event does to the daemon's durable state: read changes
 * nothing (a connection's own subscriptions and name aside), write adds or
 * changes what can be recovered (git keeps every version), destroy removes
 * or overwrites what cannot be. Bridges (pat mcp) map it to their hints and
 * read-only modes; an event that does not say is a write.
 */
export type EventEffect = "read" | "write" | "destroy";

export interface EventDef<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly summary: string;
  readonly effect?: EventEffect;
  readonly description?: string;
  readonly params: Schema;
  readonly example?: z.input<Schema>;
  /**
   * What a successful reply's data holds: system:help, system:discover and
   * docs/protocol.md show it, so an agent need not guess a reply's fields.
   * Every built-in event declares one (a test holds them to it, and
   * PATTERND_CHECK_RESULTS=1 checks every reply against it); events that
   * connected processes register have none.
   */
  readonly result?: z.ZodType;
  /**
   * The params' JSON Schema when it is not derived from `params`: events
   * that connected processes register bring their own (issue 14).
   */
  readonly jsonSchema?: Record<string, unknown>;
  // Method syntax keeps handlers assignable to the erased EventDef in the registry.
  handler(data: z.output<Schema>, ctx: HandlerContext): unknown;
}

export function defineEvent<Schema extends z.ZodType>(def: EventDef<Schema>): EventDef<Schema> {
  return def;
}
