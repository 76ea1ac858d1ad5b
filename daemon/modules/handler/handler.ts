/**
 * handler:register / reply / unregister / list: any connected process owns
 * events (issue 14). Requests for an owned event reach the handler as a
 * handler:call push and are answered with its handler:reply; the daemon
 * looks owned events up through the registry's event source, so they are
 * validated, routed, logged and described like built-in ones.
 */
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { DaemonError, type ErrorCode } from "../../core/errors.js";
import { defineEvent, type EventDef, type HandlerContext } from "../../core/event.js";
import type { Module, ModuleContext } from "../../core/module.js";
import type { EventSource } from "../../core/registry.js";
import type { Session } from "../../core/session.js";
import { EMIT_LIMITS } from "../event/event.js";
import { Calls, type Call, type CallOutcome } from "./calls.js";
import { collect, type CollectResult, type CollectSpec } from "./collect.js";
import { chooseMember } from "./model/choose.js";
import { checkSchema, validate, type JsonSchema } from "./model/json-schema.js";
import { isOwned, Registration, Registrations, type Mode, type Route } from "./registrations.js";

export const HANDLER_LIMITS = {
  defaultTimeoutMs: 30_000,
  maxTimeoutMs: 600_000,
  defaultQueue: 1_000,
  maxQueue: 100_000,
  maxConcurrency: 1_000,
} as const;

/** What other modules (event:emit) use. */
export interface HandlerService {
  /** Does a connected handler answer `event` (an exclusive owner or a group)? */
  owns(event: string): boolean;
  /** Shows an event nobody answers to the handlers observing it. */
  observe(event: string, data: Record<string, unknown>, agentId: string | undefined): void;
  /** All-of: every answering handler is called; no_handler when there is none. */
  collect(event: string, data: Record<string, unknown>, ctx: HandlerContext, spec: CollectSpec): Promise<CollectResult>;
  /** The event names and globs that connected handlers answer (observers left out), sorted, once each: what other daemons may call here (issue 19). */
  answered(): string[];
  /** Calls `listener` after each registration and each end of one. */
  onRegistrationsChanged(listener: () => void): void;
}

const eventPattern = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.*-]+(:[A-Za-z0-9_.*-]+)*$/, "event names are colon-separated segments of letters, digits, _ . - (and * or ** in a glob)");

const registerParams = z
  .strictObject({
    events: z.array(eventPattern).min(1).max(64).describe("event names or globs (`task:*` one segment, `task:**` any rest); the first segment is written out"),
    mode: z.enum(["exclusive", "group", "observe"]).optional().describe("exclusive: the one owner; group: one member answers each call; observe: sees calls, never answers (default: group when group is given, else exclusive)"),
    group: z.string().min(1).max(128).optional().describe("the group's name (mode group; default: default)"),
    concurrency: z.number().int().min(1).max(HANDLER_LIMITS.maxConcurrency).default(1).describe("calls pushed to this handler at once; more wait in its queue"),
    timeout_ms: z.number().int().min(1).max(HANDLER_LIMITS.maxTimeoutMs).default(HANDLER_LIMITS.defaultTimeoutMs).describe("a call not answered by then fails with timeout and the handler gets handler:cancel"),
    max_queue: z.number().int().min(0).max(HANDLER_LIMITS.maxQueue).default(HANDLER_LIMITS.defaultQueue).describe("calls that may wait for a free slot; past it, callers get limit_exceeded"),
    params: z.record(z.string(), z.unknown()).optional().describe("JSON Schema of the event's data (a safe subset); callers are checked against it and system:discover shows it"),
    description: z.string().max(4_000).optional().describe("shown by system:discover and system:help; its first line is the summary"),
  })
  .refine((d) => d.group === undefined || d.mode === undefined || d.mode === "group", { message: "group goes with mode group", path: ["group"] });

const replyParams = z
  .strictObject({
    call_id: z.string().min(1).max(64),
    ok: z.boolean(),
    data: z.unknown().optional().describe("the result (ok: true)"),
    error: z
      .strictObject({
        code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "a code is snake_case, e.g. not_found"),
        message: z.string().max(4_096),
        details: z.record(z.string(), z.unknown()).optional(),
      })
      .optional()
      .describe("what went wrong (ok: false); passed to the caller as its error"),
  })
  .refine((d) => (d.ok ? d.error === undefined : d.error !== undefined), { message: "ok: true goes with data, ok: false with error", path: ["error"] });

