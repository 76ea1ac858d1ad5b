/** event:emit / cancel / scheduled: emit any event now, later, or only if a condition holds. */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent, type HandlerContext } from "../../core/event.js";
import { performance } from "node:perf_hooks";
import { compileGlob } from "../../core/glob.js";
import type { Module, ModuleContext } from "../../core/module.js";
import { DAEMON_NAMESPACES } from "../daemon-namespaces.js";
import type { HandlerService } from "../handler/handler.js";
import { REDUCE_PATTERN } from "../handler/model/reduce.js";
import type { StateView } from "../state/state.js";
import { checkRule, evaluateCondition } from "../../core/json-logic.js";
import { ruleParam } from "../../core/rule-param.js";
import type { Schedule } from "./schedule-book.js";
import { Scheduler } from "./scheduler.js";

export const EMIT_LIMITS = {
  /** Emits nested inside the handling of emitted events. */
  maxDepth: 16,
  maxPending: 100_000,
  maxDelaySeconds: 30 * 24 * 60 * 60,
} as const;


const eventName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/, "event names are colon-separated segments of letters, digits, _ . -");

const CONDITION_EXAMPLE = { "!=": [{ var: "state.run_1.status" }, "done"] };
const condition = ruleParam({ example: CONDITION_EXAMPLE });

/**
 * How far behind the daemon's clock an `at` may lie and still count as
 * now: a client whose clock runs a little behind, or whose request took a
 * moment, is not in the past. Beyond it, an `at` is refused unless
 * allow_past says to fire it at once.
 */
export const PAST_TOLERANCE_MS = 1_000;

const emitParams = z
  .strictObject({
    event: eventName.describe("the event to emit"),
    data: z.record(z.string(), z.unknown()).default({}).describe("its data"),
    delay: z.number().nonnegative().optional().describe("seconds from now (fractions allowed, at most 30 days)"),
    at: z.iso.datetime({ offset: true }).optional().describe("ISO-8601 time to emit at; more than 1 s in the past is refused unless allow_past"),
    allow_past: z.boolean().optional().describe("with at: a time in the past fires at once (as a schedule due now) instead of being refused"),
    condition: condition
      .optional()
      .describe(`JSON Logic rule over {data, event, now, state, agent_id}, checked when it would fire; an object such as ${JSON.stringify(CONDITION_EXAMPLE)}, or true/false`),
    key: z.string().min(1).max(256).optional().describe("a pending schedule with the same key is replaced"),
    collect: z
      .strictObject({
        max: z.number().int().min(1).max(10_000).optional().describe("stop after this many answers"),
        wait_ms: z.number().int().min(0).max(600_000).optional().describe("stop after this long (default: when every handler answered or timed out)"),
        reduce: z
          .string()
          .regex(REDUCE_PATTERN, 'one of "all", "first", "highest:<dotted.path>", "majority:<dotted.path>"')
          .optional()
          .describe('"all" | "first" | "highest:<dotted.path>" | "majority:<dotted.path>"'),
      })
      .optional()
      .describe("all-of: call every handler of the event and gather their answers → {responses, reduced?, missing}; immediate emits only"),
  })
  .refine((d) => d.delay === undefined || d.at === undefined, { message: "give delay or at, not both", path: ["at"] })
  .refine((d) => d.collect === undefined || (d.delay === undefined && d.at === undefined), {
    message: "collect waits for answers now: it cannot be combined with delay or at",
    path: ["collect"],
  });

const wireError = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });

