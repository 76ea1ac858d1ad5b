/**
 * One MCP server instance over the bridge: the SDK's low-level Server, since
 * every list here (tools from the daemon's schemas, resources and prompts
 * from the store) is read from the daemon when asked, not registered once.
 * Cheap to build: the HTTP entry builds one per request.
 */
import { CLIENT_INFO_META_KEY, ProtocolError, ProtocolErrorCode, ResourceNotFoundError, Server } from "@modelcontextprotocol/server";
import { RemoteError } from "../client.js";
import { complete } from "./completions.js";
import type { DaemonLink } from "./daemon-link.js";
import { getPrompt, invalidParams, listPrompts, listResources, offsetOfCursor, patternOfPrompt, patternUri, readResource, refOfUri, RESOURCE_TEMPLATES } from "./patterns.js";
import type { StoreWatch } from "./store-watch.js";
import type { Toolbox } from "./toolbox.js";

export const INSTRUCTIONS = [
  "patternd keeps orchestration patterns (how to split work among agents: tournaments, majority votes, critique loops, hierarchies, A/B comparisons...) as versioned YAML in git, and routes events between agents.",
  "For a multi-step or multi-agent task: composition_select {task} picks a pattern; composition_get reads it (with variables, composed); run it; record what you decided and how it went with composition_track_decision, and later selections learn from it.",
  "To adapt a pattern: composition_fork (lineage recorded), composition_diff to compare, composition_merge (dry_run first) to bring an improvement back.",
  "event_emit sends events now, later or on a JSON Logic condition (durable, cancellable with event_cancel); events_wait follows routed events; state_get/state_set hold shared run state; handler_next/handler_reply let you answer events other agents send.",
  "patternd_help lists every event; patternd_call sends any of them. Errors come back with a stable code (invalid_params, not_found, conflict, merge_conflict...) and a message that shows the right form.",
].join("\n");

/**
 * How an instance tells its client that patterns changed (new prompts and
 * resources, an attached pattern's new content):
 * - self: it sends the notifications (a stdio connection; in the 2025 era
 *   resource updates go to the URIs the client subscribed to with
 *   resources/subscribe, in the 2026-07-28 era the SDK's listen router
 *   passes on those the client listens for);
 * - entry: it declares them, and the HTTP entry sends them on its
 *   subscriptions/listen streams (the 2026-07-28 era);
 * - none: a stateless 2025 HTTP request has no channel to push on, so it
 *   declares nothing.
 */
export type ChangePush = { mode: "self"; watch: StoreWatch; era: "legacy" | "modern" } | { mode: "entry" } | { mode: "none" };

export interface ServerDeps {
  link: DaemonLink;
  /** Shared by every server instance: its tools are built once per daemon event table, not per HTTP request. */
  toolbox: Toolbox;
  version: string;
  changes: ChangePush;
}

export function createBridgeServer(deps: ServerDeps): Server {
  const { link, changes } = deps;
  const live = changes.mode !== "none";
  const server = new Server(
    { name: "patternd", title: "patternd: orchestration patterns and events", version: deps.version },
    {
      capabilities: { tools: {}, resources: live ? { listChanged: true, subscribe: true } : {}, prompts: live ? { listChanged: true } : {}, completions: {} },
      instructions: INSTRUCTIONS,
    },
  );
  if (changes.mode === "self") pushChanges(server, changes.watch, changes.era);
  // Changes are attributed to the bridge's --agent-id, else to the MCP client by name: a 2026-07-28 request
  // names its client in its own _meta envelope (no handshake there), the 2025 handshake names it once.
  let envelopeClient: string | undefined;
  const agentId = () => link.agentId ?? agentOf(envelopeClient ?? server.getClientVersion()?.name);
  const { toolbox } = deps;

  server.setRequestHandler("tools/list", async () => ({ tools: await daemonCall(() => toolbox.list()) }));
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const envelope = ctx.mcpReq.envelope as Record<string, { name?: unknown } | undefined> | undefined;
    const named = envelope?.[CLIENT_INFO_META_KEY]?.name;
    if (typeof named === "string") envelopeClient = named;
    return toolbox.call(request.params.name, request.params.arguments ?? {}, agentId(), ctx.mcpReq.signal);
  });

  // The daemon's own cursor (composition:list's next_cursor) is the MCP cursor: a garbled one is its invalid_params.
  server.setRequestHandler("resources/list", async (request) => daemonCall(() => listResources(link, request.params?.cursor)));
  server.setRequestHandler("resources/templates/list", () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler("resources/read", async (request) => {
    const { uri } = request.params;
    const ref = refOfUri(uri);
    if (ref === undefined) throw invalidParams(`${uri} is not a pattern URI: use pattern://NAME or pattern://NAME@VERSION`);
    try {
      return await daemonCall(() => readResource(link, uri, ref));
    } catch (err) {
      if (err instanceof ProtocolError && (err.data as { code?: string } | undefined)?.code === "not_found") throw new ResourceNotFoundError(uri);
      throw err;
    }
  });

  server.setRequestHandler("completion/complete", async (request) => daemonCall(() => complete(link, request.params)));

  server.setRequestHandler("prompts/list", async (request) => daemonCall(() => listPrompts(link, cursor(request.params?.cursor))));
  server.setRequestHandler("prompts/get", async (request) => {
    const pattern = patternOfPrompt(request.params.name);
    return daemonCall(() => getPrompt(link, pattern, request.params.arguments ?? {}));
  });
  return server;
}

/** Store changes as this instance's notifications, until it closes. */
function pushChanges(server: Server, watch: StoreWatch, era: "legacy" | "modern"): void {
  // The 2025 era subscribes with requests; the 2026-07-28 era with a subscriptions/listen filter the SDK applies.
  const subscribed = new Set<string>();
  if (era === "legacy") {
    server.setRequestHandler("resources/subscribe", (request) => {
      if (refOfUri(request.params.uri) === undefined) throw invalidParams(`${request.params.uri} is not a pattern URI: use pattern://NAME`);
      subscribed.add(request.params.uri);
      return {};
    });
    server.setRequestHandler("resources/unsubscribe", (request) => {
      subscribed.delete(request.params.uri);
      return {};
    });
  }
  const ignore = () => undefined;
  const stop = watch.listen((change) => {
    server.sendResourceListChanged().catch(ignore);
    server.sendPromptListChanged().catch(ignore);
    const uris = era === "legacy" ? [...subscribed].filter((uri) => change.everything || change.names.has(refOfUri(uri)!)) : [...change.names].map(patternUri);
    for (const uri of uris) server.sendResourceUpdated({ uri }).catch(ignore);
  });
  const closed = server.onclose;
  server.onclose = () => {
    stop();
    closed?.();
  };
}

function agentOf(clientName: string | undefined): string {
  const name = (clientName ?? "").replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 100);
  return name === "" ? "mcp" : `mcp:${name}`;
}

function cursor(value: string | undefined): number {
  const offset = offsetOfCursor(value);
  if (offset === undefined) throw invalidParams(`cursor ${JSON.stringify(value)} is not one this server gave`);
  return offset;
}

/** A daemon error where MCP has no tool result to carry it: a protocol error whose data keeps the daemon's code. */
async function daemonCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RemoteError) {
      const code = err.code === "not_found" || err.code === "invalid_params" || err.code === "unknown_event" ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError;
      throw new ProtocolError(code, `${err.code}: ${err.message}`, { code: err.code, details: err.details });
    }
    if (err instanceof Error && !(err instanceof ProtocolError)) throw new ProtocolError(ProtocolErrorCode.InternalError, err.message);
    throw err;
  }
}