export function handlerModule(ctx: ModuleContext): Module & { service: HandlerService } {
  const log = ctx.log.child({ module: "handler" });
  const table = new Registrations();
  const calls = new Calls(ctx.clock, log, "c");
  const definitions = new WeakMap<Route, EventDef>();
  const sessions = new Map<Session, Registration[]>();
  const watchedCallers = new WeakSet<Session>();
  const changeListeners: (() => void)[] = [];
  let nextHandler = 0;

  function registrationsChanged(): void {
    for (const listener of changeListeners) {
      try {
        listener();
      } catch (err) {
        log.error({ err }, "registration listener failed");
      }
    }
  }

  const source: EventSource = {
    get(name) {
      const route = table.route(name);
      if (!isOwned(route)) return undefined;
      let def = definitions.get(route);
      if (def === undefined) {
        def = externalEvent(route);
        definitions.set(route, def);
      }
      return def;
    },
    names: () => table.ownedNames(),
  };

  function externalEvent(route: Route): EventDef {
    const schema = route.params;
    const summary = route.description?.split("\n")[0]?.trim() || `answered by a connected handler (${ownersOf(route)})`;
    return {
      name: route.event,
      summary,
      description: route.description ?? summary,
      params: schema === undefined ? ANY_DATA : schemaParams(schema),
      jsonSchema: schema ?? { type: "object" },
      handler: (data: Record<string, unknown>, call: HandlerContext) => callOne(route, data, call),
    };
  }

  function callOne(route: Route, data: Record<string, unknown>, call: HandlerContext): Promise<unknown> {
    checkDepth(call.depth);
    if (route.observers.length > 0) observeRoute(route, data, call.agentId);
    const owner = chooseOwner(route);
    if (owner === undefined) throw noHandler(route.event);
    if (call.session !== null) watchCaller(call.session);
    return new Promise((resolve, reject) => {
      const done = (_call: Call, outcome: CallOutcome) => (outcome.ok ? resolve(outcome.data) : reject(asDaemonError(outcome)));
      const started = calls.start(owner, route.event, data, call.agentId, call.depth, call.session, performance.now(), done);
      if (started === null) reject(queueFull(owner));
    });
  }

  function chooseOwner(route: Route): Registration | undefined {
    if (route.exclusive !== undefined) return route.exclusive;
    const index = chooseMember(route.members, loadOf, route.cursor);
    if (index === -1) return undefined;
    route.cursor = index + 1;
    return route.members[index];
  }

  function observeRoute(route: Route, data: Record<string, unknown>, agentId: string | undefined): void {
    for (const observer of route.observers) {
      const { id } = calls.nextId();
      const pushed = observer.session.push({
        event: "handler:call",
        data: { call_id: id, handler_id: observer.id, event: route.event, data, agent_id: agentId, observe: true },
      });
      if (pushed) observer.observed++;
      else observer.dropped++;
    }
  }

  function watchCaller(session: Session): void {
    if (watchedCallers.has(session)) return;
    watchedCallers.add(session);
    // A caller that crashed shows only as the end of its input: nobody will read the answer, so the handler stops working on it.
    session.onInputEnd(() => calls.callerGone(session));
    session.onClose(() => calls.callerGone(session));
  }

  function ownedBy(session: Session | null, handlerId: string, event: string): Registration {
    const registration = table.get(handlerId);
    if (registration === undefined || registration.session !== session) {
      throw new DaemonError("not_found", `${event}: no handler ${handlerId} on this connection; handler:list shows the registrations`);
    }
    return registration;
  }

  const register = defineEvent({
    name: "handler:register",
    summary: "Own events: calls to them are pushed to this connection as handler:call",
    description:
      "Registrations belong to the connection and end with it. A call arrives as a push {event: \"handler:call\", data: {call_id, handler_id, event, data, agent_id, deadline}}; " +
      "answer it with handler:reply. handler:cancel {call_id, reason} is pushed when its deadline passes or its caller goes away. " +
      "exclusive: the one owner (a second is conflict); group: one member per call (fewest in flight, then round robin); observe: sees calls, never answers. " +
      "The daemon's namespaces (system, event, monitor, state, composition, handler) cannot be claimed. " +
      "A params JSON Schema validates callers (invalid_params) and shows in system:discover; supported keywords: type, enum, const, properties, required, " +
      "additionalProperties, items, min/maxItems, uniqueItems, min/maxLength, minimum, maximum, exclusiveMinimum/Maximum, multipleOf, anyOf, oneOf, allOf, not.",
    params: registerParams,
    result: z.object({ handler_id: z.string(), events: z.array(z.string()), mode: z.enum(["exclusive", "group", "observe"]), group: z.string().optional() }),
    example: { events: ["evaluation:score"], mode: "group", group: "scorers", concurrency: 4, timeout_ms: 10_000 },
    handler: (data, call) => {
      const session = requireSession(call, "handler:register");
      if (data.params !== undefined) {
        const issues = checkSchema(data.params).map((issue) => ({ path: issue.path === "" ? "params" : `params.${issue.path}`, message: issue.message }));
        if (issues.length > 0) throw new DaemonError("invalid_params", `invalid data for handler:register at "${issues[0]!.path}": ${issues[0]!.message}`, { issues });
      }
      const mode: Mode = data.mode ?? (data.group !== undefined ? "group" : "exclusive");
      const input = {
        events: [...new Set(data.events)],
        mode,
        group: mode === "group" ? (data.group ?? "default") : undefined,
        concurrency: data.concurrency,
        timeoutMs: data.timeout_ms,
        maxQueue: data.max_queue,
        params: data.params,
        description: data.description,
      };
      const registration = new Registration(`h_${(++nextHandler).toString(36)}`, session, call.agentId, input, ctx.clock.now());
      table.add(registration);
      let own = sessions.get(session);
      if (own === undefined) {
        own = [];
        sessions.set(session, own);
        session.onClose(() => connectionClosed(session));
      }
      own.push(registration);
      log.info({ handler_id: registration.id, events: input.events, mode, group: input.group, connection: session.id }, "handler registered");
      registrationsChanged();
      return { handler_id: registration.id, events: input.events, mode, ...(input.group === undefined ? {} : { group: input.group }) };
    },
  });

  const reply = defineEvent({
    name: "handler:reply",
    summary: "Answer a handler:call: its result (ok: true, data) or its error (ok: false, error: {code, message})",
    description:
      "accepted: false when the call already ended (its deadline passed, its caller left, a collect was over): the late answer is dropped and logged. " +
      "not_found when no call with that id was pushed to this connection.",
    params: replyParams,
    result: z.object({ accepted: z.boolean().describe("false: the call had already ended; the answer was dropped"), reason: z.string().optional() }),
    example: { call_id: "c1", ok: true, data: { score: 0.8 } },
    handler: (data, call) => {
      const outcome: CallOutcome = data.ok
        ? { ok: true, data: data.data ?? null }
        : { ok: false, error: { code: data.error!.code as ErrorCode, message: data.error!.message, ...(data.error!.details === undefined ? {} : { details: data.error!.details }) } };
      const verdict = calls.reply(call.session, data.call_id, outcome);
      if (verdict === "accepted") return ACCEPTED;
      if (verdict === "late") {
        log.info({ call_id: data.call_id, connection: call.session?.id }, "late reply dropped: the call had already ended");
        return LATE;
      }
      throw new DaemonError("not_found", `no call ${data.call_id} waits for an answer from this connection`);
    },
  });

  const unregister = defineEvent({
    name: "handler:unregister",
    summary: "Stop handling: no new calls; calls already pushed may still be answered, calls still queued fail with handler_gone",
    params: z.strictObject({ handler_id: z.string().min(1) }),
    result: z.object({ unregistered: z.literal(true), handler_id: z.string() }),
    example: { handler_id: "h_1" },
    handler: (data, call) => {
      const registration = ownedBy(call.session, data.handler_id, "handler:unregister");
      table.remove(registration.id);
      const own = sessions.get(registration.session);
      if (own !== undefined) own.splice(own.indexOf(registration), 1);
      calls.dropQueued(registration, "was unregistered");
      log.info({ handler_id: registration.id }, "handler unregistered");
      registrationsChanged();
      return { unregistered: true, handler_id: registration.id };
    },
  });

  const list = defineEvent({
    name: "handler:list",
    effect: "read",
    summary: "The registered handlers, with their calls in flight",
    params: z.strictObject({ event: z.string().min(1).max(128).optional().describe("only handlers of this event name") }),
    result: z.object({
      handlers: z.array(
        z.object({
          handler_id: z.string(),
          events: z.array(z.string()),
          mode: z.enum(["exclusive", "group", "observe"]),
          group: z.string().optional(),
          concurrency: z.number().int(),
          timeout_ms: z.number().int(),
          max_queue: z.number().int(),
          in_flight: z.number().int(),
          queued: z.number().int(),
          answered: z.number().int(),
          observed: z.number().int().optional(),
          dropped: z.number().int().optional(),
          connection: z.number().int(),
          agent_id: z.string().optional(),
          since: z.string(),
          description: z.string().optional(),
          params: z.record(z.string(), z.unknown()).optional(),
        }),
      ),
    }),
    example: { event: "evaluation:score" },
    handler: (data) => ({
      handlers: table
        .all()
        .filter((registration) => data.event === undefined || registration.matches(data.event))
        .map((registration) => describeRegistration(registration)),
    }),
  });

  function connectionClosed(session: Session): void {
    const own = sessions.get(session) ?? [];
    sessions.delete(session);
    for (const registration of own) {
      table.remove(registration.id);
      calls.handlerGone(registration, "closed its connection");
    }
    if (own.length > 0) {
      log.info({ connection: session.id, handlers: own.map((r) => r.id) }, "handler connection closed; its registrations ended");
      registrationsChanged();
    }
  }

  const service: HandlerService = {
    owns: (event) => isOwned(table.route(event)),
    observe(event, data, agentId) {
      const route = table.route(event);
      if (route !== undefined && route.observers.length > 0) observeRoute(route, data, agentId);
    },
    collect(event, data, call, spec) {
      checkDepth(call.depth);
      const route = table.route(event);
      if (route !== undefined && route.observers.length > 0) observeRoute(route, data, call.agentId);
      if (!isOwned(route)) return Promise.reject(noHandler(event));
      if (route.params !== undefined) {
        const issues = validate(route.params, data).map((issue) => ({ path: issue.path === "" ? "data" : `data.${issue.path}`, message: issue.message }));
        if (issues.length > 0) return Promise.reject(new DaemonError("invalid_params", `invalid data for ${event} at "${issues[0]!.path}": ${issues[0]!.message}`, { issues }));
      }
      if (call.session !== null) watchCaller(call.session);
      return collect(calls, ctx.clock, { route, event, data, agentId: call.agentId, depth: call.depth, caller: call.session }, spec);
    },
    answered: () => [...new Set(table.all().flatMap((registration) => (registration.input.mode === "observe" ? [] : registration.input.events)))].sort(),
    onRegistrationsChanged: (listener) => void changeListeners.push(listener),
  };

  return {
    name: "handler",
    events: [register, reply, unregister, list],
    eventSource: source,
    service,
    health: () => ({ handlers: { registered: table.size, calls_in_flight: calls.size } }),
  };
}

