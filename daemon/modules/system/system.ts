/** system:health / hello / discover / help / shutdown: the daemon describing itself. */
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent } from "../../core/event.js";
import type { Module, ModuleContext } from "../../core/module.js";

export const PROTOCOL_VERSION = 1;

const jsonSchema = z.record(z.string(), z.unknown()).describe("a JSON Schema");
const effect = z.enum(["read", "write", "destroy"]).describe("read changes nothing the daemon keeps; write adds or changes what can be recovered; destroy removes or overwrites what cannot");

const healthResult = z.looseObject({
  status: z.literal("ok"),
  version: z.string(),
  uptime_s: z.number(),
  pid: z.number().int(),
  connections: z.number().int(),
  events: z.number().int().describe("events routed since start"),
  store: z
    .looseObject({
      path: z.string(),
      head: z.string().nullable(),
      patterns: z.number().int(),
      branch: z.string().nullable(),
      state: z.enum(["ok", "busy", "missing"]),
      // --sync-every (issue 19): each git remote's background sync.
      sync: z
        .array(z.object({ remote: z.string(), last_ok: z.string().nullable(), last_error: z.string().nullable(), next_at: z.string() }))
        .optional()
        .describe("with --sync-every: each remote's last good sync, last failure (cleared by a good one) and the next round"),
    })
    .optional(),
  subscriptions: z.number().int().optional(),
  state_keys: z.number().int().optional(),
  handlers: z.object({ registered: z.number().int(), calls_in_flight: z.number().int() }).optional(),
  scheduled: z.number().int().optional().describe("pending delayed emits"),
  nats: z
    .object({
      url: z.string(),
      connected: z.boolean(),
      daemon_id: z.string().describe("this daemon's id, the origin of what it exports (var/lib/daemon-id)"),
      exported: z.number().int(),
      imported: z.number().int(),
      dropped: z.number().int().describe("exports not sent (link down past the 8 MiB buffer, too large) and imports refused (malformed, too large)"),
      calls: z.object({ sent: z.number().int(), served: z.number().int() }),
      last_error: z.string().nullable(),
    })
    .optional()
    .describe("with --nats: the link to other daemons (issue 19)"),
  dropped: z.record(z.string(), z.number()).describe("{event_log, daemon_log}: log lines lost since start"),
});

const helloResult = z.object({
  server: z.literal("patternd"),
  version: z.string(),
  protocol: z.number().int(),
  capabilities: z.array(z.string()).describe("the namespaces, pipelining and subscriptions"),
});

const discoverResult = z.object({
  events: z
    .record(
      z.string(),
      z.array(
        z.object({
          event: z.string(),
          summary: z.string(),
          effect,
          parameters: z.record(z.string(), z.record(z.string(), z.unknown())).describe("KSI's table: {<name>: {type, required, description?, ...}}"),
          params: jsonSchema.describe("the params' JSON Schema"),
          result: jsonSchema.optional().describe("the reply's JSON Schema (absent for a connected handler's event)"),
        }),
      ),
    )
    .describe("by namespace"),
});

const helpResult = z.object({
  event: z.string(),
  summary: z.string(),
  effect,
  description: z.string(),
  params: jsonSchema.describe("the params' JSON Schema"),
  result: jsonSchema.optional().describe("the reply's JSON Schema (absent for a connected handler's event)"),
  example: z.object({ event: z.string(), data: z.unknown() }).describe("a request to send"),
});