const emitResult = z.union([
  z
    .object({
      emitted: z.literal(true),
      result: z.unknown().optional().describe("the target's reply, when a handler answered it"),
      error: wireError.optional().describe("the target's error, when it failed"),
      delivered: z.number().int().describe("subscribers that got it"),
    })
    .describe("immediate"),
  z.object({ emitted: z.literal(false), reason: z.literal("condition_false") }).describe("the condition did not hold: nothing emitted"),
  z
    .object({
      emitted: z.literal(true),
      responses: z.array(
        z.object({ handler_id: z.string(), ok: z.boolean(), data: z.unknown().optional(), error: wireError.optional(), ms: z.number() }),
      ),
      reduced: z.unknown().optional().describe("what collect.reduce made of the responses"),
      missing: z.array(z.string()).describe("handlers that did not answer in time"),
      delivered: z.number().int(),
    })
    .describe("collect"),
  z
    .object({
      scheduled: z.literal(true),
      schedule_id: z.string(),
      fire_at: z.string().describe("ISO-8601"),
      replaced: z.string().optional().describe("the schedule_id of the pending schedule with the same key it replaced"),
    })
    .describe("delay or at: scheduled"),
]);

export function eventModule(ctx: ModuleContext, state: StateView, handlers: HandlerService): Module {
  const log = ctx.log.child({ module: "event" });
  let scheduler!: Scheduler;
  // Unique across restarts by the per-start random part; sortable by creation within one run.
  const instance = randomBytes(4).toString("hex");
  let counter = 0;
  const nextScheduleId = (now: number) => `sch_${now.toString(36)}_${instance}${(counter++).toString(36).padStart(4, "0")}`;

  const ownedNamespace = (event: string) => DAEMON_NAMESPACES.has(event.slice(0, event.indexOf(":")));

  const conditionHolds = (condition: unknown, event: string, data: Record<string, unknown>, agentId: string | undefined) => {
    const verdict = evaluateCondition(condition, { data, event, now: ctx.clock.now(), state: state.nested(), agent_id: agentId ?? null });
    if (verdict.error !== undefined) log.warn({ event, error: verdict.error }, "condition failed to evaluate; treated as false");
    return verdict.value;
  };

  /**
   * Dispatches like a client request when a handler owns the event (built
   * in, or a connected process); otherwise only subscribers, observers and
   * the log see it. A schedule made for a connected handler's event that
   * finds none at fire time is logged as no_handler.
   */
  async function deliver(event: string, data: Record<string, unknown>, agentId: string | undefined, depth: number, meta?: Record<string, unknown>, expectsHandler = false) {
    if (ctx.registry.get(event) !== undefined) {
      const outcome = await ctx.dispatch({ event, data, agentId, depth, meta });
      const delivered = outcome.routed?.delivered ?? 0;
      return outcome.ok ? { emitted: true, result: outcome.data, delivered } : { emitted: true, error: outcome.error, delivered };
    }
    handlers.observe(event, data, agentId);
    if (expectsHandler) {
      log.warn({ ...meta, event }, "schedule fired for a handler's event, but no handler answers it now");
      const error = { code: "no_handler" as const, message: `no handler answers ${event} any more` };
      const routed = ctx.bus.publish({ ts: ctx.clock.now(), event, id: null, agentId, ok: false, code: error.code, ms: 0, data, meta });
      return { emitted: true, error, delivered: routed.delivered ?? 0 };
    }
    const routed = ctx.bus.publish({ ts: ctx.clock.now(), event, id: null, agentId, ok: true, code: undefined, ms: 0, data, meta });
    return { emitted: true, delivered: routed.delivered ?? 0 };
  }

  /** All-of: every handler of the event answers; the target is then published for subscribers and the log. */
  async function collectAnswers(data: z.output<typeof emitParams>, call: HandlerContext) {
    const started = performance.now();
    const collected = await handlers.collect(data.event, data.data, { ...call, depth: call.depth + 1 }, data.collect!);
    const ok = collected.responses.some((response) => response.ok);
    const routed = ctx.bus.publish({
      ts: ctx.clock.now(),
      event: data.event,
      id: null,
      agentId: call.agentId,
      ok,
      code: ok ? undefined : "no_handler",
      ms: performance.now() - started,
      data: data.data,
      meta: { collect: { responses: collected.responses.length, missing: collected.missing.length } },
    });
    return { emitted: true, ...collected, delivered: routed.delivered ?? 0 };
  }

  function checkTarget(event: string, data: Record<string, unknown>, delayed: boolean): void {
    const def = ctx.registry.get(event);
    if (def === undefined) {
      if (!ownedNamespace(event)) return;
      const suggestions = ctx.registry.suggestionsFor(event);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
      throw new DaemonError("unknown_event", `cannot emit ${event}: no such event in a daemon namespace${hint}`, suggestions.length > 0 ? { suggestions } : undefined);
    }
    if (!delayed) return; // an immediate dispatch validates and reports in `error`
    const parsed = def.params.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: ["data", ...i.path.map(String)].join("."), message: i.message }));
      throw new DaemonError("invalid_params", `data for ${event} would be rejected when it fires: ${issues[0]!.message} at "${issues[0]!.path}"`, { issues });
    }
  }

  const emit = defineEvent({
    name: "event:emit",
    summary: "Emit an event now, later (delay/at), or only if a JSON Logic condition holds",
    description:
      "Immediate: the target is dispatched as if a client had sent it; the reply carries its result or error and how many subscribers got it. " +
      "Delayed: the reply comes at once with schedule_id and fire_at, after the schedule is on disk; it survives restarts and can be cancelled. " +
      "The condition is evaluated when the event would fire, against {data, event, now, state, agent_id}. " +
      `An at more than ${PAST_TOLERANCE_MS / 1000} s before the daemon's clock is refused (invalid_params) unless allow_past: true, which fires it at once.`,
    params: emitParams,
    result: emitResult,
    example: { event: "orchestration:timeout", data: { run: "run_1" }, delay: 30, condition: CONDITION_EXAMPLE, key: "run_1.timeout" },
    handler: async (data, call) => {
      if (call.depth >= EMIT_LIMITS.maxDepth) {
        throw new DaemonError("limit_exceeded", `emit nested ${call.depth} deep: an emitted event keeps emitting (limit ${EMIT_LIMITS.maxDepth})`, {
          limit: EMIT_LIMITS.maxDepth,
        });
      }
      const delayed = data.delay !== undefined || data.at !== undefined;
      checkTarget(data.event, data.data, delayed);
      if (!delayed) {
        if (data.condition !== undefined && !conditionHolds(data.condition, data.event, data.data, call.agentId)) {
          return { emitted: false, reason: "condition_false" };
        }
        if (data.collect !== undefined) return collectAnswers(data, call);
        return deliver(data.event, data.data, call.agentId, call.depth + 1);
      }
      const now = ctx.clock.now();
      const fireAt = data.at !== undefined ? atOrNow(data.at, now, data.allow_past === true) : now + data.delay! * 1000;
      if (fireAt - now > EMIT_LIMITS.maxDelaySeconds * 1000) {
        throw new DaemonError("limit_exceeded", `a schedule may lie at most 30 days ahead; this one is ${Math.round((fireAt - now) / 86_400_000)} days out`, {
          limit: EMIT_LIMITS.maxDelaySeconds,
        });
      }
      const schedule: Schedule = {
        schedule_id: nextScheduleId(now),
        event: data.event,
        data: data.data,
        fire_at: fireAt,
        key: data.key,
        condition: data.condition,
        agent_id: call.agentId,
        created_at: now,
        ...(handlers.owns(data.event) ? { expects_handler: true } : {}),
      };
      const replaced = await scheduler.add(schedule);
      const reply = { scheduled: true, schedule_id: schedule.schedule_id, fire_at: new Date(fireAt).toISOString() };
      return replaced === undefined ? reply : { ...reply, replaced: replaced.schedule_id };
    },
  });

  const cancel = defineEvent({
    name: "event:cancel",
    effect: "destroy",
    summary: "Cancel a pending delayed emit by schedule_id or key",
    params: z
      .strictObject({ schedule_id: z.string().min(1).optional(), key: z.string().min(1).optional() })
      .refine((d) => (d.schedule_id === undefined) !== (d.key === undefined), { message: "give schedule_id or key (one of them)" }),
    result: z.object({ cancelled: z.literal(true), schedule_id: z.string() }),
    example: { key: "run_1.timeout" },
    handler: async (data) => {
      const removed = await scheduler.cancel(data);
      if (removed === undefined) {
        throw new DaemonError("not_found", data.key !== undefined ? `no pending schedule with key ${data.key}` : `no pending schedule ${data.schedule_id}`);
      }
      return { cancelled: true, schedule_id: removed.schedule_id };
    },
  });

  const scheduled = defineEvent({
    name: "event:scheduled",
    effect: "read",
    summary: "List pending delayed emits, earliest first",
    params: z.strictObject({
      event: z.string().min(1).max(256).optional().describe("event-name glob"),
      limit: z.number().int().min(1).max(10_000).default(100),
    }),
    result: z.object({
      schedules: z.array(
        z.object({
          schedule_id: z.string(),
          event: z.string(),
          fire_at: z.string(),
          key: z.string().optional(),
          condition: z.unknown().optional(),
          data: z.record(z.string(), z.unknown()),
          agent_id: z.string().optional(),
        }),
      ),
      total: z.number().int().describe("pending schedules that match, before limit"),
    }),
    example: { event: "orchestration:*", limit: 10 },
    handler: (data) => {
      const matches = data.event === undefined ? () => true : compileGlob(data.event);
      const all = scheduler.list().filter((s) => matches(s.event));
      return {
        schedules: all.slice(0, data.limit).map((s) => ({
          schedule_id: s.schedule_id,
          event: s.event,
          fire_at: new Date(s.fire_at).toISOString(),
          ...(s.key === undefined ? {} : { key: s.key }),
          ...(s.condition === undefined ? {} : { condition: s.condition }),
          data: s.data,
          ...(s.agent_id === undefined ? {} : { agent_id: s.agent_id }),
        })),
        total: all.length,
      };
    },
  });

  async function fire(schedule: Schedule, lateMs: number): Promise<void> {
    const meta = { schedule_id: schedule.schedule_id, late_ms: Math.round(lateMs) };
    // A journal written before rules were checked may hold one that is not a rule (text would always hold).
    if (schedule.condition !== undefined && checkRule(schedule.condition).length > 0) {
      log.warn({ ...meta, event: schedule.event, condition: schedule.condition }, "schedule not emitted: its condition is not a JSON Logic rule");
      return;
    }
    if (schedule.condition !== undefined && !conditionHolds(schedule.condition, schedule.event, schedule.data, schedule.agent_id)) {
      log.info({ ...meta, event: schedule.event }, "schedule not emitted: condition false");
      return;
    }
    await deliver(schedule.event, schedule.data, schedule.agent_id, 1, meta, schedule.expects_handler === true);
  }

  return {
    name: "event",
    events: [emit, cancel, scheduled],
    async start() {
      const started = await Scheduler.start({
        journalPath: ctx.config.scheduleJournal,
        clock: ctx.clock,
        log,
        maxPending: EMIT_LIMITS.maxPending,
        fire,
        settle: () => ctx.bus.settle(),
      });
      scheduler = started.scheduler;
      log.info({ loaded: started.loaded, skipped: started.skipped, load_ms: Math.round(started.loadMs) }, "schedules loaded");
    },
    stop: () => scheduler.stop(),
    health: () => ({ scheduled: scheduler.size }),
  };
}

/**
 * When an `at` fires: as given when it is ahead (or within
 * PAST_TOLERANCE_MS behind), now when it is further behind and
 * `allowPast`; otherwise invalid_params saying how far behind it is.
 */
function atOrNow(at: string, now: number, allowPast: boolean): number {
  const fireAt = Date.parse(at);
  const behind = now - fireAt;
  if (behind <= PAST_TOLERANCE_MS) return fireAt;
  if (allowPast) return now;
  const message = `at ${at} is ${elapsed(behind)} in the past; give a future time, or allow_past: true to fire it at once`;
  throw new DaemonError("invalid_params", `invalid data for event:emit at "at": ${message}`, { issues: [{ path: "at", message }] });
}

/** A duration for people: the largest unit that gives at least 2 of it. */
function elapsed(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 120 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
