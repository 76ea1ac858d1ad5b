/**
 * Calls in flight to connected handlers (issue 14): each handler's bounded
 * queue and concurrency, the handler:call push, the reply, and every way a
 * call ends without one — its deadline (handler:cancel is pushed), its
 * handler's connection closing (handler_gone), its caller going away
 * (handler:cancel). Exactly one outcome per call.
 *
 * Kept cheap, since a call is the hot path: no per-call timer (each handler
 * has one, armed for its earliest deadline: one timeout per handler means
 * deadlines come in arrival order), no per-call closures beyond the caller's
 * promise, and queues that delete lazily.
 */
import type { Clock } from "../../core/clock.js";
import type { WireError } from "../../core/errors.js";
import type { Log } from "../../core/log.js";
import type { Session } from "../../core/session.js";
import type { Registration } from "./registrations.js";

export type CallOutcome = { ok: true; data: unknown } | { ok: false; error: WireError };

/** Receives a call's one outcome (its `started` tells how long it took). */
export type CallDone = (call: Call, outcome: CallOutcome) => void;

const QUEUED = 0;
const RUNNING = 1;
const SETTLED = 2;

export class Call {
  state = QUEUED;
  /** True once its handler answered (rather than the daemon ending it). */
  answered = false;

  constructor(
    readonly id: string,
    readonly serial: number,
    readonly registration: Registration,
    readonly event: string,
    readonly data: Record<string, unknown>,
    readonly agentId: string | undefined,
    /** Emit depth of the request that made the call. */
    readonly depth: number,
    /** The connection waiting for the answer; null for the daemon's own dispatches (emits, schedules). */
    readonly caller: Session | null,
    /** Epoch ms. */
    readonly deadline: number,
    /** performance.now() when the call was made. */
    readonly started: number,
    readonly done: CallDone,
  ) {}

  get settled(): boolean {
    return this.state === SETTLED;
  }
}

/** Lazily deleted queues are compacted once this many dead entries lead them (and they are half the array). */
const COMPACT_AFTER = 1024;

export type ReplyVerdict = "accepted" | "late" | "unknown";

export class Calls {
  private readonly inFlight = new Map<string, Call>();
  private serial = 0;
  /** Running calls per handler connection, to know when its requests stop counting as nested (emit depth). */
  private readonly runningBySession = new Map<Session, number>();

  constructor(
    private readonly clock: Clock,
    private readonly log: Log,
    /** Set by start(): the id prefix is unique per daemon run, so a stale id from another run is "unknown", not "late". */
    private readonly idPrefix: string,
  ) {}

  get size(): number {
    return this.inFlight.size;
  }

  /** A fresh call id; also used for observer pushes (which are never answered). */
  nextId(): { id: string; serial: number } {
    const serial = ++this.serial;
    return { id: this.idPrefix + serial.toString(36), serial };
  }

  /**
   * Starts a call on `registration`: runs it at once when a slot is free,
   * else queues it. Returns false, starting nothing, when the queue is full.
   */
  start(
    registration: Registration,
    event: string,
    data: Record<string, unknown>,
    agentId: string | undefined,
    depth: number,
    caller: Session | null,
    started: number,
    done: CallDone,
  ): Call | null {
    const { input } = registration;
    const canRun = registration.running < input.concurrency && registration.queued === 0;
    if (!canRun && registration.queued >= input.maxQueue) return null;
    const { id, serial } = this.nextId();
    const call = new Call(id, serial, registration, event, data, agentId, depth, caller, this.clock.now() + input.timeoutMs, started, done);
    this.inFlight.set(id, call);
    registration.deadlines.push(call);
    if (registration.timer === null) this.arm(registration, input.timeoutMs);
    if (canRun) this.run(call);
    else {
      registration.queue.push(call);
      registration.queued++;
    }
    return call;
  }

  /** The handler's answer to `callId`, from the connection `session`. */
  reply(session: Session | null, callId: string, outcome: CallOutcome): ReplyVerdict {
    const call = this.inFlight.get(callId);
    if (call === undefined || call.registration.session !== session || call.state !== RUNNING) {
      return this.isPast(callId) && call === undefined ? "late" : "unknown";
    }
    call.registration.answered++;
    call.answered = true;
    this.settle(call, outcome);
    return "accepted";
  }

  /** Ends a call without its answer (a collect that is over, a caller that left): handler:cancel is pushed if it was running. */
  cancel(call: Call, reason: string, outcome: CallOutcome): void {
    if (call.state === SETTLED) return;
    if (call.state === RUNNING) this.pushCancel(call, reason);
    this.settle(call, outcome);
  }

  /** The caller's connection closed: its calls are cancelled (nobody waits for them). */
  callerGone(session: Session): void {
    for (const call of this.inFlight.values()) {
      if (call.caller === session) {
        this.cancel(call, "caller_gone", { ok: false, error: { code: "handler_gone", message: "the caller went away" } });
      }
    }
  }

  /** A handler's connection closed (or it was unregistered with calls waiting): its calls fail with handler_gone. */
  handlerGone(registration: Registration, why: string): void {
    const error = goneError(registration, why);
    for (const call of registration.deadlines.slice(registration.deadlinesHead)) {
      if (call.state !== SETTLED) this.settle(call, { ok: false, error });
    }
    if (registration.timer !== null) this.clock.clearTimer(registration.timer);
    registration.timer = null;
  }

  /** Calls still waiting in the handler's queue (never pushed) fail with handler_gone; pushed ones may still be answered. */
  dropQueued(registration: Registration, why: string): void {
    const error = goneError(registration, why);
    for (const call of registration.queue.slice(registration.queueHead)) {
      if (call !== undefined && call.state === QUEUED) this.settle(call, { ok: false, error });
    }
  }