export function systemModule(ctx: ModuleContext): Module {
  const { registry } = ctx;

  const namespaces = () => [...new Set(registry.names().map((name) => name.slice(0, name.indexOf(":"))))];

  const health = defineEvent({
    name: "system:health",
    effect: "read",
    summary: "Is the daemon up, and what is it holding",
    description:
      "dropped: {event_log, daemon_log} counts the log lines lost since start because the disk could not take them (full, read-only); " +
      "writing resumes by itself once it can.",
    params: z.strictObject({}),
    result: healthResult,
    example: {},
    handler: () => {
      const status = ctx.status();
      const dropped = (status.modules.dropped ?? {}) as Record<string, number>;
      // Assigned, not spread: object spread was a third of the cost of a health call.
      const health: Record<string, unknown> = {
        status: "ok",
        version: status.version,
        uptime_s: Math.round((ctx.clock.now() - status.startedAt) / 100) / 10,
        pid: status.pid,
        connections: status.connections,
        events: status.events,
      };
      Object.assign(health, status.modules);
      // Log lines a full or read-only disk could not take (writing resumes by itself).
      health.dropped = Object.assign({}, dropped, { daemon_log: status.daemonLogDropped });
      return health;
    },
  });

  const hello = defineEvent({
    name: "system:hello",
    effect: "read",
    summary: "Introduce this connection; sets its default agent_id",
    description: "Requests on this connection without their own agent_id are then attributed to this one (event log, git authorship).",
    params: z.strictObject({
      agent_id: z.string().min(1).max(128).optional(),
      client: z.string().max(128).optional(),
    }),
    result: helloResult,
    example: { agent_id: "orch_7f3e", client: "my-orchestrator/1.0" },
    handler: (data, call) => {
      if (call.session !== null && data.agent_id !== undefined) call.session.agentId = data.agent_id;
      return {
        server: "patternd",
        version: ctx.status().version,
        protocol: PROTOCOL_VERSION,
        capabilities: [...namespaces(), "pipelining", "subscriptions"],
      };
    },
  });

  const discover = defineEvent({
    name: "system:discover",
    effect: "read",
    summary: "List the events the daemon answers, by namespace, with their parameters",
    description:
      "events: {<namespace>: [{event, summary, effect, parameters, params, result}]}. parameters is KSI's table, {<name>: {type, required, description, ...}} " +
      "with Python type names (str, int, float, bool, list, dict), so KSI's own clients discover patternd unchanged; params is the JSON Schema; " +
      "result is the JSON Schema of a successful reply's data (absent for an event a connected handler answers).",
    params: z.strictObject({ namespace: z.string().min(1).optional().describe("only this namespace, e.g. composition") }),
    result: discoverResult,
    example: { namespace: "system" },
    handler: (data) => {
      const events = registry.describeByNamespace(data.namespace);
      if (Object.keys(events).length === 0) {
        throw new DaemonError("not_found", `no events in namespace ${data.namespace}; namespaces: ${namespaces().join(", ")}`, {
          namespaces: namespaces(),
        });
      }
      return { events };
    },
  });

  const help = defineEvent({
    name: "system:help",
    effect: "read",
    summary: "Describe one event: what it does, its parameters, its reply (result, a JSON Schema) and an example",
    params: z.strictObject({ event: z.string().min(1) }),
    result: helpResult,
    example: { event: "monitor:subscribe" },
    handler: (data) => {
      const def = registry.get(data.event);
      if (def === undefined) {
        const suggestions = registry.suggestionsFor(data.event);
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
        throw new DaemonError("unknown_event", `no event ${data.event}${hint}`, suggestions.length > 0 ? { suggestions } : undefined);
      }
      const result = registry.resultJsonSchema(def);
      return {
        event: def.name,
        summary: def.summary,
        effect: def.effect ?? "write",
        description: def.description ?? def.summary,
        params: registry.jsonSchema(def),
        ...(result === undefined ? {} : { result }),
        example: { event: def.name, data: def.example ?? {} },
      };
    },
  });

  const shutdown = defineEvent({
    name: "system:shutdown",
    effect: "destroy",
    summary: "Stop the daemon cleanly after answering",
    params: z.strictObject({}),
    result: z.object({ stopping: z.literal(true) }),
    example: {},
    handler: (_data, call) => {
      ctx.requestStop(`system:shutdown from ${call.agentId ?? "a client"}`);
      return { stopping: true };
    },
  });

  return { name: "system", events: [health, hello, discover, help, shutdown] };
}
