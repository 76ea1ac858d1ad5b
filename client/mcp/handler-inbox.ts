/**
 * An MCP agent as an event handler (handler_next / handler_reply): the
 * bridge registers the events on its daemon connection, holds each call the
 * daemon pushes until the agent asks for the next one, and answers it with
 * what the agent replies. A call whose deadline passes (or whose caller
 * leaves) is dropped from the inbox; replying to it then says so.
 */
import { HandlerError, type HandlerCall } from "../handlers.js";
import type { DaemonLink } from "./daemon-link.js";

export interface InboxCall {
  call_id: string;
  event: string;
  data: Record<string, unknown>;
  agent_id: string | null;
  deadline: string | null;
}

interface Held {
  view: InboxCall;
  answer(ok: boolean, value: unknown): void;
}

interface Registration {
  queue: Held[];
  waiters: ((held: Held | null) => void)[];
}

export interface NextOptions {
  events: string[];
  mode?: "exclusive" | "group" | undefined;
  group?: string | undefined;
}

/** Calls a registration lets the daemon push to the bridge at once; more wait in the daemon's queue. */
const CALLS_HELD = 64;

export class HandlerInbox {
  private readonly registrations = new Map<string, Registration>();
  private readonly awaitingReply = new Map<string, Held>();
  private readonly ended = new Map<string, string>();

  constructor(private readonly link: DaemonLink) {}

  /**
   * The next call for these events, waiting up to `timeoutMs`; null when none came. Registers on
   * first use. A wait the MCP client cancelled (`signal`) takes no call: one arriving then stays
   * queued for the next handler_next, since nobody would see it handed out.
   */
  async next(options: NextOptions, timeoutMs: number, signal?: AbortSignal): Promise<{ call: InboxCall | null; waiting: number }> {
    await this.link.connection(); // after a daemon restart: reconnects, registering again
    const registration = await this.registration(options);
    const cancelled = () => signal?.aborted === true;
    if (cancelled()) return { call: null, waiting: registration.queue.length };
    const ready = registration.queue.shift();
    if (ready !== undefined) return { call: this.handOut(ready), waiting: registration.queue.length };
    const held = await new Promise<Held | null>((resolve) => {
      const stop = () => {
        const index = registration.waiters.indexOf(waiter);
        if (index !== -1) registration.waiters.splice(index, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", stop);
        resolve(null);
      };
      const timer = setTimeout(stop, timeoutMs);
      const waiter = (found: Held | null) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", stop);
        resolve(found);
      };
      signal?.addEventListener("abort", stop, { once: true });
      registration.waiters.push(waiter);
    });
    if (held !== null && cancelled()) {
      registration.queue.unshift(held);
      return { call: null, waiting: registration.queue.length };
    }
    return { call: held === null ? null : this.handOut(held), waiting: registration.queue.length };
  }

  /** Answers a call handed out by next(); throws HandlerError not_found for a call unknown or already ended. */
  reply(callId: string, ok: boolean, value: unknown): void {
    const held = this.awaitingReply.get(callId);
    if (held === undefined) {
      const why = this.ended.get(callId);
      throw new HandlerError(
        "not_found",
        why === undefined
          ? `no call ${callId} is waiting for a reply from this agent; take calls with handler_next`
          : `call ${callId} already ended (${why}); its caller no longer waits`,
      );
    }
    this.awaitingReply.delete(callId);
    held.answer(ok, value);
  }

  private handOut(held: Held): InboxCall {
    this.awaitingReply.set(held.view.call_id, held);
    return held.view;
  }

  private async registration(options: NextOptions): Promise<Registration> {
    const key = JSON.stringify([[...options.events].sort(), options.mode ?? "exclusive", options.group ?? null]);
    const known = this.registrations.get(key);
    if (known !== undefined) return known;
    const registration: Registration = { queue: [], waiters: [] };
    const handleOptions = {
      concurrency: CALLS_HELD,
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.group === undefined ? {} : { group: options.group }),
    };
    await this.link.handle(options.events, (data, call) => this.receive(registration, data, call), handleOptions);
    this.link.refreshEvents();
    this.registrations.set(key, registration);
    return registration;
  }

  private receive(registration: Registration, data: Record<string, unknown>, call: HandlerCall): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const held: Held = {
        view: { call_id: call.callId, event: call.event, data, agent_id: call.agentId ?? null, deadline: call.deadline ?? null },
        answer: (ok, value) => {
          if (ok) resolve(value);
          else {
            const error = (value ?? {}) as { code?: string; message?: string };
            reject(new HandlerError(error.code ?? "handler_error", error.message ?? "the agent answered with an error"));
          }
        },
      };
      call.signal.addEventListener("abort", () => {
        const index = registration.queue.indexOf(held);
        if (index !== -1) registration.queue.splice(index, 1);
        this.awaitingReply.delete(call.callId);
        this.ended.set(call.callId, String(call.signal.reason ?? "cancelled"));
        if (this.ended.size > 1_000) this.ended.delete(this.ended.keys().next().value!);
      });
      const waiter = registration.waiters.shift();
      if (waiter !== undefined) waiter(held);
      else registration.queue.push(held);
    });
  }
}