  private run(call: Call): void {
    call.state = RUNNING;
    const { registration } = call;
    registration.running++;
    const { session } = registration;
    this.runningBySession.set(session, (this.runningBySession.get(session) ?? 0) + 1);
    // Requests the handler makes while answering are nested in this call (the emit depth spans handler calls).
    if (session.nesting < call.depth + 1) session.nesting = call.depth + 1;
    // Forced: at most `concurrency` calls are pushed and unanswered per handler, so this queue is bounded by it.
    session.push(
      {
        event: "handler:call",
        data: {
          call_id: call.id,
          handler_id: registration.id,
          event: call.event,
          data: call.data,
          agent_id: call.agentId,
          deadline: new Date(call.deadline).toISOString(),
        },
      },
      true,
    );
  }

  private settle(call: Call, outcome: CallOutcome): void {
    const { registration } = call;
    const wasRunning = call.state === RUNNING;
    if (call.state === QUEUED) registration.queued--;
    call.state = SETTLED;
    this.inFlight.delete(call.id);
    if (wasRunning) {
      registration.running--;
      const { session } = registration;
      const left = this.runningBySession.get(session)! - 1;
      if (left === 0) {
        this.runningBySession.delete(session);
        session.nesting = 0;
      } else this.runningBySession.set(session, left);
      this.pump(registration);
    }
    compactHead(registration, "queue", "queueHead");
    compactDeadlines(registration);
    try {
      call.done(call, outcome);
    } catch (err) {
      this.log.error({ err, call_id: call.id }, "call completion failed");
    }
  }

  /** Starts queued calls while slots are free (only on a live handler). */
  private pump(registration: Registration): void {
    while (registration.active && registration.running < registration.input.concurrency && registration.queued > 0) {
      const call = registration.queue[registration.queueHead]!;
      registration.queue[registration.queueHead++] = undefined as unknown as Call;
      if (call.state !== QUEUED) continue;
      registration.queued--;
      this.run(call);
    }
    if (registration.queued === 0) {
      registration.queue.length = 0;
      registration.queueHead = 0;
    }
  }

  private arm(registration: Registration, delayMs: number): void {
    registration.timer = this.clock.setTimer(() => this.expire(registration), Math.max(0, delayMs));
  }

  /** Times out every call past its deadline, then re-arms for the next one. */
  private expire(registration: Registration): void {
    registration.timer = null;
    const now = this.clock.now();
    const { deadlines } = registration;
    while (registration.deadlinesHead < deadlines.length) {
      const call = deadlines[registration.deadlinesHead]!;
      if (call.state === SETTLED) {
        registration.deadlinesHead++;
        continue;
      }
      if (call.deadline > now) {
        this.arm(registration, call.deadline - now);
        break;
      }
      registration.deadlinesHead++;
      const deadline = new Date(call.deadline).toISOString();
      this.log.info({ call_id: call.id, handler_id: registration.id, event: call.event }, "call timed out");
      this.cancel(call, "timeout", {
        ok: false,
        error: {
          code: "timeout",
          message: `handler ${registration.id} did not answer ${call.event} within ${registration.input.timeoutMs} ms`,
          details: { deadline, handler_id: registration.id },
        },
      });
    }
    if (registration.deadlinesHead >= deadlines.length) {
      deadlines.length = 0;
      registration.deadlinesHead = 0;
    }
  }

  private pushCancel(call: Call, reason: string): void {
    call.registration.session.push({ event: "handler:cancel", data: { call_id: call.id, handler_id: call.registration.id, reason } }, true);
  }

  /** Was `callId` issued earlier in this run (so a reply to it now is late)? */
  private isPast(callId: string): boolean {
    if (!callId.startsWith(this.idPrefix)) return false;
    const serial = parseInt(callId.slice(this.idPrefix.length), 36);
    return Number.isInteger(serial) && serial > 0 && serial <= this.serial;
  }
}

function goneError(registration: Registration, why: string): WireError {
  return {
    code: "handler_gone",
    message: `handler ${registration.id} for ${registration.input.events.join(", ")} ${why} before answering`,
    details: { handler_id: registration.id },
  };
}

/**
 * Keeps the deadline list about as long as the calls still live: settled
 * calls at its head are skipped at once, and when one slow call holds the
 * head while many others finish behind it, the list is filtered (so it
 * never holds the data of calls long answered).
 */
function compactDeadlines(registration: Registration): void {
  const { deadlines } = registration;
  while (registration.deadlinesHead < deadlines.length && deadlines[registration.deadlinesHead]!.state === SETTLED) registration.deadlinesHead++;
  if (registration.deadlinesHead === deadlines.length) {
    deadlines.length = 0;
    registration.deadlinesHead = 0;
    return;
  }
  const live = registration.running + registration.queued;
  if (deadlines.length - registration.deadlinesHead > 2 * live + COMPACT_AFTER) {
    let kept = 0;
    for (let i = registration.deadlinesHead; i < deadlines.length; i++) if (deadlines[i]!.state !== SETTLED) deadlines[kept++] = deadlines[i]!;
    deadlines.length = kept;
    registration.deadlinesHead = 0;
  } else compactHead(registration, "deadlines", "deadlinesHead");
}

/** Drops the settled entries at the head of a lazily deleted queue once they are many. */
function compactHead(registration: Registration, list: "queue" | "deadlines", head: "queueHead" | "deadlinesHead"): void {
  const start = registration[head];
  if (start < COMPACT_AFTER || start * 2 < registration[list].length) return;
  registration[list].splice(0, start);
  registration[head] = 0;
}
