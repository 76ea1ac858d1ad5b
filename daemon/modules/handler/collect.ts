/**
 * All-of calls (issue 14, `event:emit {collect}`): the event goes to every
 * handler that answers it (the exclusive owner and every group member), the
 * answers are gathered until all came, `max` came, the reducer is decided
 * (`first`) or `wait_ms` passed; whoever has not answered by then is
 * cancelled and listed in `missing`.
 */
import { performance } from "node:perf_hooks";
import type { Clock } from "../../core/clock.js";
import type { Session } from "../../core/session.js";
import type { Call, CallOutcome, Calls } from "./calls.js";
import { isDecided, parseReducer, reduce, type CollectedResponse } from "./model/reduce.js";
import type { Registration, Route } from "./registrations.js";

export interface CollectSpec {
  max?: number | undefined;
  wait_ms?: number | undefined;
  reduce?: string | undefined;
}

export interface CollectResult {
  responses: CollectedResponse[];
  reduced?: unknown;
  missing: string[];
}

export interface CollectRequest {
  route: Route;
  event: string;
  data: Record<string, unknown>;
  agentId: string | undefined;
  depth: number;
  caller: Session | null;
}

export function collect(calls: Calls, clock: Clock, request: CollectRequest, spec: CollectSpec): Promise<CollectResult> {
  const { route } = request;
  const handlers: Registration[] = route.exclusive === undefined ? [...route.members] : [route.exclusive, ...route.members.filter((m) => m !== route.exclusive)];
  const reducer = spec.reduce === undefined ? undefined : parseReducer(spec.reduce);
  const max = Math.min(spec.max ?? handlers.length, handlers.length);
  const started = performance.now();
  return new Promise((resolve) => {
    const responses: CollectedResponse[] = [];
    const answeredBy = new Set<string>();
    const pending: Call[] = [];
    let ended = false;
    let timer: { id: number } | null = null;

    const end = () => {
      if (ended) return;
      ended = true;
      if (timer !== null) clock.clearTimer(timer);
      const missing = handlers.filter((h) => !answeredBy.has(h.id)).map((h) => h.id);
      for (const call of pending) calls.cancel(call, "collected", { ok: false, error: { code: "timeout", message: "the collect ended before this handler answered" } });
      const result: CollectResult = { responses, missing };
      if (reducer !== undefined) {
        const reduced = reduce(reducer, responses);
        if (reduced !== undefined) result.reduced = reduced;
      }
      resolve(result);
    };
    /** Handlers done with: answered, refused, or ended by the daemon. */
    let finished = 0;
    const decided = () => responses.length >= max || finished >= handlers.length || isDecided(reducer, responses);
    const record = (handlerId: string, outcome: CallOutcome, ms: number) => {
      answeredBy.add(handlerId);
      responses.push(outcome.ok ? { handler_id: handlerId, ok: true, data: outcome.data, ms } : { handler_id: handlerId, ok: false, error: outcome.error, ms });
    };
    const onDone = (call: Call, outcome: CallOutcome) => {
      if (ended) return;
      finished++;
      if (call.answered) record(call.registration.id, outcome, round(performance.now() - call.started));
      if (decided()) end();
    };

    for (const handler of handlers) {
      const call = calls.start(handler, request.event, request.data, request.agentId, request.depth, request.caller, started, onDone);
      if (call === null) {
        finished++;
        record(handler.id, { ok: false, error: { code: "limit_exceeded", message: `handler ${handler.id} has ${handler.input.maxQueue} calls waiting`, details: { limit: handler.input.maxQueue } } }, 0);
      } else pending.push(call);
    }
    if (decided()) {
      end();
      return;
    }
    if (spec.wait_ms !== undefined) timer = clock.setTimer(end, spec.wait_ms);
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