const ACCEPTED = Object.freeze({ accepted: true });
const LATE = Object.freeze({ accepted: false, reason: "the call had already ended (deadline passed, caller gone, or collect over); the answer was dropped" });

/** Data of an event registered without a schema: any object (the wire guarantees an object). */
const ANY_DATA = z.custom<Record<string, unknown>>(() => true);

function schemaParams(schema: JsonSchema): z.ZodType {
  return z.unknown().superRefine((value, refinement) => {
    for (const issue of validate(schema, value)) refinement.addIssue({ code: "custom", message: issue.message, path: issue.path === "" ? [] : issue.path.split(".") });
  });
}

function describeRegistration(registration: Registration): Record<string, unknown> {
  const { input } = registration;
  return {
    handler_id: registration.id,
    events: input.events,
    mode: input.mode,
    ...(input.group === undefined ? {} : { group: input.group }),
    concurrency: input.concurrency,
    timeout_ms: input.timeoutMs,
    max_queue: input.maxQueue,
    in_flight: registration.running,
    queued: registration.queued,
    answered: registration.answered,
    ...(input.mode === "observe" ? { observed: registration.observed, dropped: registration.dropped } : {}),
    connection: registration.session.id,
    ...(registration.agentId === undefined ? {} : { agent_id: registration.agentId }),
    since: new Date(registration.createdAt).toISOString(),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.params === undefined ? {} : { params: input.params }),
  };
}

