/**
 * tools/list and tools/call: the curated tools (tools.ts) and the bridge's
 * own (events_wait, handler_next, handler_reply, patternd_help,
 * patternd_call), every input schema taken or assembled from the daemon's
 * system:discover. The daemon validates what it is sent and its error,
 * code first, is the tool error the model reads.
 */
import { fromJsonSchema } from "@modelcontextprotocol/server";
import { stringify } from "yaml";
import { DaemonUnreachableError, RemoteError, RequestTimeoutError } from "../client.js";
import { HandlerError } from "../handlers.js";
import type { DaemonLink, EventInfo } from "./daemon-link.js";
import { EventWaits } from "./events-wait.js";
import type { HandlerInbox } from "./handler-inbox.js";
import { errorResult, okResult, type ToolResult } from "./result.js";
import { annotationsFor, composeGetSchema, CURATED, NEVER_EXPOSED, toolName, type Effect } from "./tools.js";

/** Long polls end before hosts give up on a tool call (many wait 30 s or more). */
export const MAX_WAIT_S = 25;
const DEFAULT_WAIT_S = 20;

export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: "object"; [key: string]: unknown };
  annotations: ReturnType<typeof annotationsFor> & { title: string };
}

interface Tool {
  definition: ToolDefinition;
  effect: Effect;
  /** Set for the bridge's own tools: their arguments are checked here, since no daemon event checks them as a whole. */
  validate?: (args: unknown) => string | undefined;
  /** `agent`: whom the daemon attributes changes to (the MCP client the call came from); `signal`: the client cancelled the call. */
  run(args: Record<string, unknown>, agent: string | undefined, signal: AbortSignal | undefined): Promise<ToolResult>;
}

export interface ToolboxOptions {
  readOnly: boolean;
}

export class Toolbox {
  /** The tools of the last event table: built once per table, not for every tools/list and tools/call. */
  private built: { table: Map<string, EventInfo>; tools: Tool[] } | undefined;

  private readonly waits: EventWaits;

  constructor(
    private readonly link: DaemonLink,
    private readonly inbox: HandlerInbox,
    private readonly options: ToolboxOptions,
  ) {
    this.waits = new EventWaits(link);
  }

  async list(): Promise<ToolDefinition[]> {
    return (await this.tools()).map((tool) => tool.definition);
  }

  /** Every failure, the daemon's list of events included, is a tool error the model reads. */
  async call(name: string, args: Record<string, unknown>, agent: string | undefined, signal?: AbortSignal): Promise<ToolResult> {
    try {
      return await this.callTool(name, args, agent, signal);
    } catch (err) {
      return failure(err);
    }
  }

  private async callTool(name: string, args: Record<string, unknown>, agent: string | undefined, signal?: AbortSignal): Promise<ToolResult> {
    const tools = await this.tools();
    const tool = tools.find((candidate) => candidate.definition.name === name);
    if (tool === undefined) {
      const hidden = this.options.readOnly && (await this.tools(false)).some((candidate) => candidate.definition.name === name);
      return errorResult(
        hidden ? "read_only" : "unknown_tool",
        hidden ? `${name} changes the store or state, and this bridge runs with --read-only` : `no tool ${name}; tools: ${tools.map((t) => t.definition.name).join(", ")}`,
      );
    }
    const problem = tool.validate?.(args);
    if (problem !== undefined) return errorResult("invalid_params", `${name}: ${problem}`, { schema: tool.definition.inputSchema });
    return tool.run(args, agent, signal);
  }

  private async tools(applyReadOnly = true): Promise<Tool[]> {
    const table = await this.link.eventTable();
    if (this.built?.table !== table) this.built = { table, tools: this.build(table) };
    const { tools } = this.built;
    return applyReadOnly && this.options.readOnly ? tools.filter((tool) => tool.effect === "read") : tools;
  }

  private build(table: Map<string, EventInfo>): Tool[] {
    const tools: Tool[] = [];
    for (const curated of CURATED) {
      const info = table.get(curated.event);
      if (info === undefined) continue;
      const name = toolName(curated.event);
      const compose = curated.event === "composition:get" ? table.get("composition:compose") : undefined;
      const inputSchema = compose === undefined ? info.params : composeGetSchema(info.params, compose.params);
      tools.push({
        definition: define(name, curated.title, `${info.summary}. ${curated.guide}`, inputSchema, info.effect),
        effect: info.effect,
        run: (args, agent) => (compose !== undefined && composing(args) ? this.compose(args, agent) : this.send(curated.event, args, agent)),
      });
    }
    tools.push(...this.bridgeTools(table));
    return tools;
  }

