/**
 * A call made here for an event no local handler answers, sent to the other
 * daemons of the NATS link as a request (issue 19). The answering daemon
 * enforces its handler's timeout and sends back the reply or the error with
 * its code; this side waits at most as long as any handler may take, so
 * its own deadline only ends calls to a daemon that vanished mid-call.
 */
import { errors, headers, type NatsConnection } from "@nats-io/transport-node";
import { DaemonError } from "../../core/errors.js";
import type { HandlerContext } from "../../core/event.js";
import { HANDLER_LIMITS } from "../handler/handler.js";
import { decodeReply, ORIGIN_HEADER, type CallBody } from "./model/messages.js";
import { CALL_PREFIX, eventSubject } from "./model/subjects.js";

/** The longest a handler may take, and a margin for the answer to travel back. */
export const REMOTE_CALL_TIMEOUT_MS = HANDLER_LIMITS.maxTimeoutMs + 5_000;

export interface RemoteCallContext {
  /** The connection while the link is up. */
  connection(): NatsConnection | null;
  daemonId(): string;
  /** The daemon's clock (epoch ms). */
  now(): number;
  maxBytes: number;
  /** Counts a call sent. */
  sent(): void;
}

/** What a remote call came to: a daemon's answer, or none (an emitted event nobody handles anywhere: a notification). */
export type RemoteOutcome = { answered: true; data: unknown } | { answered: false };

const NOT_ANSWERED: RemoteOutcome = Object.freeze({ answered: false });

/** Throws the answering daemon's error as it came (code, message, details), and no_handler or timeout as a local call would. */
export async function callRemote(remote: RemoteCallContext, event: string, data: Record<string, unknown>, call: HandlerContext): Promise<RemoteOutcome> {
  // An emitted event (no caller connection) without a handler is a notification, as it is without the link (SPEC §3 event:emit).
  const emitted = call.session === null;
  const nc = remote.connection();
  if (nc === null) {
    if (emitted) return NOT_ANSWERED;
    throw noHandler(event, "no handler answers it here, and the NATS link to other daemons is down");
  }
  const body: CallBody = { data, depth: call.depth };
  if (call.agentId !== undefined) body.agent_id = call.agentId;
  const h = headers();
  h.set(ORIGIN_HEADER, remote.daemonId());
  remote.sent();
  const deadline = remote.now() + REMOTE_CALL_TIMEOUT_MS;
  let answer;
  try {
    answer = await nc.request(eventSubject(CALL_PREFIX, event), JSON.stringify(body), { timeout: REMOTE_CALL_TIMEOUT_MS, headers: h });
  } catch (err) {
    if (isNoResponders(err)) {
      if (emitted) return NOT_ANSWERED;
      throw noHandler(event, "no handler answers it, here or on any daemon of the NATS link");
    }
    if (isTimeout(err)) {
      throw new DaemonError("timeout", `no daemon of the NATS link answered ${event} within ${REMOTE_CALL_TIMEOUT_MS} ms`, { deadline: new Date(deadline).toISOString() });
    }
    throw new DaemonError("unavailable", `the call of ${event} through NATS failed: ${(err as Error).message}; retry`, { event });
  }
  const reply = decodeReply(answer.data, remote.maxBytes);
  if (!reply.ok) throw new DaemonError("internal", `the answer to ${event} from another daemon could not be read: ${reply.problem}`);
  if (reply.value.ok) return { answered: true, data: reply.value.data };
  const { code, message, details } = reply.value.error;
  throw new DaemonError(code, message, details);
}

function noHandler(event: string, why: string): DaemonError {
  return new DaemonError("no_handler", `${why}: ${event}; a process registers one with handler:register (pat handle ${event} -- COMMAND)`, { event });
}

function isNoResponders(err: unknown): boolean {
  return (err instanceof errors.RequestError && err.isNoResponders()) || err instanceof errors.NoRespondersError;
}

function isTimeout(err: unknown): boolean {
  return err instanceof errors.TimeoutError || (err instanceof errors.RequestError && err.cause instanceof errors.TimeoutError);
}
