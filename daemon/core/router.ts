/**
 * Mechanism only: look the event up, validate its data, run its handler,
 * turn what happened into an outcome and publish it on the bus. The one
 * place where thrown errors become wire errors.
 */
import { performance } from "node:perf_hooks";
import type { Bus, RoutedEvent } from "./bus.js";
import type { Clock } from "./clock.js";
import { asUnavailable } from "./disk-fault.js";
import { DaemonError, type WireError } from "./errors.js";
import type { EventDef, HandlerContext } from "./event.js";
import { invalidParams } from "./invalid-params.js";
import type { Log } from "./log.js";
import type { RequestId } from "./protocol.js";
import type { Registry } from "./registry.js";
import type { Session } from "./session.js";

export type Outcome = ({ ok: true; data: unknown } | { ok: false; error: WireError }) & {
  /** The record published on the bus for this dispatch (what listeners saw). */
  routed?: RoutedEvent;
};

export interface Dispatch {
  event: string;
  data: Record<string, unknown>;
  id?: RequestId | null;
  agentId?: string | undefined;
  session?: Session | null;
  depth?: number;
  /** Extra fields recorded with the event in the event log. */
  meta?: Record<string, unknown>;
}

export class Router {
  constructor(
    private readonly registry: Registry,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly log: Log,
    /** Hold every reply to its event's result schema (PATTERND_CHECK_RESULTS=1, set by the tests): a reply that drifts from it is an internal error. */
    private readonly checkResults = false,
  ) {}

  /** Synchronous when the handler is, so the common path costs no promise. */
  dispatch(call: Dispatch): Outcome | Promise<Outcome> {
    const started = performance.now();
    const def = this.registry.get(call.event);
    if (def === undefined) {
      const suggestions = this.registry.suggestionsFor(call.event);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "; system:discover lists the events";
      // An empty list says nothing: left out.
      const details = suggestions.length > 0 ? { details: { suggestions } } : {};
      // A typo in a namespace of built-in events, or an event no connected handler owns right now.
      const error = this.registry.inBuiltInNamespace(call.event)
        ? { code: "unknown_event" as const, message: `no event ${call.event}${hint}`, ...details }
        : {
            code: "no_handler" as const,
            message:
              `no handler owns ${call.event} now; to publish your own event, use event:emit ` +
              `(to answer it, a connected process takes it with handler:register, or pat handle ${call.event} -- COMMAND)${hint}`,
            ...details,
          };
      return this.finish(call, started, { ok: false, error });
    }
    const parsed = def.params.safeParse(call.data);
    if (!parsed.success) {
      return this.finish(call, started, { ok: false, error: invalidParams(call.event, parsed.error, call.data, def.example) });
    }
    const ctx: HandlerContext = {
      agentId: call.agentId ?? call.session?.agentId,
      requestId: call.id ?? null,
      depth: call.depth ?? 0,
      session: call.session ?? null,
    };
    let result: unknown;
    try {
      result = def.handler(parsed.data, ctx);
    } catch (err) {
      return this.finish(call, started, this.failure(call.event, err));
    }
    if (result instanceof Promise) {
      return result.then(
        (data: unknown) => this.finish(call, started, this.success(def, data)),
        (err: unknown) => this.finish(call, started, this.failure(call.event, err)),
      );
    }
    return this.finish(call, started, this.success(def, result));
  }

  private success(def: EventDef, data: unknown): Outcome {
    if (!this.checkResults || def.result === undefined) return { ok: true, data };
    const checked = def.result.safeParse(data);
    if (checked.success) return { ok: true, data };
    const issues = checked.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
    this.log.error({ event: def.name, issues }, "reply does not match the event's result schema");
    const first = issues[0]!;
    return {
      ok: false,
      error: { code: "internal", message: `the reply of ${def.name} does not match its result schema at "${first.path}": ${first.message}`, details: { issues } },
    };
  }

  private failure(event: string, err: unknown): Outcome {
    if (err instanceof DaemonError) return { ok: false, error: err.toWire() };
    // A full or read-only disk the I/O layer did not name: still refused as such, never a bug.
    const fault = asUnavailable(err);
    if (fault instanceof DaemonError) return { ok: false, error: fault.toWire() };
    this.log.error({ err, event }, "handler failed");
    return {
      ok: false,
      error: { code: "internal", message: `internal error while handling ${event}; the daemon log has the details` },
    };
  }

  private finish(call: Dispatch, started: number, outcome: Outcome): Outcome {
    // One object shape for every record: this runs once per request.
    outcome.routed = this.bus.publish({
      ts: this.clock.now(),
      event: call.event,
      id: call.id ?? null,
      agentId: call.agentId ?? call.session?.agentId,
      ok: outcome.ok,
      code: outcome.ok ? undefined : outcome.error.code,
      ms: performance.now() - started,
      data: call.data,
      meta: call.meta,
    });
    return outcome;
  }
}
