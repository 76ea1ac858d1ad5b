/** monitor:subscribe / unsubscribe / get_events: watching what the daemon routes. */
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent, type HandlerContext } from "../../core/event.js";
import { compileGlobs } from "../../core/glob.js";
import type { Module, ModuleContext } from "../../core/module.js";
import type { Session } from "../../core/session.js";
import { EventLog } from "./event-log.js";
import { Subscriptions } from "./subscriptions.js";

const MAX_SUBSCRIPTIONS_PER_CONNECTION = 64;

const glob = z.string().min(1).max(256).describe("event-name glob over colon segments: `*` one segment, `**` any rest");
const instant = z
  .union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()])
  .describe("ISO-8601 time or epoch milliseconds");

export function monitorModule(ctx: ModuleContext): Module {
  const { limits } = ctx.config;
  const eventLog = new EventLog(ctx.config.eventLogDir, limits.maxLoggedDataBytes, ctx.log, ctx.clock, ctx.config.eventLogRetention);
  const subscriptions = new Subscriptions(limits.replayEvents, MAX_SUBSCRIPTIONS_PER_CONNECTION, limits.maxQueuedBytes, limits.replayBytes);
  const unsubscribeBus = [
    ctx.bus.subscribe((event) => eventLog.append(event)),
    ctx.bus.subscribe(subscriptions.onEvent),
  ];
  ctx.bus.onSettle(() => void eventLog.flush());

  const subscribe = defineEvent({
    name: "monitor:subscribe",
    effect: "read",
    summary: "Receive pushes for routed events whose names match the patterns",
    description:
      "Every successful request and every emitted event whose name matches one of the globs is pushed to this connection as " +
      '{event, data, subscription, seq, ts}. With since_seq, events after that seq still in memory are replayed first. A client that ' +
      "stops reading gets one monitor:dropped push and the subscription ends.",
    params: z.strictObject({
      patterns: z.array(glob).min(1).max(64),
      since_seq: z.number().int().nonnegative().optional(),
    }),
    result: z.object({
      subscription: z.string().describe("its id, for monitor:unsubscribe and in every push"),
      seq: z.number().int().describe("the last seq routed before it began: pushes follow it"),
      missed: z.literal(true).optional().describe("since_seq lies before what is still in memory: some events cannot be replayed"),
    }),
    example: { patterns: ["composition:*", "orchestration:**"] },
    handler: (data, call) => subscriptions.add(requireSession(call, "monitor:subscribe"), data.patterns, ctx.bus.lastSeq, data.since_seq),
  });

  const unsubscribe = defineEvent({
    name: "monitor:unsubscribe",
    effect: "read",
    summary: "End a subscription of this connection",
    params: z.strictObject({ subscription: z.string().min(1) }),
    result: z.object({ unsubscribed: z.literal(true) }),
    example: { subscription: "s1" },
    handler: (data, call) => {
      subscriptions.remove(requireSession(call, "monitor:unsubscribe"), data.subscription);
      return { unsubscribed: true };
    },
  });

  const getEvents = defineEvent({
    name: "monitor:get_events",
    effect: "read",
    summary: "Recent records of the event log, newest last",
    params: z.strictObject({
      patterns: z.array(glob).max(64).optional(),
      since: instant.optional(),
      until: instant.optional(),
      agent_id: z.string().optional(),
      limit: z.number().int().min(1).max(10_000).default(100),
    }),
    result: z.object({
      events: z.array(
        z.looseObject({
          ts: z.string(),
          seq: z.number().int(),
          event: z.string(),
          id: z.union([z.string(), z.number(), z.null()]),
          agent_id: z.string().nullable(),
          ok: z.boolean(),
          code: z.string().optional().describe("the error code when ok is false"),
          ms: z.number(),
          data: z.unknown(),
        }),
      ),
    }),
    example: { patterns: ["system:*"], limit: 10 },
    handler: async (data) => {
      const matchesName = data.patterns === undefined || data.patterns.length === 0 ? () => true : compileGlobs(data.patterns);
      const events = await eventLog.read({ matchesName, agentId: data.agent_id, since: toMs(data.since), until: toMs(data.until), limit: data.limit });
      return { events };
    },
  });

  return {
    name: "monitor",
    events: [subscribe, unsubscribe, getEvents],
    start: () => eventLog.start(),
    health: () => ({ subscriptions: subscriptions.size, dropped: { event_log: eventLog.dropped } }),
    async stop() {
      for (const unsubscribeFromBus of unsubscribeBus) unsubscribeFromBus();
      await eventLog.close();
    },
  };
}

function requireSession(call: HandlerContext, event: string): Session {
  if (call.session === null) {
    throw new DaemonError("invalid_request", `${event} needs a client connection; it cannot be emitted`);
  }
  return call.session;
}

function toMs(value: string | number | undefined): number | undefined {
  return typeof value === "string" ? Date.parse(value) : value;
}
