/**
 * Events and calls across machines through a NATS server (issue 19).
 *
 * Export: each routed event that succeeded, matches an export glob and
 * started on this daemon is published on `patternd.<event with : → .>`,
 * its origin daemon id and seq in headers. Import: messages on the subjects
 * of the import globs are routed here as events (subscribers, the event
 * log) with `meta.origin`; they run no handler (the event already happened
 * on its origin, and a notification from afar must not, say, delete a
 * pattern here). An imported event is never exported again, and a daemon
 * drops its own messages: nothing loops.
 *
 * Calls: a handler registered here also makes the daemon answer
 * `patternd.call.<event>` in one queue group, so each call is answered by
 * one daemon. A request for an event no local handler answers goes out as a
 * NATS request while the link is up (local handlers come first).
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { z } from "zod";
import type { EventDef, HandlerContext } from "../../core/event.js";
import { compileGlobs } from "../../core/glob.js";
import type { Module, ModuleContext } from "../../core/module.js";
import type { EventSource } from "../../core/registry.js";
import { DAEMON_NAMESPACES } from "../daemon-namespaces.js";
import type { HandlerService } from "../handler/handler.js";
import { loadDaemonId } from "./daemon-id.js";
import type { NatsLink } from "./link.js";
import type { RemoteCallContext, callRemote } from "./remote-call.js";
import { decodeCall, decodeEvent, exportable, isOwnMessage, ORIGIN_HEADER, SEQ_HEADER, type ReplyBody } from "./model/messages.js";
import { hostPort, type NatsSettings } from "./model/settings.js";
import { CALL_PREFIX, disjointSubjects, EVENT_PREFIX, eventSubject, globSubjects, subjectEvent } from "./model/subjects.js";

/**
 * Bytes of exports published while the link is down, which the client
 * holds and sends on reconnect; past this, exports are dropped (and counted)
 * until the link is back. The client itself would hold any amount.
 */
export const EXPORT_BUFFER_BYTES = 8 * 1024 * 1024;
/** One queue group for every call subject: a call is delivered to one subscriber among all daemons, whichever subjects match it. */
const CALL_QUEUE = "patternd.call";
/** Event definitions for names called across the link, kept at most this many before the cache starts over. */
const MAX_CACHED_DEFS = 10_000;

