import { describe, expect, it } from "vitest";
import { Bus } from "../../core/bus.js";
import { DaemonError } from "../../core/errors.js";
import type { Push } from "../../core/protocol.js";
import type { Session } from "../../core/session.js";
import { Subscriptions } from "./subscriptions.js";

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const QUEUE_LIMIT = 1234;

interface FakeSession extends Session {
  pushes: { message: Push; force: boolean }[];
  /** How many more unforced pushes the "socket" accepts. */
  room: number;
  close(): void;
}

function fakeSession(id: number): FakeSession {
  const onClose: (() => void)[] = [];
  const session: FakeSession = {
    id,
    agentId: undefined,
    nesting: 0,
    pushes: [],
    room: Infinity,
    push(message, force = false) {
      if (!force && session.room <= 0) return false;
      if (!force) session.room--;
      session.pushes.push({ message: message as Push, force });
      return true;
    },
    onClose: (callback) => onClose.push(callback),
    onInputEnd: () => undefined,
    close: () => onClose.splice(0).forEach((callback) => callback()),
  };
  return session;
}

function setup(options: { replay?: number; perConnection?: number; replayBytes?: number } = {}) {
  const bus = new Bus((err) => {
    throw err;
  });
  const subs = new Subscriptions(options.replay ?? 100, options.perConnection ?? 8, QUEUE_LIMIT, options.replayBytes ?? 1024 * 1024);
  bus.subscribe(subs.onEvent);
  let ts = T0;
  const publish = (event: string, ok = true, data: unknown = { name: event }) =>
    bus.publish({ ts: ts++, event, id: null, agentId: undefined, ok, ms: 0, data }).seq;
  const subscribe = (session: Session, patterns: string[], sinceSeq?: number) => subs.add(session, patterns, bus.lastSeq, sinceSeq);
  return { bus, subs, publish, subscribe };
}

/** Subscriptions release held events on the next turn of the event loop. */
const released = () => new Promise((resolve) => setImmediate(resolve));

const events = (session: FakeSession) => session.pushes.map((p) => p.message.event);
const seqs = (session: FakeSession) => session.pushes.map((p) => p.message.seq);

function thrown(run: () => unknown): DaemonError {
  try {
    run();
  } catch (err) {
    if (err instanceof DaemonError) return err;
    throw err;
  }
  throw new Error("expected a DaemonError");
}

