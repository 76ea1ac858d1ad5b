/**
 * monitor:* end to end (SPEC §3 monitor, §2 pushes): push shape and order,
 * unsubscribe, glob semantics, since_seq replay, monitor:get_events
 * filtering, and a subscriber that never reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, waitFor, type Daemon, type RawConnection } from "./harness.js";

type Msg = Record<string, unknown>;

interface PushShape {
  event: string;
  data: Msg;
  subscription: string;
  seq: number;
  ts: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let daemon: Daemon;
/** Sends the events the subscribers watch. */
let sender: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  sender = await daemon.client();
});
afterAll(cleanup);

function isPush(message: Msg): boolean {
  return typeof message.subscription === "string" && !("ok" in message);
}

/** Pushes received on `raw` so far, for `subscription` when given. */
function pushes(raw: RawConnection, subscription?: string): PushShape[] {
  return raw
    .messages()
    .filter(isPush)
    .map((m) => m as unknown as PushShape)
    .filter((p) => subscription === undefined || p.subscription === subscription);
}

async function subscribe(raw: RawConnection, patterns: string[], extra: Msg = {}): Promise<{ subscription: string; seq: number }> {
  const before = raw.lines.length;
  const id = `sub-${Math.random()}`;
  await raw.send({ event: "monitor:subscribe", data: { patterns, ...extra }, id });
  const reply = await waitFor(`the reply to subscribe ${JSON.stringify(patterns)}`, () =>
    raw
      .messages()
      .slice(before)
      .find((m) => m.id === id),
  );
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  return reply.data as { subscription: string; seq: number };
}

async function waitForPush(raw: RawConnection, what: string, match: (p: PushShape) => boolean, timeoutMs = 10_000): Promise<PushShape> {
  return waitFor(what, () => pushes(raw).find(match), timeoutMs);
}