  private bridgeTools(table: Map<string, EventInfo>): Tool[] {
    const tools: Tool[] = [];
    const subscribe = table.get("monitor:subscribe");
    if (subscribe !== undefined) {
      const schema = objectSchema(pick(subscribe.params, ["patterns", "since_seq"]), ["patterns"], {
        timeout_s: { type: "number", minimum: 0, maximum: MAX_WAIT_S, default: DEFAULT_WAIT_S, description: `seconds to wait for a first event (at most ${MAX_WAIT_S})` },
        max: { type: "integer", minimum: 1, maximum: 1000, default: 100, description: "most events to return at once" },
      });
      tools.push(
        this.own("events_wait", "Wait for events", "Wait for routed events whose names match the globs (long poll: hosts drop pushed notifications). " +
          "Use to follow a run: pass the returned next_since_seq as since_seq to the next call and nothing is missed. " +
          "Returns {events [{event, seq, ts, data}], next_since_seq, timed_out}; daemon_restarted: true when the daemon restarted (its seqs began again, " +
          "and what the new one saw is given), missed: true when some events were no longer held (monitor:get_events reads them from the log).", schema, "read", (args, _agent, signal) =>
          this.waits.wait(args.patterns as string[], args.since_seq as number | undefined, seconds(args.timeout_s) * 1000, (args.max as number | undefined) ?? 100, signal),
        ),
      );
    }
    const register = table.get("handler:register");
    const reply = table.get("handler:reply");
    if (register !== undefined && reply !== undefined) {
      const registerProps = pick(register.params, ["events", "group"]);
      const schema = objectSchema(registerProps, ["events"], {
        mode: { enum: ["exclusive", "group"], description: "exclusive: the one owner of these events; group: one member of the group answers each call (default exclusive)" },
        timeout_s: { type: "number", minimum: 0, maximum: MAX_WAIT_S, default: DEFAULT_WAIT_S, description: `seconds to wait for a call (at most ${MAX_WAIT_S})` },
      });
      tools.push(
        this.own("handler_next", "Take the next call of your events", "Be the handler of events (names or globs outside the daemon's own namespaces, e.g. review:request): " +
          "the first call registers them for this bridge; each call returns the next call another agent made, waiting up to timeout_s. " +
          "Answer every call with handler_reply before its deadline. Returns {call: {call_id, event, data, agent_id, deadline} | null, waiting}.", schema, "write", (args, _agent, signal) =>
          this.inbox.next({ events: args.events as string[], mode: args.mode as "exclusive" | "group" | undefined, group: args.group as string | undefined }, seconds(args.timeout_s) * 1000, signal),
        ),
        this.own("handler_reply", "Answer a call", "Answer a call taken with handler_next: ok: true with data (the caller's result), or ok: false with error {code, message}. Returns {replied: true}.", reply.params, "write", (args) => {
          this.inbox.reply(args.call_id as string, args.ok as boolean, args.ok === true ? (args.data ?? null) : args.error);
          return Promise.resolve({ replied: true });
        }),
      );
    }
    const help = table.get("system:help");
    if (help !== undefined) {
      const schema = { ...help.params, required: [] as string[], properties: { event: { ...((help.params.properties as Record<string, object>).event ?? {}), description: "the event to describe; omit to list every event" } } };
      tools.push(
        this.own("patternd_help", "Describe patternd events", "Without event: every event the daemon answers (its own and those of connected handlers), with summary and effect. " +
          "With event: its parameters as JSON Schema and an example. Use before patternd_call.", schema, "read", async (args) => {
          if (typeof args.event === "string") return this.link.request("system:help", { event: args.event });
          this.link.refreshEvents();
          const events = [...(await this.link.eventTable()).values()]
            .filter((info) => !NEVER_EXPOSED.has(info.event))
            .map((info) => ({ event: info.event, summary: info.summary, effect: info.effect }));
          return { events };
        }),
      );
      const event = (help.params.properties as Record<string, object>).event ?? {};
      const call = objectSchema({ event: { ...event, description: "the event, e.g. composition:history (patternd_help lists them)" } }, ["event"], {
        data: { type: "object", description: "its parameters, as patternd_help EVENT shows them" },
      });
      tools.push(
        this.own("patternd_call", "Send any patternd event", "Send any event the daemon answers, with its data, and get its reply: for what no other tool covers " +
          "(composition:history, composition:validate, event:scheduled, monitor:get_events, events of connected handlers...). Returns the event's reply.", call, this.options.readOnly ? "read" : "destroy", async (args, agent) => {
          const name = args.event as string;
          if (NEVER_EXPOSED.has(name)) throw new HandlerError("forbidden", `${name} is not available through MCP: it stops the daemon or removes what cannot be restored; use pat from a shell`);
          if (this.options.readOnly) {
            const effect = (await this.link.eventTable()).get(name)?.effect ?? "write";
            if (effect !== "read") throw new HandlerError("read_only", `${name} is a ${effect} event and this bridge runs with --read-only`);
          }
          return this.link.request(name, (args.data ?? {}) as Record<string, unknown>, undefined, agent);
        }),
      );
    }
    return tools;
  }