function loadOf(registration: Registration): number {
  return registration.load;
}

function ownersOf(route: Route): string {
  return route.exclusive !== undefined ? `exclusive ${route.exclusive.id}` : `group of ${route.members.length}`;
}

function checkDepth(depth: number): void {
  if (depth >= EMIT_LIMITS.maxDepth) {
    throw new DaemonError("limit_exceeded", `call nested ${depth} deep: handlers keep calling each other (limit ${EMIT_LIMITS.maxDepth})`, { limit: EMIT_LIMITS.maxDepth });
  }
}

function noHandler(event: string): DaemonError {
  return new DaemonError("no_handler", `no handler answers ${event}; a process registers one with handler:register (pat handle ${event} -- COMMAND)`, { event });
}

function queueFull(registration: Registration): DaemonError {
  return new DaemonError("limit_exceeded", `handler ${registration.id} already has ${registration.input.maxQueue} calls waiting; retry later`, {
    limit: registration.input.maxQueue,
    handler_id: registration.id,
  });
}

function asDaemonError(outcome: { ok: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } }): DaemonError {
  return new DaemonError(outcome.error.code, outcome.error.message, outcome.error.details);
}

function requireSession(call: HandlerContext, event: string): Session {
  if (call.session === null) throw new DaemonError("invalid_request", `${event} needs a client connection; it cannot be emitted`);
  return call.session;
}
