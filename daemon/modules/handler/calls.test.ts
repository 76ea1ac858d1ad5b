import { describe, expect, it } from "vitest";
import { manualClock } from "../../core/clock.js";
import { silentLog } from "../../core/log.js";
import type { DirectPush, Push } from "../../core/protocol.js";
import type { Session } from "../../core/session.js";
import { Calls, type Call, type CallOutcome } from "./calls.js";
import { Registration, type RegistrationInput } from "./registrations.js";

interface FakeSession extends Session {
  pushes: (Push | DirectPush)[];
}

function fakeSession(id: number): FakeSession {
  const session: FakeSession = {
    id,
    agentId: undefined,
    nesting: 0,
    pushes: [],
    push(message) {
      session.pushes.push(message);
      return true;
    },
    onClose: () => undefined,
    onInputEnd: () => undefined,
  };
  return session;
}

function setup(input: Partial<RegistrationInput> = {}) {
  const clock = manualClock(1_000);
  const calls = new Calls(clock, silentLog(), "c");
  const session = fakeSession(1);
  const registration = new Registration(
    "h_1",
    session,
    undefined,
    { events: ["task:run"], mode: "exclusive", group: undefined, concurrency: 1, timeoutMs: 100, maxQueue: 2, params: undefined, description: undefined, ...input },
    clock.now(),
  );
  const outcomes: { id: string; outcome: CallOutcome }[] = [];
  const done = (call: Call, outcome: CallOutcome) => outcomes.push({ id: call.id, outcome });
  const start = (caller: Session | null = null, depth = 0) => calls.start(registration, "task:run", { n: 1 }, "agent", depth, caller, 0, done);
  const pushed = (event: string) => session.pushes.filter((p) => p.event === event).map((p) => p.data as Record<string, unknown>);
  return { clock, calls, session, registration, outcomes, start, pushed };
}

describe("Calls", () => {
  it("pushes up to `concurrency` calls, queues the rest, refuses past the queue bound", () => {
    const { start, pushed, registration } = setup();
    const first = start()!;
    expect(start()).not.toBeNull();
    expect(start()).not.toBeNull();
    expect(start()).toBeNull(); // 1 running + 2 queued
    expect(pushed("handler:call").map((d) => d.call_id)).toEqual([first.id]);
    expect(pushed("handler:call")[0]).toMatchObject({ handler_id: "h_1", event: "task:run", data: { n: 1 }, agent_id: "agent", deadline: new Date(1_100).toISOString() });
    expect([registration.running, registration.queued]).toEqual([1, 2]);
  });

  it("a reply settles the call and pushes the next queued one; a second reply is late, a foreign one unknown", () => {
    const { start, calls, session, pushed, outcomes } = setup();
    const first = start()!;
    const second = start()!;
    expect(calls.reply(fakeSession(2), first.id, { ok: true, data: 1 })).toBe("unknown");
    expect(calls.reply(session, first.id, { ok: true, data: 1 })).toBe("accepted");
    expect(outcomes).toEqual([{ id: first.id, outcome: { ok: true, data: 1 } }]);
    expect(pushed("handler:call").map((d) => d.call_id)).toEqual([first.id, second.id]);
    expect(calls.reply(session, first.id, { ok: true, data: 2 })).toBe("late");
    expect(calls.reply(session, "c999", { ok: true, data: 2 })).toBe("unknown");
  });

  it("times out at the deadline: handler:cancel for the running call, queued ones fail too, late replies are dropped", () => {
    const { clock, start, calls, session, pushed, outcomes } = setup();
    const first = start()!;
    clock.advance(50);
    const second = start()!;
    clock.advance(50);
    expect(outcomes.map((o) => [o.id, o.outcome.ok ? "ok" : o.outcome.error.code])).toEqual([[first.id, "timeout"]]);
    expect(pushed("handler:cancel")).toEqual([{ call_id: first.id, handler_id: "h_1", reason: "timeout" }]);
    // The queued call was pushed when the slot freed, and has its own deadline.
    expect(pushed("handler:call").map((d) => d.call_id)).toEqual([first.id, second.id]);
    expect(calls.reply(session, first.id, { ok: true, data: 1 })).toBe("late");
    clock.advance(50);
    expect(outcomes.map((o) => o.id)).toEqual([first.id, second.id]);
    expect(calls.size).toBe(0);
  });

  it("a handler gone fails every call it holds with handler_gone, at once", () => {
    const { start, calls, registration, outcomes } = setup();
    start();
    start();
    registration.active = false;
    calls.handlerGone(registration, "closed its connection");
    expect(outcomes.map((o) => (o.outcome.ok ? "ok" : o.outcome.error))).toEqual([
      { code: "handler_gone", message: "handler h_1 for task:run closed its connection before answering", details: { handler_id: "h_1" } },
      { code: "handler_gone", message: "handler h_1 for task:run closed its connection before answering", details: { handler_id: "h_1" } },
    ]);
    expect(calls.size).toBe(0);
  });

  it("a caller gone cancels its calls (handler:cancel caller_gone) and leaves others", () => {
    const { start, calls, pushed, outcomes, registration } = setup({ concurrency: 2 });
    const caller = fakeSession(7);
    const mine = start(caller)!;
    const other = start(null)!;
    calls.callerGone(caller);
    expect(pushed("handler:cancel")).toEqual([{ call_id: mine.id, handler_id: "h_1", reason: "caller_gone" }]);
    expect(outcomes.map((o) => o.id)).toEqual([mine.id]);
    expect(registration.running).toBe(1);
    expect(other.settled).toBe(false);
  });

  it("the handler's connection counts as nested in its calls while answering them (emit depth)", () => {
    const { start, calls, session } = setup({ concurrency: 2 });
    const first = start(null, 3)!;
    expect(session.nesting).toBe(4);
    calls.reply(session, first.id, { ok: true, data: null });
    expect(session.nesting).toBe(0);
  });

  it("compacts its queues: 5 000 calls through one handler leave nothing behind", () => {
    const { start, calls, session, registration } = setup({ maxQueue: 10_000 });
    const all = Array.from({ length: 5_000 }, () => start()!);
    for (const call of all) calls.reply(session, call.id, { ok: true, data: null });
    expect(calls.size).toBe(0);
    expect(registration.queue.length - registration.queueHead).toBeLessThanOrEqual(0);
    expect(registration.deadlines.length).toBe(0);
  });
});

describe("Calls: memory stays bounded by the live calls", () => {
  it("one slow call does not make the handler keep every call answered after it", () => {
    const { start, calls, session, registration } = setup({ concurrency: 2, maxQueue: 10 });
    start(); // never answered
    for (let i = 0; i < 10_000; i++) {
      const call = start()!;
      calls.reply(session, call.id, { ok: true, data: null });
    }
    expect(calls.size).toBe(1);
    expect(registration.deadlines.length - registration.deadlinesHead).toBeLessThan(1_100);
  });
});