describe("Subscriptions", () => {
  it.each<[string[], string[]]>([
    [["composition:*"], ["composition:fork", "composition:changed"]],
    [["orchestration:**"], ["orchestration:run", "orchestration:run:done"]],
    [["composition:*", "system:health"], ["composition:fork", "system:health", "composition:changed"]],
    [["**"], ["composition:fork", "system:health", "orchestration:run", "composition:fork:x", "orchestration:run:done", "composition:changed"]],
    [["nothing:*"], []],
  ])("pushes only events matching %j", async (patterns, expected) => {
    const { publish, subscribe } = setup();
    const session = fakeSession(1);
    subscribe(session, patterns);
    await released();
    for (const name of ["composition:fork", "system:health", "orchestration:run", "composition:fork:x", "orchestration:run:done", "composition:changed"]) {
      publish(name);
    }
    expect(events(session)).toEqual(expected);
  });

  it("pushes only events that succeeded", async () => {
    const { publish, subscribe } = setup();
    const session = fakeSession(1);
    subscribe(session, ["a:*"]);
    await released();
    publish("a:one", false);
    publish("a:two", true);
    expect(events(session)).toEqual(["a:two"]);
  });

  it("shapes each push as {event, data, subscription, seq, ts}", async () => {
    const { publish, subscribe } = setup();
    const session = fakeSession(1);
    const { subscription } = subscribe(session, ["a:*"]);
    await released();
    const seq = publish("a:b", true, { x: [1, 2] });
    expect(session.pushes).toEqual([
      { message: { event: "a:b", data: { x: [1, 2] }, subscription, seq, ts: new Date(T0).toISOString() }, force: false },
    ]);
  });

  it("holds events until the subscribe reply is out, then delivers them in order", async () => {
    const { publish, subscribe } = setup();
    const session = fakeSession(1);
    const result = subscribe(session, ["a:*"]);
    expect(result).toEqual({ subscription: "s1", seq: 0 });
    const first = publish("a:1");
    const second = publish("a:2");
    expect(session.pushes).toEqual([]);
    await released();
    expect(seqs(session)).toEqual([first, second]);
    const third = publish("a:3");
    expect(seqs(session)).toEqual([first, second, third]);
  });

  it("replays events after since_seq that are still in memory, before live ones", async () => {
    const { publish, subscribe } = setup();
    const session = fakeSession(1);
    publish("a:1"); // seq 1
    publish("a:2"); // seq 2
    publish("b:3"); // seq 3, does not match
    publish("a:4", false); // seq 4, failed
    publish("a:5"); // seq 5
    const result = subscribe(session, ["a:*"], 1);
    expect(result).toEqual({ subscription: "s1", seq: 5 });
    publish("a:6"); // arrives while the replay is held
    await released();
    expect(seqs(session)).toEqual([2, 5, 6]);
  });

  it.each<[number, number[], boolean]>([
    [0, [3, 4, 5], true],
    [1, [3, 4, 5], true],
    [2, [3, 4, 5], false],
    [4, [5], false],
    [5, [], false],
  ])("with a replay ring of 3, since_seq %i replays %j (missed: %s)", async (since, expected, missed) => {
    const { publish, subscribe } = setup({ replay: 3 });
    for (let i = 1; i <= 5; i++) publish(`a:${i}`);
    const session = fakeSession(1);
    const result = subscribe(session, ["a:*"], since);
    expect(result.missed === true).toBe(missed);
    await released();
    expect(seqs(session)).toEqual(expected);
  });

  it("keeps at most replayBytes of data in memory: big events push old ones out, and a late since_seq is told it missed them", async () => {
    const { bus, subscribe } = setup({ replay: 100, replayBytes: 10_000 });
    let ts = T0;
    const publishSized = (event: string, bytes: number) => bus.publish({ ts: ts++, event, id: null, agentId: undefined, ok: true, ms: 0, data: { text: "x".repeat(bytes - 11) } }).seq;
    for (let i = 1; i <= 5; i++) publishSized(`a:${i}`, 3_000);
    const session = fakeSession(1);
    const result = subscribe(session, ["a:*"], 0);
    expect(result.missed).toBe(true);
    await released();
    expect(seqs(session)).toEqual([3, 4, 5]);
    // Kept as JSON text, replayed as the data it was.
    expect(session.pushes.map((p) => p.message.data)).toEqual([3, 4, 5].map(() => ({ text: "x".repeat(2_989) })));
  });

  it("replays nothing without since_seq", async () => {
    const { publish, subscribe } = setup();
    publish("a:1");
    const session = fakeSession(1);
    subscribe(session, ["a:*"]);
    await released();
    expect(session.pushes).toEqual([]);
  });

  it("removes a subscription only for the connection that owns it", async () => {
    const { subs, publish, subscribe } = setup();
    const owner = fakeSession(1);
    const other = fakeSession(2);
    const { subscription } = subscribe(owner, ["a:*"]);
    await released();
    const err = thrown(() => subs.remove(other, subscription));
    expect(err.code).toBe("not_found");
    expect(thrown(() => subs.remove(owner, "s999")).code).toBe("not_found");
    publish("a:1");
    expect(owner.pushes).toHaveLength(1);

    subs.remove(owner, subscription);
    expect(subs.size).toBe(0);
    publish("a:2");
    expect(owner.pushes).toHaveLength(1);
    expect(thrown(() => subs.remove(owner, subscription)).code).toBe("not_found");
  });

  it("bounds the subscriptions of one connection", () => {
    const { subs, subscribe } = setup({ perConnection: 2 });
    const session = fakeSession(1);
    const first = subscribe(session, ["a:*"]);
    subscribe(session, ["b:*"]);
    const err = thrown(() => subscribe(session, ["c:*"]));
    expect(err.code).toBe("limit_exceeded");
    expect(err.details).toEqual({ limit: 2 });
    // Another connection has its own allowance, and removing one frees a place.
    subscribe(fakeSession(2), ["a:*"]);
    subs.remove(session, first.subscription);
    expect(() => subscribe(session, ["c:*"])).not.toThrow();
    expect(subs.size).toBe(3);
  });

  it("ends a connection's subscriptions when it closes", async () => {
    const { subs, publish, subscribe } = setup();
    const closing = fakeSession(1);
    const staying = fakeSession(2);
    subscribe(closing, ["a:*"]);
    subscribe(closing, ["b:*"]);
    subscribe(staying, ["a:*"]);
    await released();
    closing.close();
    expect(subs.size).toBe(1);
    publish("a:1");
    expect(closing.pushes).toEqual([]);
    expect(staying.pushes).toHaveLength(1);
  });

  it("drops a subscription whose connection refuses a push, with one forced monitor:dropped", async () => {
    const { subs, publish, subscribe } = setup();
    const slow = fakeSession(1);
    const fast = fakeSession(2);
    const { subscription } = subscribe(slow, ["a:*"]);
    subscribe(fast, ["a:*"]);
    await released();
    slow.room = 2;
    const delivered = [publish("a:1"), publish("a:2")];
    const refused = publish("a:3");
    publish("a:4");
    publish("a:5");

    expect(seqs(slow)).toEqual([...delivered, refused]);
    const dropped = slow.pushes.at(-1)!;
    expect(dropped.force).toBe(true);
    expect(dropped.message).toMatchObject({
      event: "monitor:dropped",
      subscription,
      data: { subscription, limit: QUEUE_LIMIT, last_seq: delivered[1] },
    });
    expect(slow.pushes.filter((p) => p.message.event === "monitor:dropped")).toHaveLength(1);
    expect(seqs(fast)).toEqual([1, 2, 3, 4, 5]); // the other connection is unaffected
    expect(subs.size).toBe(1);
    expect(thrown(() => subs.remove(slow, subscription)).code).toBe("not_found");
  });

  it("drops a subscription that cannot take its held events", async () => {
    const { subs, publish, subscribe } = setup();
    const session = fakeSession(1);
    subscribe(session, ["a:*"]);
    session.room = 1;
    publish("a:1");
    publish("a:2");
    publish("a:3");
    await released();
    expect(events(session)).toEqual(["a:1", "monitor:dropped"]);
    expect(subs.size).toBe(0);
    publish("a:4");
    expect(session.pushes).toHaveLength(2);
  });
});
