/** system:health / hello / discover / help / shutdown: the daemon describing itself. */
import { z } from "zod";
import { DaemonError } from "../../core/errors.js";
import { defineEvent } from "../../core/event.js";
import type { Module, ModuleContext } from "../../core/module.js";

export const PROTOCOL_VERSION = 1;

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
    example: {},
    handler: () => {
      const status = ctx.status();
      const dropped = (status.modules.dropped ?? {}) as Record<string, number>;
      return {
        status: "ok",
        version: status.version,
        uptime_s: Math.round((ctx.clock.now() - status.startedAt) / 100) / 10,
        pid: status.pid,
        connections: status.connections,
        events: status.events,
        ...status.modules,
        // Log lines a full or read-only disk could not take (writing resumes by itself).
        dropped: { ...dropped, daemon_log: status.daemonLogDropped },
      };
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
      "events: {<namespace>: [{event, summary, parameters, params}]}. parameters is KSI's table, {<name>: {type, required, description, ...}} " +
      "with Python type names (str, int, float, bool, list, dict), so KSI's own clients discover patternd unchanged; params is the JSON Schema.",
    params: z.strictObject({ namespace: z.string().min(1).optional().describe("only this namespace, e.g. composition") }),
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
    summary: "Describe one event: what it does, its parameters and an example",
    params: z.strictObject({ event: z.string().min(1) }),
    example: { event: "monitor:subscribe" },
    handler: (data) => {
      const def = registry.get(data.event);
      if (def === undefined) {
        const suggestions = registry.suggestionsFor(data.event);
        const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
        throw new DaemonError("unknown_event", `no event ${data.event}${hint}`, suggestions.length > 0 ? { suggestions } : undefined);
      }
      return {
        event: def.name,
        summary: def.summary,
        effect: def.effect ?? "write",
        description: def.description ?? def.summary,
        params: registry.jsonSchema(def),
        example: { event: def.name, data: def.example ?? {} },
      };
    },
  });

  const shutdown = defineEvent({
    name: "system:shutdown",
    effect: "destroy",
    summary: "Stop the daemon cleanly after answering",
    params: z.strictObject({}),
    example: {},
    handler: (_data, call) => {
      ctx.requestStop(`system:shutdown from ${call.agentId ?? "a client"}`);
      return { stopping: true };
    },
  });

  return { name: "system", events: [health, hello, discover, help, shutdown] };
}