describe("pushes", () => {
  it("a subscriber gets {event, data, subscription, seq, ts} pushes for another connection's requests", async () => {
    const watcher = await daemon.raw();
    const { subscription, seq } = await subscribe(watcher, ["system:*"]);
    expect(subscription).toMatch(/\S/);
    expect(Number.isInteger(seq)).toBe(true);

    await sender.request("system:health");
    await sender.request("system:hello", { client: "push-test" });
    await sender.request("system:health");
    const got = await waitFor("three pushes", () => {
      const list = pushes(watcher, subscription);
      return list.length >= 3 ? list : null;
    });
    for (const push of got) {
      expect(Object.keys(push).sort()).toEqual(["data", "event", "seq", "subscription", "ts"]);
      expect(push.subscription).toBe(subscription);
      expect(push.ts).toMatch(ISO_UTC);
      expect(Math.abs(Date.parse(push.ts) - Date.now())).toBeLessThan(60_000);
      expect(push.seq).toBeGreaterThan(seq);
    }
    expect(got.map((p) => p.event)).toEqual(["system:health", "system:hello", "system:health"]);
    expect(got[1]!.data).toEqual({ client: "push-test" });
    expect(got[0]!.data).toEqual({});
    const seqs = got.map((p) => p.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    // the subscriber's own reply came first, and nothing else but pushes followed
    const messages = watcher.messages();
    expect(messages[0]!.ok).toBe(true);
    expect(messages.slice(1).every(isPush)).toBe(true);
  });

  it("failed requests are not pushed", async () => {
    const watcher = await daemon.raw();
    const { subscription } = await subscribe(watcher, ["**"]);
    await sender.send("system:helth");
    await sender.send("monitor:subscribe", { patterns: 5 });
    await sender.request("system:hello", { client: "after-failures" });
    const marker = await waitForPush(watcher, "the marker push", (p) => p.event === "system:hello" && p.data.client === "after-failures");
    const before = pushes(watcher, subscription).filter((p) => p.seq < marker.seq);
    expect(before.map((p) => p.event)).not.toContain("system:helth");
    expect(before.filter((p) => p.data.patterns === 5)).toEqual([]);
  });

  it("monitor:unsubscribe stops the pushes of that subscription only", async () => {
    const watcher = await daemon.raw();
    const health = await subscribe(watcher, ["system:health"]);
    const discover = await subscribe(watcher, ["system:discover"]);
    await sender.request("system:health");
    await waitForPush(watcher, "a health push before unsubscribing", (p) => p.subscription === health.subscription);

    const [reply] = await watcher.exchange({ event: "monitor:unsubscribe", data: { subscription: health.subscription }, id: "unsub" });
    expect(reply).toMatchObject({ id: "unsub", ok: true, data: { unsubscribed: true } });
    const countAfterUnsubscribe = pushes(watcher, health.subscription).length;

    for (let i = 0; i < 5; i++) await sender.request("system:health");
    await sender.request("system:discover", { namespace: "monitor" }); // the marker, routed after them
    await waitForPush(watcher, "the marker on the second subscription", (p) => p.subscription === discover.subscription);
    expect(pushes(watcher, health.subscription).length).toBe(countAfterUnsubscribe);

    // a second unsubscribe, and one from another connection, are not_found
    const [again] = await watcher.exchange({ event: "monitor:unsubscribe", data: { subscription: health.subscription }, id: 2 });
    expect((again!.error as { code: string }).code).toBe("not_found");
    const stranger = await daemon.raw();
    const [foreign] = await stranger.exchange({ event: "monitor:unsubscribe", data: { subscription: discover.subscription }, id: 3 });
    expect((foreign!.error as { code: string }).code).toBe("not_found");
  });

  it("subscriptions per connection are bounded: limit_exceeded with details.limit", async () => {
    const before = (await sender.request<{ subscriptions: number }>("system:health")).subscriptions;
    const greedy = await daemon.raw();
    let refused: Msg | undefined;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      const [reply] = await greedy.exchange({ event: "monitor:subscribe", data: { patterns: [`nothing:${i}`] }, id: i });
      if (reply!.ok !== true) refused = reply;
    }
    expect(refused, "a subscription refused before 1000").toBeDefined();
    const error = refused!.error as { code: string; details: { limit: number } };
    expect(error.code).toBe("limit_exceeded");
    expect(error.details.limit).toBe(refused!.id);
    greedy.destroy();
    await waitFor(
      "the greedy connection's subscriptions to end",
      async () => (await sender.request<{ subscriptions: number }>("system:health")).subscriptions === before,
    );
  });

  it("closing the connection ends its subscriptions", async () => {
    const before = (await sender.request<{ subscriptions: number }>("system:health")).subscriptions;
    const watcher = await daemon.raw();
    await subscribe(watcher, ["**"]);
    await subscribe(watcher, ["system:*"]);
    expect((await sender.request<{ subscriptions: number }>("system:health")).subscriptions).toBe(before + 2);
    watcher.destroy();
    await waitFor(
      "the subscriptions of the closed connection to end",
      async () => (await sender.request<{ subscriptions: number }>("system:health")).subscriptions === before,
    );
  });

  it("globs match over colon segments: `*` one segment, `**` any rest", async () => {
    const watcher = await daemon.raw();
    const subs = {
      monitorStar: await subscribe(watcher, ["monitor:*"]),
      all: await subscribe(watcher, ["**"]),
      systemH: await subscribe(watcher, ["system:h*"]),
      anyHealth: await subscribe(watcher, ["*:health"]),
      systemRest: await subscribe(watcher, ["system:**"]),
      exact: await subscribe(watcher, ["system:discover", "monitor:get_events"]),
      bareStar: await subscribe(watcher, ["*"]),
      marker: await subscribe(watcher, ["system:help"]), // last: its push is the last one written
    };
    const tag = `glob-${process.pid}`;
    await sender.request("system:health");
    await sender.request("system:hello", { client: tag });
    await sender.request("system:discover", { namespace: "system" });
    await sender.request("monitor:get_events", { limit: 1, agent_id: tag });
    await sender.send("system:helth"); // fails: pushed to nobody
    await sender.request("system:help", { event: "system:health" });
    await waitForPush(watcher, "the marker push", (p) => p.subscription === subs.marker.subscription);

    const seen = (name: keyof typeof subs) =>
      pushes(watcher, subs[name].subscription)
        .map((p) => p.event)
        .filter((e) => e !== "monitor:subscribe");
    expect(seen("monitorStar")).toEqual(["monitor:get_events"]);
    expect(seen("all")).toEqual(["system:health", "system:hello", "system:discover", "monitor:get_events", "system:help"]);
    expect(seen("systemH")).toEqual(["system:health", "system:hello", "system:help"]);
    expect(seen("anyHealth")).toEqual(["system:health"]);
    expect(seen("systemRest")).toEqual(["system:health", "system:hello", "system:discover", "system:help"]);
    expect(seen("exact")).toEqual(["system:discover", "monitor:get_events"]);
    expect(seen("bareStar")).toEqual([]);
    // `monitor:*` does see the later subscribes: successful monitor:subscribe requests are routed events too
    const subscribed = pushes(watcher, subs.monitorStar.subscription)
      .filter((p) => p.event === "monitor:subscribe")
      .map((p) => JSON.stringify(p.data.patterns));
    for (const patterns of [["**"], ["system:h*"], ["*:health"], ["system:**"], ["*"], ["system:help"]]) {
      expect(subscribed).toContain(JSON.stringify(patterns));
    }
  });

  it("since_seq replays the events after that seq (after the reply), then continues live", async () => {
    const probe = await daemon.raw();
    const { seq: start } = await subscribe(probe, ["system:hello"]);
    probe.destroy();
    const tag = `replay-${process.pid}`;
    for (let i = 1; i <= 3; i++) await sender.request("system:hello", { client: `${tag}-${i}` });

    const late = await daemon.raw();
    const { subscription } = await subscribe(late, ["system:hello"], { since_seq: start });
    await waitFor("three replayed pushes", () => pushes(late, subscription).length >= 3);
    const replayed = pushes(late, subscription);
    expect(replayed.map((p) => p.data.client)).toEqual([`${tag}-1`, `${tag}-2`, `${tag}-3`]);
    for (const push of replayed) expect(push.seq).toBeGreaterThan(start);
    expect(late.messages()[0]!.ok).toBe(true); // the reply came before the replay

    await sender.request("system:hello", { client: `${tag}-4` });
    await waitFor("the live push", () => pushes(late, subscription).length >= 4);
    expect(pushes(late, subscription).map((p) => p.data.client)).toEqual([`${tag}-1`, `${tag}-2`, `${tag}-3`, `${tag}-4`]);

    // since the second one: only what came after it
    const fromSecond = await daemon.raw();
    const sub2 = await subscribe(fromSecond, ["system:hello"], { since_seq: replayed[1]!.seq });
    await waitFor("two replayed pushes", () => pushes(fromSecond, sub2.subscription).length >= 2);
    expect(pushes(fromSecond, sub2.subscription).map((p) => p.data.client)).toEqual([`${tag}-3`, `${tag}-4`]);

    // without since_seq: nothing from the past
    const fresh = await daemon.raw();
    const sub3 = await subscribe(fresh, ["system:hello", "system:discover"]);
    await sender.request("system:discover", { namespace: "monitor" });
    await waitForPush(fresh, "the live marker", (p) => p.event === "system:discover");
    expect(pushes(fresh, sub3.subscription).map((p) => p.event)).toEqual(["system:discover"]);
  });
});