  private own(
    name: string,
    title: string,
    description: string,
    inputSchema: Record<string, unknown>,
    effect: Effect,
    run: (args: Record<string, unknown>, agent: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>,
  ): Tool {
    // Compiled when first needed: compiling takes about a millisecond, and most calls are of other tools.
    let validator: ReturnType<typeof fromJsonSchema> | undefined;
    return {
      definition: define(name, title, description, inputSchema, effect),
      effect,
      validate: (args) => {
        validator ??= fromJsonSchema(inputSchema);
        const checked = validator["~standard"].validate(args);
        if (checked instanceof Promise) return undefined;
        return checked.issues === undefined ? undefined : checked.issues.map((issue) => `${(issue.path ?? []).map(String).join(".") || "arguments"}: ${issue.message}`).join("; ");
      },
      run: async (args, agent, signal) => okResult(name, await run(args, agent, signal)),
    };
  }

  private async send(event: string, data: Record<string, unknown>, agent: string | undefined): Promise<ToolResult> {
    return okResult(event, await this.link.request(event, data, undefined, agent));
  }

  /** composition_get with variables or strict: composed by the daemon; format yaml gives the composed document as YAML, as get gives a file's. */
  private async compose(args: Record<string, unknown>, agent: string | undefined): Promise<ToolResult> {
    const { format, ...data } = args;
    const reply = await this.link.request<{ composition: unknown }>("composition:compose", data, undefined, agent);
    if (format !== "yaml") return okResult("composition:compose", reply);
    const { composition, ...rest } = reply;
    return okResult("composition:compose", { ...rest, yaml: stringify(composition) });
  }
}

function define(name: string, title: string, description: string, inputSchema: Record<string, unknown>, effect: Effect): ToolDefinition {
  // Every daemon event's params are a JSON object schema (zod strictObject); the type says it for MCP.
  return { name, title, description, inputSchema: { ...inputSchema, type: "object" }, annotations: { title, ...annotationsFor(effect) } };
}

function composing(args: Record<string, unknown>): boolean {
  return args.variables !== undefined || args.strict !== undefined;
}

function pick(schema: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => key in properties).map((key) => [key, properties[key]]));
}

function objectSchema(properties: Record<string, unknown>, required: string[], extra: Record<string, unknown>): Record<string, unknown> {
  return { type: "object", properties: { ...properties, ...extra }, required, additionalProperties: false };
}

function seconds(value: unknown): number {
  return typeof value === "number" ? Math.min(value, MAX_WAIT_S) : DEFAULT_WAIT_S;
}

function failure(err: unknown): ToolResult {
  if (err instanceof RemoteError) return errorResult(err.code, err.message, err.details);
  if (err instanceof HandlerError) return errorResult(err.code, err.message, err.details);
  if (err instanceof DaemonUnreachableError) return errorResult("unavailable", err.message);
  if (err instanceof RequestTimeoutError) return errorResult("timeout", err.message);
  throw err;
}