export function natsModule(ctx: ModuleContext, settings: NatsSettings, handlers: HandlerService): Module {
  const log = ctx.log.child({ module: "nats" });
  const exportMatches = compileGlobs(settings.exports);
  const importMatches = compileGlobs(settings.imports);
  const maxBytes = ctx.config.limits.maxLineBytes;
  const figures = { exported: 0, imported: 0, dropped: 0, calls_sent: 0, calls_served: 0 };
  let daemonId = "";
  let bufferedWhileDown = 0;
  let link!: NatsLink;
  const callSubscriptions = new Map<string, Subscription>();
  const remoteDefs = new Map<string, EventDef>();
  let call!: typeof callRemote;
  /**
   * The data of requests answered on another daemon: that daemon routes the
   * call too (its subscribers and log show it, with origin), so exporting
   * the request here as well would show it there twice.
   */
  const answeredElsewhere = new WeakSet<object>();

  function exportEvent(event: Parameters<Parameters<typeof ctx.bus.subscribe>[0]>[0]): void {
    if (!exportable(event, exportMatches) || answeredElsewhere.has(event.data as object)) return;
    const json = event.dataJson ?? JSON.stringify(event.data) ?? "null";
    const body = `{"data":${json},"ts":${event.ts}${event.agentId === undefined ? "" : `,"agent_id":${JSON.stringify(event.agentId)}`}}`;
    if (!link.connected && bufferedWhileDown + body.length > EXPORT_BUFFER_BYTES) {
      figures.dropped++;
      return;
    }
    // Bytes held while down count from the last export made while up.
    if (link.connected) bufferedWhileDown = 0;
    else bufferedWhileDown += body.length;
    try {
      if (link.publish(eventSubject(EVENT_PREFIX, event.event), body, { [ORIGIN_HEADER]: daemonId, [SEQ_HEADER]: String(event.seq) })) figures.exported++;
      else figures.dropped++;
    } catch (err) {
      figures.dropped++;
      link.failed(err, `export of ${event.event} dropped`);
    }
  }

  function importEvent(err: Error | null, msg: Msg): void {
    if (err !== null) return link.failed(err, "NATS import subscription failed");
    const origin = msg.headers?.get(ORIGIN_HEADER) || undefined;
    if (isOwnMessage(origin, daemonId)) return;
    const event = subjectEvent(EVENT_PREFIX, msg.subject);
    // The subscription may be wider than the globs (see globSubjects): what they do not match is not ours to import.
    if (event === undefined || !importMatches(event)) return;
    const body = decodeEvent(msg.data, maxBytes);
    if (!body.ok || origin === undefined) {
      figures.dropped++;
      link.failed(new Error(`${msg.subject}: ${body.ok ? "no origin header" : body.problem}`), "imported message refused");
      return;
    }
    figures.imported++;
    const seq = Number(msg.headers?.get(SEQ_HEADER));
    const meta: Record<string, unknown> = { origin };
    if (Number.isInteger(seq)) meta.origin_seq = seq;
    ctx.bus.publish({ ts: ctx.clock.now(), event, id: null, agentId: body.value.agent_id, ok: true, code: undefined, ms: 0, data: body.value.data, meta });
  }

  async function serveCall(err: Error | null, msg: Msg): Promise<void> {
    if (err !== null) return link.failed(err, "NATS call subscription failed");
    const origin = msg.headers?.get(ORIGIN_HEADER) || "unknown";
    const event = subjectEvent(CALL_PREFIX, msg.subject);
    const call = decodeCall(msg.data, maxBytes);
    let reply: ReplyBody;
    if (event === undefined || !call.ok) {
      reply = { ok: false, error: { code: "invalid_request", message: `daemon ${daemonId} cannot read the call on ${msg.subject}: ${call.ok ? "no event name" : call.problem}` } };
    } else if (!handlers.owns(event)) {
      // Its handler left between the call's delivery and now (the subscription ends with it).
      reply = { ok: false, error: { code: "no_handler", message: `the handler of ${event} on daemon ${daemonId} has just gone; retry`, details: { event } } };
    } else {
      figures.calls_served++;
      const outcome = await ctx.dispatch({ event, data: call.value.data, agentId: call.value.agent_id, depth: call.value.depth, meta: { origin } });
      reply = outcome.ok ? { ok: true, data: outcome.data ?? null } : { ok: false, error: outcome.error };
    }
    try {
      msg.respond(JSON.stringify(reply));
    } catch (respondErr) {
      link.failed(respondErr, `reply to a call of ${event ?? msg.subject} lost`);
    }
  }

  /** Call subjects follow the handlers registered here: one queue subscription per subject that carries exactly a pattern's events. */
  function syncCallSubscriptions(): void {
    const nc = link.client;
    if (nc === null) return;
    const wanted = new Set<string>();
    for (const pattern of handlers.answered()) {
      const { subjects, exact } = globSubjects(CALL_PREFIX, pattern);
      // A glob such as task:sc* has no NATS subject of its own: its events are answered here only.
      if (exact) for (const subject of subjects) wanted.add(subject);
    }
    for (const [subject, subscription] of callSubscriptions) {
      if (wanted.has(subject)) continue;
      subscription.unsubscribe();
      callSubscriptions.delete(subject);
    }
    for (const subject of wanted) {
      if (callSubscriptions.has(subject)) continue;
      callSubscriptions.set(subject, nc.subscribe(subject, { queue: CALL_QUEUE, callback: (e, m) => void serveCall(e, m) }));
    }
  }

  function subscribe(nc: NatsConnection): void {
    if (settings.imports.length > 0) {
      const subjects = disjointSubjects(EVENT_PREFIX, settings.imports.flatMap((glob) => globSubjects(EVENT_PREFIX, glob).subjects));
      for (const subject of subjects) nc.subscribe(subject, { callback: importEvent });
    }
    syncCallSubscriptions();
  }

  const remote: RemoteCallContext = {
    connection: () => link.connection,
    daemonId: () => daemonId,
    now: () => ctx.clock.now(),
    maxBytes,
    sent: () => void figures.calls_sent++,
  };

  /** Events no local handler answers: a definition whose handler asks the other daemons. */
  const source: EventSource = {
    get(name) {
      // Also while the link is down: the call then says so (and an emit stays a notification).
      if (DAEMON_NAMESPACES.has(name.slice(0, name.indexOf(":")))) return undefined;
      let def = remoteDefs.get(name);
      if (def === undefined) {
        if (remoteDefs.size >= MAX_CACHED_DEFS) remoteDefs.clear();
        def = remoteEvent(name, async (data, context) => {
          const outcome = await call(remote, name, data, context);
          if (!outcome.answered) return undefined;
          answeredElsewhere.add(data);
          return outcome.data;
        });
        remoteDefs.set(name, def);
      }
      return def;
    },
    names: () => [],
  };

  return {
    name: "nats",
    events: [],
    eventSource: source,
    async start() {
      daemonId = await loadDaemonId(ctx.config.daemonIdFile, log);
      // Loaded here, not at import: a daemon without --nats never loads the client.
      const [{ NatsLink }, remoteCall] = await Promise.all([import("./link.js"), import("./remote-call.js")]);
      call = remoteCall.callRemote;
      link = new NatsLink(hostPort(settings.url)!, `patternd ${daemonId}`, ctx.clock, log, subscribe);
      link.start();
      ctx.bus.subscribe(exportEvent);
      handlers.onRegistrationsChanged(syncCallSubscriptions);
      log.info({ url: settings.url, daemon_id: daemonId, exports: settings.exports, imports: settings.imports }, "NATS link starting");
    },
    stop: () => link.stop(),
    health: () => ({
      nats: {
        url: settings.url,
        connected: link.connected,
        daemon_id: daemonId,
        exported: figures.exported,
        imported: figures.imported,
        dropped: figures.dropped,
        calls: { sent: figures.calls_sent, served: figures.calls_served },
        last_error: link.lastError,
      },
    }),
  };
}

/** Data of an event answered on another daemon: any object here (the answering daemon checks it against its handler's schema). */
const ANY_DATA = z.custom<Record<string, unknown>>(() => true);

function remoteEvent(name: string, handler: (data: Record<string, unknown>, call: HandlerContext) => Promise<unknown>): EventDef {
  const summary = "answered by a handler on another daemon of the NATS link, if one is registered there";
  return {
    name,
    summary,
    description: `${summary}; no_handler when none is, on any daemon`,
    params: ANY_DATA,
    jsonSchema: { type: "object" },
    handler,
  };
}