describe("monitor:get_events", () => {
  interface EventRecord {
    ts: string;
    event: string;
    id: string | number | null;
    agent_id: string | null;
    ok: boolean;
    code?: string;
    ms: number;
    data: unknown;
  }

  it("filters by patterns, agent_id and limit, newest last, with full records", async () => {
    const agent = `ge-${process.pid}`;
    const other = `ge-other-${process.pid}`;
    const mine = await daemon.client({ agentId: agent });
    const theirs = await daemon.client({ agentId: other });
    await mine.request("system:health");
    await theirs.request("system:health");
    await mine.request("system:hello", { client: "ge" });
    await mine.send("system:helth");
    await mine.send("monitor:subscribe", { patterns: 5 });
    await mine.request("system:discover", { namespace: "monitor" });

    const query = (data: Msg) => sender.request<{ events: EventRecord[] }>("monitor:get_events", data);

    const { events: byAgent } = await query({ agent_id: agent });
    expect(byAgent.map((e) => e.event)).toEqual(["system:health", "system:hello", "system:helth", "monitor:subscribe", "system:discover"]);
    for (const record of byAgent) {
      for (const key of ["ts", "event", "id", "agent_id", "ok", "ms", "data"]) expect(record, key).toHaveProperty(key);
      expect(record.agent_id).toBe(agent);
      expect(record.ts).toMatch(ISO_UTC);
      expect(typeof record.ms).toBe("number");
      expect(record.ms).toBeGreaterThanOrEqual(0);
    }
    const times = byAgent.map((e) => Date.parse(e.ts));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(byAgent[1]!.data).toEqual({ client: "ge" });
    expect(byAgent[0]!.ok).toBe(true);
    expect(byAgent[0]).not.toHaveProperty("code");
    expect(byAgent[2]).toMatchObject({ ok: false, code: "unknown_event" });
    expect(byAgent[3]).toMatchObject({ ok: false, code: "invalid_params", data: { patterns: 5 } });

    const { events: systemOnly } = await query({ agent_id: agent, patterns: ["system:*"] });
    expect(systemOnly.map((e) => e.event)).toEqual(["system:health", "system:hello", "system:helth", "system:discover"]);

    const { events: lastTwo } = await query({ agent_id: agent, limit: 2 });
    expect(lastTwo.map((e) => e.event)).toEqual(["monitor:subscribe", "system:discover"]);

    const { events: theirsOnly } = await query({ agent_id: other });
    expect(theirsOnly.map((e) => e.event)).toEqual(["system:health"]);

    const { events: several } = await query({ patterns: ["system:hello", "monitor:*"], agent_id: agent });
    expect(several.map((e) => e.event)).toEqual(["system:hello", "monitor:subscribe"]);

    // default limit is 100, newest last: the last record is the most recent request before this query
    await sender.request("system:hello", { client: "newest" });
    const { events: recent } = await query({});
    expect(recent.length).toBeLessThanOrEqual(100);
    expect(recent.at(-1)).toMatchObject({ event: "system:hello", data: { client: "newest" } });

    const bad = await sender.send("monitor:get_events", { limit: 0 });
    expect(bad.ok).toBe(false);
    expect((bad as { error: { code: string } }).error.code).toBe("invalid_params");
  });

  it("since/until bound the records by time", async () => {
    const agent = `window-${process.pid}`;
    const c = await daemon.client({ agentId: agent });
    await c.request("system:health");
    const { events: first } = await sender.request<{ events: EventRecord[] }>("monitor:get_events", { agent_id: agent });
    const t1 = Date.parse(first.at(-1)!.ts);
    await waitFor("the clock to move on", () => Date.now() > t1 + 2);
    await c.request("system:hello", { client: "later" });
    const since = await sender.request<{ events: EventRecord[] }>("monitor:get_events", { agent_id: agent, since: t1 + 1 });
    expect(since.events.map((e) => e.event)).toEqual(["system:hello"]);
    const until = await sender.request<{ events: EventRecord[] }>("monitor:get_events", {
      agent_id: agent,
      until: new Date(t1).toISOString(),
    });
    expect(until.events.map((e) => e.event)).toEqual(["system:health"]);
  });
});

describe("a subscriber that never reads", () => {
  it("gets one monitor:dropped push and the daemon's memory stays bounded", async () => {
    // A daemon of its own: the subscribers left open by the tests above would be flooded too.
    const isolated = await startDaemon();
    const requester = await isolated.client();
    const QUEUE_LIMIT = 8 * 1024 * 1024;
    const slow = await isolated.raw();
    const { subscription } = await subscribe(slow, ["**"]);
    const subsBefore = (await requester.request<{ subscriptions: number }>("system:health")).subscriptions;
    expect(subsBefore).toBe(1);
    slow.socket.pause(); // never read from now on
    const rssBefore = await isolated.rssKiB();

    // Each push of this hello carries ~260 bytes of data (system:hello caps both strings at 128 chars);
    // failed requests are not pushed, and strict schemas refuse bigger payloads, so it takes many.
    const flood = await isolated.raw();
    const line = JSON.stringify({ event: "system:hello", data: { agent_id: "a".repeat(128), client: "c".repeat(128) } }) + "\n";
    const batch = 2000;
    const floodBatch = async () => {
      flood.lines.length = 0;
      await flood.writeRaw(line.repeat(batch));
      const replies = await flood.waitLines(batch, 20_000);
      expect(replies.every((m) => m.ok === true)).toBe(true);
    };
    let sent = 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      await floodBatch();
      sent += batch;
      const { subscriptions } = await requester.request<{ subscriptions: number }>("system:health");
      if (subscriptions === 0) break;
      if (Date.now() > deadline) throw new Error(`subscription not dropped after ${sent} pushes`);
    }
    // each push is ~375 bytes: the 8 MiB queue cannot fill much earlier than this
    expect(sent * 375).toBeGreaterThan(QUEUE_LIMIT * 0.9);

    // after the drop, more events queue nothing for that connection (checked below through what it receives)
    for (let i = 0; i < 6; i++) await floodBatch();

    // the daemon keeps answering, and its memory did not grow with the unread backlog
    await expect(requester.request("system:health")).resolves.toMatchObject({ status: "ok" });
    const rssAfter = await isolated.rssKiB();
    expect(rssAfter - rssBefore).toBeLessThan(160 * 1024);

    // a reading subscriber is unaffected
    const control = await isolated.raw();
    const { subscription: live } = await subscribe(control, ["system:discover"]);
    await requester.request("system:discover", { namespace: "system" });
    await waitForPush(control, "a push to the reading subscriber", (p) => p.subscription === live);

    // now read everything: the backlog, then exactly one monitor:dropped naming the subscription
    slow.socket.resume();
    const dropped = await waitFor("the monitor:dropped push", () => pushes(slow).find((p) => p.event === "monitor:dropped"), 15_000);
    expect(dropped.subscription).toBe(subscription);
    expect(dropped.data.subscription).toBe(subscription);
    // the connection itself still works: a new subscription on it gets pushes, the dropped one none
    const { subscription: again } = await subscribe(slow, ["system:discover"]);
    await requester.request("system:discover", { namespace: "monitor" });
    await waitForPush(slow, "the new subscription's push", (p) => p.subscription === again);
    const all = pushes(slow);
    expect(all.filter((p) => p.event === "monitor:dropped")).toHaveLength(1);
    const droppedAt = all.findIndex((p) => p.event === "monitor:dropped");
    expect(all.slice(droppedAt + 1).filter((p) => p.subscription === subscription)).toEqual([]);
    expect(all.slice(0, droppedAt).every((p) => p.subscription === subscription && p.seq < dropped.seq)).toBe(true);
    // what it was sent stayed within the queue limit, plus kernel socket buffers; not the whole flood
    expect(slow.bytesReceived).toBeGreaterThan(QUEUE_LIMIT);
    expect(slow.bytesReceived).toBeLessThan(QUEUE_LIMIT + 2 * 1024 * 1024);
  });
});
