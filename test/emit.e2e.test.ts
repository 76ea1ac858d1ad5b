/**
 * event:emit / event:cancel / event:scheduled end to end (SPEC §3 event,
 * state, monitor; §6): immediate emits and what subscribers and the event
 * log see, conditions (and what they may not reach), the watchdog pattern,
 * delayed emits on disk, cancel and replace by key, loop safety, and
 * schedules that survive SIGKILL and SIGTERM.
 *
 * The only waits without a positive marker are those whose point is that
 * nothing happens; they end a bounded time after the fire_at the daemon
 * returned.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, RawConnection, readJsonLines, sleepTick, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectStoreTruth } from "./store-git.js";

type Msg = Record<string, unknown>;

interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}

interface PushShape {
  event: string;
  data: Msg;
  subscription: string;
  seq: number;
  ts: string;
}

interface EmitResult {
  emitted?: boolean;
  result?: unknown;
  error?: WireErr;
  delivered?: number;
  reason?: string;
}

interface Scheduled {
  scheduled: true;
  schedule_id: string;
  fire_at: string;
  replaced?: string;
}

interface ScheduleEntry {
  schedule_id: string;
  event: string;
  fire_at: string;
  key?: string;
  condition?: unknown;
  data?: Msg;
}

interface EventRecord {
  ts: string;
  event: string;
  agent_id: string | null;
  ok: boolean;
  data: Msg;
  schedule_id?: string;
  late_ms?: number;
  code?: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const AGENT = "emit-tester";

let daemon: Daemon;
let c: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  c = await daemon.client({ agentId: AGENT });
});
afterAll(cleanup);

// ---------------------------------------------------------------- helpers

/** The error of a request that must fail. */
async function failure(client: Client, event: string, data: Msg): Promise<WireErr> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} ${JSON.stringify(data)} should fail, got ${JSON.stringify(reply)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

function emit(data: Msg, client: Client = c): Promise<EmitResult> {
  return client.request<EmitResult>("event:emit", data);
}

function schedule(data: Msg, client: Client = c): Promise<Scheduled> {
  return client.request<Scheduled>("event:emit", data);
}

async function scheduledList(data: Msg = {}): Promise<{ schedules: ScheduleEntry[] }> {
  return c.request<{ schedules: ScheduleEntry[] }>("event:scheduled", { limit: 10_000, ...data });
}

async function logRecords(patterns: string[], client: Client = c): Promise<EventRecord[]> {
  const { events } = await client.request<{ events: EventRecord[] }>("monitor:get_events", { patterns, limit: 10_000 });
  return events;
}

function issuePaths(error: WireErr): string[] {
  const issues = (error.details?.issues ?? []) as { path: string }[];
  return issues.map((i) => i.path);
}

function isPush(message: Msg): boolean {
  return typeof message.subscription === "string" && !("ok" in message);
}

/** A raw connection holding one subscription. */
class Watcher {
  private constructor(
    readonly raw: RawConnection,
    readonly subscription: string,
    readonly seq: number,
  ) {}

  static async open(target: Daemon | string, patterns: string[], extra: Msg = {}): Promise<Watcher> {
    // A socket path: a connection the Daemon object does not track (kill() would close it first).
    const raw = typeof target === "string" ? await RawConnection.open(target) : await target.raw();
    const id = `sub-${Math.random()}`;
    await raw.send({ event: "monitor:subscribe", data: { patterns, ...extra }, id });
    const reply = await waitFor(`the reply to subscribe ${JSON.stringify(patterns)}`, () => raw.messages().find((m) => m.id === id));
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    const { subscription, seq } = reply.data as { subscription: string; seq: number };
    return new Watcher(raw, subscription, seq);
  }

  pushes(match: (p: PushShape) => boolean = () => true): PushShape[] {
    return this.raw
      .messages()
      .filter(isPush)
      .map((m) => m as unknown as PushShape)
      .filter((p) => p.subscription === this.subscription && match(p));
  }

  waitPush(what: string, match: (p: PushShape) => boolean, timeoutMs = 10_000): Promise<PushShape> {
    return waitFor(what, () => this.pushes(match).find(() => true), timeoutMs);
  }
}

/**
 * For checks whose point is that nothing happens: polls `found` until `untilMs`
 * (epoch ms) and fails as soon as it returns something.
 */
async function expectNothingUntil(what: string, untilMs: number, found: () => unknown): Promise<void> {
  for (;;) {
    const seen = await found();
    if (seen !== undefined && seen !== null && seen !== false && !(Array.isArray(seen) && seen.length === 0)) {
      throw new Error(`${what}: ${JSON.stringify(seen)}`);
    }
    if (Date.now() > untilMs) return;
    await sleepTick(10);
  }
}

/** Live schedules in a journal file, replayed the way any reader would. */
async function journalLive(home: string): Promise<Map<string, Msg>> {
  const live = new Map<string, Msg>();
  for (const record of await readJsonLines(join(home, "var", "lib", "schedule.ndjson"))) {
    const id = record.schedule_id as string;
    if (record.op === "add") {
      for (const [other, existing] of live) if (record.key !== undefined && existing.key === record.key) live.delete(other);
      live.set(id, record);
    } else live.delete(id);
  }
  return live;
}

/** Every record of the event-log files on disk (all days), oldest first. */
async function eventLogOnDisk(home: string): Promise<EventRecord[]> {
  const dir = join(home, "var", "log", "events");
  const files = (await readdir(dir)).filter((name) => name.endsWith(".ndjson")).sort();
  const records: EventRecord[] = [];
  for (const file of files) records.push(...((await readJsonLines(join(dir, file))) as unknown as EventRecord[]));
  return records;
}

/**
 * Schedules `count` emits `spacingMs` apart (from 100 ms on), SIGKILLs the daemon once the push of
 * number `killAfter` has arrived, restarts it on the same home and reports which schedules never
 * fired or fired twice over both runs.
 */
async function killWhileFiring(count: number, spacingMs: number, killAfter: number): Promise<{ lost: string[]; twice: number[]; pushedBeforeKill: number }> {
  const first = await startDaemon();
  const early = await Watcher.open(first.socketPath, ["firing:tick"]);
  const sender = await first.raw();
  await sender.send(
    ...Array.from({ length: count }, (_, n) => ({
      event: "event:emit",
      id: n,
      data: { event: "firing:tick", data: { n }, delay: 0.1 + (n * spacingMs) / 1000 },
    })),
  );
  const replies = await sender.waitLines(count, 20_000);
  for (const reply of replies) expect(reply.ok, JSON.stringify(reply)).toBe(true);
  await early.waitPush("the firing to be under way", (p) => (p.data.n as number) >= killAfter);
  const killedAt = Date.now();
  await first.kill();
  await early.raw.closed;
  early.raw.destroy();
  const firedBeforeKill = early.pushes().map((p) => p.data.n as number);
  const journalAtKill = await journalLive(first.home);
  const loggedAtKill = new Set((await eventLogOnDisk(first.home)).filter((r) => r.event === "firing:tick").map((r) => r.data.n as number));

  const second = await startDaemon({ home: first.home });
  const watcher = await Watcher.open(second, ["firing:*"], { since_seq: 0 });
  const all = () => [...firedBeforeKill, ...watcher.pushes((p) => p.event === "firing:tick").map((p) => p.data.n as number)];
  await waitFor("every schedule to fire", () => new Set(all()).size >= count, 3_000).catch(() => undefined);
  const c2 = await second.client();
  await c2.request("event:emit", { event: "firing:marker", delay: 0 });
  await watcher.waitPush("the marker", (p) => p.event === "firing:marker");
  await second.kill();

  const counts = new Map<number, number>();
  for (const n of all()) counts.set(n, (counts.get(n) ?? 0) + 1);
  const lost = Array.from({ length: count }, (_, n) => n)
    .filter((n) => !counts.has(n))
    .map((n) => {
      const id = (replies[n]!.data as Scheduled).schedule_id;
      const fireAt = Date.parse((replies[n]!.data as Scheduled).fire_at);
      const journal = journalAtKill.has(id) ? "pending" : "done";
      return `n=${n} fire_at=kill${fireAt - killedAt}ms, ${journal} in the journal at the kill, ${loggedAtKill.has(n) ? "" : "not "}in the event log`;
    });
  const twice = [...counts].filter(([, k]) => k > 1).map(([n]) => n);
  return { lost, twice, pushedBeforeKill: firedBeforeKill.length };
}

let tagCounter = 0;
function tag(prefix: string): string {
  return `${prefix}-${process.pid}-${++tagCounter}`;
}

// ---------------------------------------------------------------- immediate

describe("immediate emits", () => {
  it("to a handled event: the handler's data as result, delivered counts subscribers, and they get the target push", async () => {
    const w1 = await Watcher.open(daemon, ["system:health"]);
    const w2 = await Watcher.open(daemon, ["system:*"]);
    const reply = await emit({ event: "system:health" });
    expect(reply.emitted).toBe(true);
    expect(reply).not.toHaveProperty("error");
    expect(reply.result).toMatchObject({ status: "ok", pid: daemon.pid });
    expect(reply.delivered).toBe(2);
    for (const w of [w1, w2]) {
      const push = await w.waitPush("the system:health push", (p) => p.event === "system:health");
      expect(push.data).toEqual({});
    }

    // the result is the target's own data: state:get returns the stored value
    const key = `imm_${process.pid}.value`;
    await c.request("state:set", { key, value: { n: 7, list: [1, "two"] } });
    const got = await emit({ event: "state:get", data: { key } });
    expect(got).toEqual({ emitted: true, result: { key, value: { n: 7, list: [1, "two"] }, version: expect.any(Number) as number }, delivered: 0 });
  });

  it("the target's error comes back as error, with emitted:true", async () => {
    const missing = await emit({ event: "state:get", data: { key: `missing_${process.pid}` } });
    expect(missing.emitted).toBe(true);
    expect(missing.error?.code).toBe("not_found");
    expect(typeof missing.error?.message).toBe("string");
    expect(missing).not.toHaveProperty("result");

    // the target's schema still applies to an immediate emit
    const invalid = await emit({ event: "state:set", data: { value: 1 } });
    expect(invalid.emitted).toBe(true);
    expect(invalid.error?.code).toBe("invalid_params");
    expect(issuePaths(invalid.error!)).toContain("key");
  });

  it("to an event without a handler: subscribers get {event, data, subscription, seq, ts} and the log names the emitting agent", async () => {
    const run = tag("started");
    const watcher = await Watcher.open(daemon, ["orchestration:*"]);
    const reply = await emit({ event: "orchestration:started", data: { run, step: 1 } });
    expect(reply).toEqual({ emitted: true, delivered: 1 });

    const push = await watcher.waitPush("the orchestration:started push", (p) => p.data.run === run);
    expect(Object.keys(push).sort()).toEqual(["data", "event", "seq", "subscription", "ts"]);
    expect(push).toMatchObject({ event: "orchestration:started", data: { run, step: 1 }, subscription: watcher.subscription });
    expect(push.seq).toBeGreaterThan(watcher.seq);
    expect(push.ts).toMatch(ISO_UTC);

    // agent_id on the request
    const records = (await logRecords(["orchestration:started"])).filter((r) => r.data.run === run);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ event: "orchestration:started", agent_id: AGENT, ok: true, data: { run, step: 1 } });

    // agent_id set by system:hello on the connection, none on the request
    const helloAgent = tag("hello-agent");
    const raw = await daemon.raw();
    const [hello, emitted] = await raw.exchange(
      { event: "system:hello", data: { agent_id: helloAgent }, id: 1 },
      { event: "event:emit", data: { event: "orchestration:started", data: { run: helloAgent } }, id: 2 },
    );
    expect(hello!.ok).toBe(true);
    expect(emitted).toMatchObject({ ok: true, data: { emitted: true, delivered: 1 } });
    const viaHello = (await logRecords(["orchestration:started"])).filter((r) => r.data.run === helloAgent);
    expect(viaHello.map((r) => r.agent_id)).toEqual([helloAgent]);

    // no subscriber: still emitted, delivered 0, logged
    const lonely = tag("lonely");
    expect(await emit({ event: "nobody:listens", data: { lonely } })).toEqual({ emitted: true, delivered: 0 });
    expect((await logRecords(["nobody:listens"])).filter((r) => r.data.lonely === lonely)).toHaveLength(1);
  });

  it("an unknown name in a daemon namespace is unknown_event with suggestions", async () => {
    const error = await failure(c, "event:emit", { event: "system:helth" });
    expect(error.code).toBe("unknown_event");
    expect(error.details?.suggestions).toContain("system:health");
    const state = await failure(c, "event:emit", { event: "state:gte", data: { key: "a" } });
    expect(state.code).toBe("unknown_event");
    expect(state.details?.suggestions).toContain("state:get");
    // delayed too: refused at emit time, nothing scheduled
    const delayed = await failure(c, "event:emit", { event: "system:helth", delay: 5 });
    expect(delayed.code).toBe("unknown_event");
    expect((await scheduledList({ event: "system:*" })).schedules).toEqual([]);
    for (const event of ["monitor:subscrib", "event:emitt", "state:lst"]) {
      expect((await failure(c, "event:emit", { event })).code, event).toBe("unknown_event");
    }
  });

  it("composition: is a daemon namespace too (SPEC §2): an unknown name there is unknown_event, not a free-form event", async () => {
    const watcher = await Watcher.open(daemon, ["composition:**"]);
    const direct = await failure(c, "composition:frok", {});
    expect(direct.code).toBe("unknown_event");
    const reply = await c.send("event:emit", { event: "composition:frok", data: { parent: "tournament" } });
    expect(reply.ok ? reply.data : reply.error, "event:emit composition:frok was published instead of refused").toMatchObject({
      code: "unknown_event",
    });
    expect(watcher.pushes()).toEqual([]);
  });

  it("the emitted data arrives as sent, even with a `__proto__` key (or the emit is refused); nothing is polluted", async () => {
    const watcher = await Watcher.open(daemon, ["protodata:*"]);
    const raw = await daemon.raw();
    const marker = tag("protodata");
    // Written as text: an object literal with __proto__ would set a prototype instead of a key.
    const line = `{"event":"event:emit","id":"pd","data":{"event":"protodata:x","data":{"__proto__":{"polluted":true},"marker":"${marker}"}}}`;
    await raw.writeRaw(`${line}\n`);
    const [reply] = await raw.waitLines(1);
    if (reply!.ok === true) {
      expect(reply!.data).toMatchObject({ emitted: true });
      const push = await watcher.waitPush("the protodata push", (p) => p.data.marker === marker);
      const sent = watcher.raw.lines.find((l) => l.includes(`"${marker}"`) && l.includes('"protodata:x"'))!;
      expect(sent, `the target push lost the __proto__ key: ${JSON.stringify(push)}`).toContain('"__proto__":{"polluted":true}');
    } else {
      expect((reply!.error as WireErr).code).toBe("invalid_params");
    }
    // whatever happened, no object in the daemon grew a `polluted` property
    expect(
      await emit({ event: "protodata:check", condition: { or: [{ var: "data.polluted" }, { var: "state.polluted" }] } }),
    ).toMatchObject({ emitted: false });
  });
});

// ---------------------------------------------------------------- conditions

describe("conditions", () => {
  it("true emits; false answers condition_false and pushes nothing", async () => {
    const watcher = await Watcher.open(daemon, ["cond:*"]);
    const yes = tag("yes");
    expect(await emit({ event: "cond:check", data: { yes }, condition: { "==": [1, 1] } })).toEqual({ emitted: true, delivered: 1 });
    await watcher.waitPush("the push of the true condition", (p) => p.data.yes === yes);

    const no = tag("no");
    expect(await emit({ event: "cond:check", data: { no }, condition: { "==": [1, 2] } })).toEqual({
      emitted: false,
      reason: "condition_false",
    });
    // a falsy value is false too (JSON Logic truthiness)
    expect(await emit({ event: "cond:check", data: { no }, condition: { var: "data.absent" } })).toMatchObject({ emitted: false });
    expect(await emit({ event: "cond:check", data: { no, list: [] }, condition: { var: "data.list" } })).toMatchObject({ emitted: false });
    // a handled target does not run either
    const key = tag("never_set").replace(/-/g, "_");
    expect(await emit({ event: "state:set", data: { key, value: 1 }, condition: false })).toMatchObject({ emitted: false });
    expect((await c.send("state:get", { key })).ok).toBe(false);

    const marker = tag("marker");
    await emit({ event: "cond:marker", data: { marker } });
    await watcher.waitPush("the marker push", (p) => p.data.marker === marker);
    expect(watcher.pushes((p) => p.data.no !== undefined)).toEqual([]);
    expect((await logRecords(["cond:check"])).filter((r) => r.data.no === no)).toEqual([]);
  });

  it("invalid rules are invalid_params with a path under condition", async () => {
    let deep: unknown = true;
    for (let i = 0; i < 40; i++) deep = { "!": [deep] };
    const cases: [string, unknown, RegExp][] = [
      ["unknown operator", { eval: "process.exit()" }, /^condition/],
      ["unknown operator nested", { and: [true, { frobnicate: [1] }] }, /^condition\.and\.1/],
      ["two operators in one object", { "==": [1, 1], "!=": [1, 2] }, /^condition/],
      ["too deep", deep, /^condition(\.|$)/],
    ];
    for (const [what, condition, path] of cases) {
      const error = await failure(c, "event:emit", { event: "cond:invalid", condition });
      expect(error.code, what).toBe("invalid_params");
      const paths = issuePaths(error);
      expect(paths.length, what).toBeGreaterThan(0);
      expect(paths.some((p) => path.test(p)), `${what}: ${JSON.stringify(paths)}`).toBe(true);
      // delayed: refused before anything is scheduled
      expect((await failure(c, "event:emit", { event: "cond:invalid", condition, delay: 60 })).code, what).toBe("invalid_params");
    }
    expect((await scheduledList({ event: "cond:invalid" })).schedules).toEqual([]);
    expect(await logRecords(["cond:invalid"])).toEqual([]);
  });

  it("a condition that is not a JSON Logic object (text, a number, a list, null) is invalid_params with the object form; nothing fires", async () => {
    // Each used to be a constant to the engine: `"state.a.b == 4"` and 4 always held, so the emit always fired.
    await c.request("state:set", { key: `notrule_${process.pid}.b`, value: 3 });
    const cases: [string, unknown, RegExp][] = [
      [
        "a comparison typed as text",
        "state.a.b == 4",
        /^invalid data for event:emit at "condition": a rule is a JSON Logic object \(\{operator: arguments\}\) or true\/false, not text: write "state\.a\.b == 4" as \{"==":\[\{"var":"state\.a\.b"\},4\]\}$/,
      ],
      ["other text", "always", /or true\/false such as \{"!=":\[\{"var":"state\.run_1\.status"\},"done"\]\}; got the text "always"$/],
      ["a rule sent as a JSON string", '{"==": [{"var": "state.a.b"}, 4]}', /not text holding one: send \{"==":\[\{"var":"state\.a\.b"\},4\]\} itself, not as a string/],
      ["a number", 4, /got the number 4, which the engine would take as a constant/],
      ["a list", [{ "==": [1, 2] }], /got a list/],
      ["null", null, /got null/],
      ["a misspelt operator", { "=": [{ var: `state.notrule_${process.pid}.b` }, 4] }, /operator "=" is not allowed; did you mean "=="\?/],
    ];
    for (const [what, condition, message] of cases) {
      for (const timing of [{}, { delay: 0.05 }]) {
        const error = await failure(c, "event:emit", { event: "cond:notrule", data: { what }, condition, ...timing });
        expect(error.code, what).toBe("invalid_params");
        expect(error.message, what).toMatch(message);
        expect(issuePaths(error), what).toEqual(["condition"]);
      }
    }
    expect((await scheduledList({ event: "cond:notrule" })).schedules).toEqual([]);
    expect(await logRecords(["cond:notrule"])).toEqual([]);
    // The object form shown holds or not as the text meant; the daemon still serves.
    const b = { var: `state.notrule_${process.pid}.b` };
    expect(await emit({ event: "cond:notrule", condition: { "==": [b, 4] } })).toEqual({ emitted: false, reason: "condition_false" });
    expect(await emit({ event: "cond:notrule", condition: { "==": [b, 3] } })).toMatchObject({ emitted: true });
    expect(await emit({ event: "cond:notrule", condition: true })).toMatchObject({ emitted: true });
    await expect(c.request("system:health")).resolves.toMatchObject({ status: "ok" });
  });

  it("rules that reach an object's prototype are rejected and nothing of it comes back", async () => {
    const rules: unknown[] = [
      { var: "__proto__" },
      { var: "constructor" },
      { var: "data.__proto__" },
      { var: "state.constructor.name" },
      { "==": [{ var: "state.constructor.name" }, "Object"] },
      { var: ["data.constructor", "fallback"] },
      { "!!": { var: "event.constructor.prototype" } },
    ];
    await c.request("state:set", { key: `proto_${process.pid}`, value: 1 });
    for (const condition of rules) {
      const reply = await c.send("event:emit", { event: "cond:proto", data: { x: 1 }, condition });
      const text = JSON.stringify(reply);
      expect(reply.ok, text).toBe(false);
      const error = (reply as unknown as { error: WireErr }).error;
      expect(error.code, text).toBe("invalid_params");
      expect(issuePaths(error).every((p) => p.startsWith("condition")), text).toBe(true);
      expect(text).not.toMatch(/\[native code\]|function |Object\(\)/);
    }
    expect(await logRecords(["cond:proto"])).toEqual([]);
    // the daemon is unharmed: plain objects still behave
    await expect(c.request("system:health")).resolves.toMatchObject({ status: "ok" });
    expect(await emit({ event: "cond:proto", data: { x: 1 }, condition: { "==": [{ var: "data.x" }, 1] } })).toMatchObject({ emitted: true });
  });

  it("a data path computed at run time cannot reach a prototype either", async () => {
    // {"cat": [...]} builds "state.constructor.name" only when the rule runs; the checker cannot see the string.
    const computed = { "==": [{ var: { cat: ["state.constr", "uctor.name"] } }, "Object"] };
    const reply = await c.send("event:emit", { event: "cond:computed", condition: computed });
    if (reply.ok) {
      // accepted: then it must behave as if the path did not exist (no such key in the state)
      expect(reply.data, "a computed path reached Object.prototype.constructor").toEqual({ emitted: false, reason: "condition_false" });
    } else {
      expect(reply.error.code).toBe("invalid_params");
    }
  });

  it("conditions see data, event, agent_id, now and the state nested by its dots", async () => {
    const run = `cond_${process.pid}`;
    await c.request("state:set", { key: `${run}.level`, value: 3 });
    await c.request("state:set", { key: `${run}.info`, value: { tags: ["a", "b"], ok: true } });
    const before = Date.now();
    const clauses: Record<string, unknown> = {
      data: { "==": [{ var: "data.x.y" }, 5] },
      event: { "==": [{ var: "event" }, "cond:context"] },
      agent: { "==": [{ var: "agent_id" }, AGENT] },
      nowLow: { ">=": [{ var: "now" }, before - 5_000] },
      nowHigh: { "<=": [{ var: "now" }, before + 60_000] },
      stateLeaf: { "==": [{ var: `state.${run}.level` }, 3] },
      stateObject: { in: ["b", { var: `state.${run}.info.tags` }] },
      stateNested: { "===": [{ var: `state.${run}.info.ok` }, true] },
    };
    const all = { and: Object.values(clauses) };
    expect(await emit({ event: "cond:context", data: { x: { y: 5 } }, condition: all })).toMatchObject({ emitted: true });

    // each clause matters: the same rule with one input changed is false
    const variants: [string, Msg][] = [
      ["data", { event: "cond:context", data: { x: { y: 6 } } }],
      ["event", { event: "cond:other", data: { x: { y: 5 } } }],
    ];
    for (const [what, data] of variants) {
      expect(await emit({ ...data, condition: all }), what).toMatchObject({ emitted: false, reason: "condition_false" });
    }
    const other = await daemon.client({ agentId: "someone-else" });
    expect(await emit({ event: "cond:context", data: { x: { y: 5 } }, condition: all }, other), "agent_id").toMatchObject({ emitted: false });
    expect(await emit({ event: "cond:context", data: {}, condition: { "<": [{ var: "now" }, before - 1] } }), "now").toMatchObject({
      emitted: false,
    });
    await c.request("state:set", { key: `${run}.level`, value: 4 });
    expect(await emit({ event: "cond:context", data: { x: { y: 5 } }, condition: all }), "state").toMatchObject({ emitted: false });
    // a missing agent_id is visible as null
    const anonymous = await daemon.client();
    expect(await emit({ event: "cond:context", condition: { "==": [{ var: "agent_id" }, null] } }, anonymous)).toMatchObject({ emitted: true });
  });
});

// ---------------------------------------------------------------- delayed

describe("the watchdog", () => {
  it("does not fire when the state changed before its time", async () => {
    const watcher = await Watcher.open(daemon, ["orchestration:timeout"]);
    await c.request("state:set", { key: "run_1.status", value: "running" });
    const reply = await schedule({
      event: "orchestration:timeout",
      data: { run: "run_1" },
      delay: 0.3,
      condition: { "!=": [{ var: "state.run_1.status" }, "done"] },
    });
    expect(reply.scheduled).toBe(true);
    const fireAt = Date.parse(reply.fire_at);
    expect((await scheduledList()).schedules.map((s) => s.schedule_id)).toContain(reply.schedule_id);
    await c.request("state:set", { key: "run_1.status", value: "done" });

    // its time comes and goes: it leaves the pending list...
    await waitFor("the schedule to leave event:scheduled", async () =>
      (await scheduledList()).schedules.every((s) => s.schedule_id !== reply.schedule_id),
    );
    expect(Date.now()).toBeGreaterThanOrEqual(fireAt - 5);
    // ...and nothing is pushed, up to 300 ms after its fire time
    await expectNothingUntil("the suppressed timeout was pushed", fireAt + 300, () => watcher.pushes((p) => p.data.run === "run_1"));
    const logged = (await logRecords(["orchestration:timeout"])).filter((r) => r.schedule_id === reply.schedule_id || r.data.run === "run_1");
    expect(logged).toEqual([]);
  });

  it("fires exactly once when the state did not change, not before fire_at, with schedule_id and late_ms in the log", async () => {
    const watcher = await Watcher.open(daemon, ["orchestration:timeout"]);
    await c.request("state:set", { key: "run_2.status", value: "running" });
    const reply = await schedule({
      event: "orchestration:timeout",
      data: { run: "run_2" },
      delay: 0.3,
      condition: { "!=": [{ var: "state.run_2.status" }, "done"] },
    });
    const fireAt = Date.parse(reply.fire_at);
    const push = await watcher.waitPush("the timeout push", (p) => p.data.run === "run_2");
    const receivedAt = Date.now();
    expect(receivedAt).toBeGreaterThanOrEqual(fireAt);
    expect(Date.parse(push.ts)).toBeGreaterThanOrEqual(fireAt);
    expect(Date.parse(push.ts) - fireAt).toBeLessThan(1_000); // "within 10 ms" under normal load; a loaded CI box gets slack
    expect(push).toMatchObject({ event: "orchestration:timeout", data: { run: "run_2" } });

    await expectNothingUntil("a second timeout push", fireAt + 300, () => watcher.pushes((p) => p.data.run === "run_2").slice(1));
    const logged = (await logRecords(["orchestration:timeout"])).filter((r) => r.data.run === "run_2");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ schedule_id: reply.schedule_id, agent_id: AGENT, ok: true });
    expect(typeof logged[0]!.late_ms).toBe("number");
    expect(logged[0]!.late_ms).toBeGreaterThanOrEqual(0);
    expect((await scheduledList()).schedules.map((s) => s.schedule_id)).not.toContain(reply.schedule_id);
  });
});

describe("delayed emits", () => {
  it("reply at once with schedule_id and an ISO fire_at, the schedule already in the journal on disk", async () => {
    const sent = Date.now();
    const reply = await schedule({ event: "later:thing", data: { v: 1 }, delay: 5, key: tag("journal") });
    const replied = Date.now();
    expect(reply.scheduled).toBe(true);
    expect(reply.schedule_id).toMatch(/\S/);
    expect(reply.fire_at).toMatch(ISO_UTC);
    const fireAt = Date.parse(reply.fire_at);
    expect(fireAt).toBeGreaterThanOrEqual(sent + 5_000 - 5);
    expect(fireAt).toBeLessThanOrEqual(replied + 5_000 + 5);
    expect(replied).toBeLessThan(fireAt - 3_000); // it did not wait for the delay

    // read right when the reply arrived: the daemon promised it is durable
    const journal = await readFile(join(daemon.home, "var", "lib", "schedule.ndjson"), "utf8");
    const live = await journalLive(daemon.home);
    expect(journal).toContain(reply.schedule_id);
    expect(live.get(reply.schedule_id)).toMatchObject({ event: "later:thing", data: { v: 1 } });

    expect(await c.request("event:cancel", { schedule_id: reply.schedule_id })).toMatchObject({ cancelled: true });
    expect((await journalLive(daemon.home)).has(reply.schedule_id)).toBe(false);
  });

  it("`at` fires at that instant; delay and at together, or too far ahead, are refused", async () => {
    const watcher = await Watcher.open(daemon, ["later:at"]);
    const at = new Date(Date.now() + 400).toISOString();
    const marker = tag("at");
    const reply = await schedule({ event: "later:at", data: { marker }, at });
    expect(Date.parse(reply.fire_at)).toBe(Date.parse(at));
    const push = await watcher.waitPush("the push of the `at` schedule", (p) => p.data.marker === marker);
    expect(Date.parse(push.ts)).toBeGreaterThanOrEqual(Date.parse(at));

    // an `at` with an offset is the same instant
    const offsetAt = new Date(Date.now() + 60_000);
    const plusTwo = new Date(offsetAt.getTime() + 2 * 3_600_000).toISOString().replace("Z", "+02:00");
    const withOffset = await schedule({ event: "later:offset", at: plusTwo });
    expect(Date.parse(withOffset.fire_at)).toBe(offsetAt.getTime());
    await c.request("event:cancel", { schedule_id: withOffset.schedule_id });

    const both = await failure(c, "event:emit", { event: "later:both", delay: 1, at });
    expect(both.code).toBe("invalid_params");
    const far = await failure(c, "event:emit", { event: "later:far", delay: 31 * 86_400 });
    expect(far.code).toBe("limit_exceeded");
    expect(typeof far.details?.limit).toBe("number");
    const farAt = await failure(c, "event:emit", { event: "later:far", at: new Date(Date.now() + 31 * 86_400_000).toISOString() });
    expect(farAt.code).toBe("limit_exceeded");
    expect(farAt.details).toHaveProperty("limit");
    expect((await failure(c, "event:emit", { event: "later:neg", delay: -1 })).code).toBe("invalid_params");
    expect((await failure(c, "event:emit", { event: "later:bad", at: "tomorrow" })).code).toBe("invalid_params");
    // just under 30 days is fine
    const ok = await schedule({ event: "later:far", delay: 30 * 86_400 - 60 });
    await c.request("event:cancel", { schedule_id: ok.schedule_id });
    expect((await scheduledList({ event: "later:*" })).schedules).toEqual([]);
  });

  it("an `at` more than 1 s in the past is refused, saying how far and that allow_past fires it at once; with allow_past it fires now", async () => {
    const watcher = await Watcher.open(daemon, ["later:past"]);
    const cases: [number, RegExp][] = [
      [5_000, / is 5 s in the past; give a future time, or allow_past: true to fire it at once$/],
      [90 * 60_000, / is 90 min in the past/],
      [3 * 3_600_000, / is 3 h in the past/],
      [3 * 86_400_000, / is 3 days in the past/],
    ];
    for (const [ago, message] of cases) {
      const at = new Date(Date.now() - ago).toISOString();
      const error = await failure(c, "event:emit", { event: "later:past", data: { ago }, at });
      expect(error.code).toBe("invalid_params");
      expect(error.message).toMatch(new RegExp(`^invalid data for event:emit at "at": at ${at.replace(/[.]/g, "\\.")}`));
      expect(error.message).toMatch(message);
      expect(issuePaths(error)).toEqual(["at"]);
    }
    // allow_past: false is the default, said out loud.
    expect((await failure(c, "event:emit", { event: "later:past", at: new Date(Date.now() - 60_000).toISOString(), allow_past: false })).code).toBe("invalid_params");
    expect((await scheduledList({ event: "later:past" })).schedules).toEqual([]);
    expect(await logRecords(["later:past"])).toEqual([]);

    // allow_past: a schedule due now, in the reply shape of any delayed emit, that fires at once.
    const marker = tag("past");
    const before = Date.now();
    const reply = await schedule({ event: "later:past", data: { marker }, at: "2020-01-01T00:00:00Z", allow_past: true });
    expect(reply).toEqual({ scheduled: true, schedule_id: expect.any(String) as string, fire_at: expect.stringMatching(ISO_UTC) as string });
    expect(Date.parse(reply.fire_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(reply.fire_at)).toBeLessThanOrEqual(Date.now());
    await watcher.waitPush("the allow_past schedule", (p) => p.data.marker === marker);

    // Within the 1 s tolerance a slightly-behind `at` is now: it fires without allow_past.
    const skewed = tag("skew");
    const near = await schedule({ event: "later:past", data: { marker: skewed }, at: new Date(Date.now() - 300).toISOString() });
    expect(near.scheduled).toBe(true);
    await watcher.waitPush("the slightly-behind schedule", (p) => p.data.marker === skewed);
    await expect(c.request("system:health")).resolves.toMatchObject({ status: "ok" });
  });

  it("cancel by schedule_id and by key: {cancelled:true}, never fires; cancelling again is not_found", async () => {
    const watcher = await Watcher.open(daemon, ["cancel:*"]);
    const key = tag("cancel-key");
    const byId = await schedule({ event: "cancel:byid", data: { which: "id" }, delay: 0.3 });
    const byKey = await schedule({ event: "cancel:bykey", data: { which: "key" }, delay: 0.3, key });
    expect(await c.request("event:cancel", { schedule_id: byId.schedule_id })).toMatchObject({ cancelled: true });
    expect(await c.request("event:cancel", { key })).toMatchObject({ cancelled: true });
    expect((await failure(c, "event:cancel", { schedule_id: byId.schedule_id })).code).toBe("not_found");
    expect((await failure(c, "event:cancel", { key })).code).toBe("not_found");
    expect((await failure(c, "event:cancel", { schedule_id: "sch_does_not_exist" })).code).toBe("not_found");
    expect((await failure(c, "event:cancel", {})).code).toBe("invalid_params");
    const pending = (await scheduledList()).schedules.map((s) => s.schedule_id);
    expect(pending).not.toContain(byId.schedule_id);
    expect(pending).not.toContain(byKey.schedule_id);
    const live = await journalLive(daemon.home);
    expect(live.has(byId.schedule_id) || live.has(byKey.schedule_id)).toBe(false);

    const until = Math.max(Date.parse(byId.fire_at), Date.parse(byKey.fire_at)) + 300;
    await expectNothingUntil("a cancelled schedule fired", until, () => watcher.pushes());
    expect(await logRecords(["cancel:*"])).toEqual([]);
  });

  it("a new schedule with the same key replaces the old one: only the new one fires, with its own data", async () => {
    const watcher = await Watcher.open(daemon, ["dedup:tick"]);
    const key = tag("dedup");
    const first = await schedule({ event: "dedup:tick", data: { v: 1, key }, delay: 0.3, key });
    expect(first).not.toHaveProperty("replaced");
    const second = await schedule({ event: "dedup:tick", data: { v: 2, key }, delay: 0.5, key });
    expect(second.replaced).toBe(first.schedule_id);
    expect(second.schedule_id).not.toBe(first.schedule_id);
    const pending = (await scheduledList({ event: "dedup:*" })).schedules;
    expect(pending.map((s) => s.schedule_id)).toEqual([second.schedule_id]);
    expect(pending[0]!.key).toBe(key);
    const live = await journalLive(daemon.home);
    expect(live.has(first.schedule_id)).toBe(false);
    expect(live.has(second.schedule_id)).toBe(true);

    const push = await watcher.waitPush("the replacement's push", (p) => p.data.key === key);
    expect(push.data).toEqual({ v: 2, key });
    expect(Date.parse(push.ts)).toBeGreaterThanOrEqual(Date.parse(second.fire_at));
    const until = Math.max(Date.parse(first.fire_at), Date.parse(second.fire_at)) + 300;
    await expectNothingUntil("a second dedup push", until, () => watcher.pushes((p) => p.data.key === key).slice(1));
    const logged = (await logRecords(["dedup:tick"])).filter((r) => r.data.key === key);
    expect(logged.map((r) => r.schedule_id)).toEqual([second.schedule_id]);
  });

  it("event:scheduled lists pending schedules earliest first, with key and condition, filtered by an event glob", async () => {
    const condition = { "==": [{ var: "data.go" }, true] };
    const b = await schedule({ event: "listing:b", data: { go: true }, delay: 200, key: tag("list-b") });
    const a = await schedule({ event: "listing:a", data: { go: true }, delay: 100, condition });
    const c3 = await schedule({ event: "listing:deep:c", delay: 300 });
    const other = await schedule({ event: "unlisted:x", delay: 50 });
    try {
      const { schedules } = await scheduledList({ event: "listing:*" });
      expect(schedules.map((s) => s.schedule_id)).toEqual([a.schedule_id, b.schedule_id]);
      expect(schedules[0]).toMatchObject({ event: "listing:a", fire_at: a.fire_at, condition });
      expect(schedules[0]).not.toHaveProperty("key");
      expect(schedules[1]).toMatchObject({ event: "listing:b", fire_at: b.fire_at, key: expect.stringMatching(/^list-b/) as unknown });
      expect(schedules[1]).not.toHaveProperty("condition");

      const deep = await scheduledList({ event: "listing:**" });
      expect(deep.schedules.map((s) => s.schedule_id)).toEqual([a.schedule_id, b.schedule_id, c3.schedule_id]);
      const all = (await scheduledList()).schedules;
      const mine = new Set([a.schedule_id, b.schedule_id, c3.schedule_id, other.schedule_id]);
      expect(all.filter((s) => mine.has(s.schedule_id)).map((s) => s.event)).toEqual(["unlisted:x", "listing:a", "listing:b", "listing:deep:c"]);
      const times = all.map((s) => Date.parse(s.fire_at));
      expect(times).toEqual([...times].sort((x, y) => x - y));
      const limited = await c.request<{ schedules: ScheduleEntry[] }>("event:scheduled", { event: "listing:**", limit: 1 });
      expect(limited.schedules.map((s) => s.schedule_id)).toEqual([a.schedule_id]);
      expect((await scheduledList({ event: "nothing:*" })).schedules).toEqual([]);
    } finally {
      for (const s of [a, b, c3, other]) await c.request("event:cancel", { schedule_id: s.schedule_id });
    }
  });

  it("a delayed emit whose data the target would reject is invalid_params at emit time, and nothing is scheduled", async () => {
    const noKey = await failure(c, "event:emit", { event: "state:set", data: { value: 1 }, delay: 1 });
    expect(noKey.code).toBe("invalid_params");
    expect(issuePaths(noKey).some((p) => p === "data.key")).toBe(true);
    const badKey = await failure(c, "event:emit", { event: "state:set", data: { key: "a..b", value: 1 }, delay: 1 });
    expect(badKey.code).toBe("invalid_params");
    expect((await scheduledList({ event: "state:*" })).schedules).toEqual([]);

    // the same emit with good data is scheduled and, when it fires, runs the handler
    const key = `delayed_${process.pid}.status`;
    const good = await schedule({ event: "state:set", data: { key, value: "set later" }, delay: 0.05 });
    expect(good.scheduled).toBe(true);
    await waitFor("the delayed state:set to run", async () => {
      const reply = await c.send("state:get", { key });
      return reply.ok && (reply.data as { value: unknown }).value === "set later";
    });
    // the log record follows the handler's (durable) completion, so it may trail the value by a moment
    const logged = await waitFor("the fired state:set in the event log", async () => {
      const found = (await logRecords(["state:set"])).filter((r) => r.data.key === key);
      return found.length > 0 ? found : undefined;
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ schedule_id: good.schedule_id, ok: true, agent_id: AGENT });
  });
});

// ---------------------------------------------------------------- loop safety

describe("loop safety", () => {
  it("an emit chain nested past the depth limit ends in limit_exceeded, and the daemon keeps serving", async () => {
    const marker = tag("chain");
    let request: Msg = { event: "chain:end", data: { marker } };
    for (let i = 0; i < 19; i++) request = { event: "event:emit", data: request };
    // request is now 20 levels of event:emit, the innermost emitting chain:end
    let node = await emit(request);
    let level = 0;
    while (node.result !== undefined) {
      expect(node.emitted).toBe(true);
      node = node.result as EmitResult;
      level++;
      expect(level).toBeLessThan(25);
    }
    expect(node.emitted).toBe(true);
    expect(node.error?.code, JSON.stringify(node)).toBe("limit_exceeded");
    expect(node.error?.details?.limit).toBe(16);
    expect(level).toBeGreaterThanOrEqual(14);
    expect(level).toBeLessThanOrEqual(17);
    // the innermost target never ran
    expect(await logRecords(["chain:end"])).toEqual([]);

    await expect(c.request("system:health")).resolves.toMatchObject({ status: "ok" });
    expect(await emit({ event: "chain:end", data: { marker } })).toEqual({ emitted: true, delivered: 0 });
  });
});

// ---------------------------------------------------------------- restarts

describe("schedules across restarts", () => {
  // retry, as for "SIGKILL while schedules are firing" below: the first schedules fall due while the replies are
  // still being read, so the kill can land inside a chunk's done-then-dispatch turn (seen twice in one day of
  // fresh-clone runs at load, 26 and 64 lost, none pushed or logged); a daemon that waited between the two would
  // lose in nearly every round, which retries do not hide.
  it("1 000 schedules pipelined, SIGKILL right after the replies: after restart each fires exactly once", { retry: 2, timeout: 40_000 }, async () => {
    const first = await startDaemon();
    // Pushes of any that fire before the kill: on a connection the Daemon object does not close first.
    const early = await Watcher.open(first.socketPath, ["bulk:fire"]);
    const sender = await first.raw();
    const COUNT = 1_000;
    const requests = Array.from({ length: COUNT }, (_, n) => ({
      event: "event:emit",
      id: n,
      data: { event: "bulk:fire", data: { n }, delay: 0.2 + (1.8 * n) / (COUNT - 1) },
    }));
    await sender.send(...requests);
    const replies = await sender.waitLines(COUNT, 20_000);
    const killedAt = Date.now();
    const exit = await first.kill();
    expect(exit.signal).toBe("SIGKILL");

    const idOf = new Map<number, string>();
    for (const [i, reply] of replies.entries()) {
      expect(reply, JSON.stringify(reply)).toMatchObject({ id: i, ok: true, data: { scheduled: true } });
      idOf.set(i, (reply.data as Scheduled).schedule_id);
    }
    expect(new Set(idOf.values()).size).toBe(COUNT);
    await early.raw.closed; // whatever it was sent before the kill has been read
    const firedBeforeKill = early.pushes().map((p) => p.data.n as number);
    const journalAtKill = await journalLive(first.home);
    const loggedAtKill = new Set((await eventLogOnDisk(first.home)).filter((r) => r.event === "bulk:fire").map((r) => r.data.n as number));

    const second = await startDaemon({ home: first.home });
    const watcher = await Watcher.open(second, ["bulk:*"], { since_seq: 0 });
    const firedAfter = () => watcher.pushes((p) => p.event === "bulk:fire").map((p) => p.data.n as number);
    await waitFor(
      "every schedule to fire",
      () => new Set([...firedBeforeKill, ...firedAfter()]).size >= COUNT,
      Math.max(10_000, killedAt + 2_000 + 10_000 - Date.now()),
      20,
    ).catch(() => undefined); // the assertions below name the missing ones
    const c2 = await second.client();
    await waitFor("event:scheduled to be empty", async () => {
      const { schedules } = await c2.request<{ schedules: unknown[] }>("event:scheduled", { limit: 10_000 });
      return schedules.length === 0;
    });
    // A marker through the scheduler: it fires after every batch already taken from the book.
    await c2.request("event:emit", { event: "bulk:marker", delay: 0 });
    await watcher.waitPush("the marker", (p) => p.event === "bulk:marker");
    // Issue 24: the kill left the pattern store as one truth too.
    await expectStoreTruth(join(first.home, "var", "lib", "compositions"));

    const counts = new Map<number, number>();
    for (const n of [...firedBeforeKill, ...firedAfter()]) counts.set(n, (counts.get(n) ?? 0) + 1);
    const lost = [...idOf.keys()].filter((n) => !counts.has(n));
    const twice = [...counts].filter(([, k]) => k > 1).map(([n]) => n);
    const describeLost = lost.map((n) => {
      const fireAt = Date.parse((replies[n]!.data as Scheduled).fire_at);
      return `n=${n} fire_at=kill${fireAt >= killedAt ? "+" : ""}${fireAt - killedAt}ms ${journalAtKill.has(idOf.get(n)!) ? "pending" : "done"} in the journal at the kill, ${loggedAtKill.has(n) ? "" : "not "}in the event log`;
    });
    expect(describeLost, `schedules that never fired (${firedBeforeKill.length} fired before the kill)`).toEqual([]);
    expect(twice, "schedules that fired more than once").toEqual([]);
    expect(counts.size).toBe(COUNT);

    // the event log over both runs: each schedule_id at most once, the right one for its n
    const records = (await logRecords(["bulk:fire"], c2)).filter((r) => r.schedule_id !== undefined);
    const seen = new Map<string, number>();
    for (const record of records) {
      seen.set(record.schedule_id!, (seen.get(record.schedule_id!) ?? 0) + 1);
      expect(record.schedule_id).toBe(idOf.get(record.data.n as number));
    }
    expect([...seen].filter(([, k]) => k > 1)).toEqual([]);
    // those fired by the second daemon were logged (SIGKILL may only cost the first one's last records)
    expect(records.length).toBeGreaterThanOrEqual(firedAfter().length);
    // those that fell due before the new daemon loaded its journal fired late, and say by how much
    const loadedAt = await waitFor("the second daemon to log loading its schedules", async () => {
      const lines = await readJsonLines(join(first.home, "var", "log", "daemon.log"));
      const loaded = lines.find((l) => l.pid === second.pid && l.msg === "schedules loaded");
      return loaded === undefined ? undefined : Date.parse(loaded.time as string);
    });
    const before = new Set(firedBeforeKill);
    const fireAtOf = new Map(replies.map((r, n) => [n, Date.parse((r.data as Scheduled).fire_at)]));
    const overdue = records.filter((r) => !before.has(r.data.n as number) && fireAtOf.get(r.data.n as number)! < loadedAt - 5);
    expect(overdue.length).toBeGreaterThan(0);
    for (const record of overdue) {
      expect(record.late_ms, JSON.stringify(record)).toBeGreaterThanOrEqual(loadedAt - fireAtOf.get(record.data.n as number)! - 5);
    }
    expect((await journalLive(first.home)).size).toBe(0);
    early.raw.destroy();
  });

  // retry: the kill lands at a random instant. A daemon that dispatches in the same turn as the done record
  // can lose a schedule only when it is preempted inside that sub-millisecond window, which a loaded 2-core
  // CI machine sometimes does (seen twice on Node 26 with two test workers); a daemon that waits between
  // them (an fsync, a write callback) loses in nearly every round, which retries do not hide.
  it("SIGKILL while schedules are firing: each fires exactly once over both runs", { retry: 2, timeout: 30_000 }, async () => {
    // A daemon that marks a schedule done and then waits (an fsync, a write callback) before dispatching it
    // loses the schedule when killed in that gap; killing right after a push lands there often, not always:
    // two rounds, stopping at the first one that loses or doubles a schedule.
    for (let round = 1; round <= 2; round++) {
      const { lost, twice, pushedBeforeKill } = await killWhileFiring(400, 1, 50);
      expect(lost, `round ${round}: schedules lost (${pushedBeforeKill} pushed before the kill)`).toEqual([]);
      expect(twice, `round ${round}: schedules fired twice`).toEqual([]);
    }
  });

  it("cancels and key replacements survive SIGKILL: after restart only the live schedules fire", async () => {
    const first = await startDaemon();
    const c1 = await first.client({ agentId: "kill-agent" });
    const kept = await c1.request<Scheduled>("event:emit", { event: "durable:fire", data: { which: "kept" }, delay: 0.6 });
    const cancelled = await c1.request<Scheduled>("event:emit", { event: "durable:fire", data: { which: "cancelled" }, delay: 0.6 });
    const byKey = await c1.request<Scheduled>("event:emit", { event: "durable:fire", data: { which: "by-key" }, delay: 0.6, key: "dk-1" });
    const old = await c1.request<Scheduled>("event:emit", { event: "durable:fire", data: { which: "old" }, delay: 0.6, key: "dk-2" });
    const replacement = await c1.request<Scheduled>("event:emit", { event: "durable:fire", data: { which: "new" }, delay: 0.7, key: "dk-2" });
    expect(replacement.replaced).toBe(old.schedule_id);
    await c1.request("event:cancel", { schedule_id: cancelled.schedule_id });
    await c1.request("event:cancel", { key: "dk-1" });
    await first.kill();

    const second = await startDaemon({ home: first.home });
    const c2 = await second.client();
    const pending = (await c2.request<{ schedules: ScheduleEntry[] }>("event:scheduled")).schedules.map((s) => s.schedule_id);
    const watcher = await Watcher.open(second, ["durable:*"], { since_seq: 0 });
    // those not yet fired are listed; none of the dead ones is
    for (const dead of [cancelled, byKey, old]) expect(pending).not.toContain(dead.schedule_id);
    await waitFor("the live schedules to fire", () => watcher.pushes((p) => p.event === "durable:fire").length >= 2);
    await c2.request("event:emit", { event: "durable:marker", delay: 0 });
    await watcher.waitPush("the marker", (p) => p.event === "durable:marker");
    expect(watcher.pushes((p) => p.event === "durable:fire").map((p) => p.data.which).sort()).toEqual(["kept", "new"]);
    const records = await logRecords(["durable:fire"], c2);
    expect(records.map((r) => r.schedule_id).sort()).toEqual([kept.schedule_id, replacement.schedule_id].sort());
    expect((await failure(c2, "event:cancel", { key: "dk-2" })).code).toBe("not_found");
  });

  it("a journalled condition that is not a rule (text an older daemon accepted) is not emitted when it fires; daemon.log says why", async () => {
    const first = await startDaemon();
    const c1 = await first.client();
    const textual = await c1.request<Scheduled>("event:emit", { event: "legacy:fire", data: { which: "text" }, delay: 0.6, condition: true });
    const kept = await c1.request<Scheduled>("event:emit", { event: "legacy:fire", data: { which: "rule" }, delay: 0.6, condition: true });
    expect((await first.stop()).code).toBe(0);
    // What a daemon before rule checking wrote for --condition 'state.a.b == 4': the text itself (always true to the engine).
    const journal = join(first.home, "var", "lib", "schedule.ndjson");
    const lines = (await readFile(journal, "utf8")).split("\n").map((line) => {
      if (line === "") return line;
      const record = JSON.parse(line) as Msg;
      return JSON.stringify(record.schedule_id === textual.schedule_id ? { ...record, condition: "state.a.b == 4" } : record);
    });
    await writeFile(journal, lines.join("\n"));

    const second = await startDaemon({ home: first.home });
    const watcher = await Watcher.open(second, ["legacy:*"], { since_seq: 0 });
    await watcher.waitPush("the schedule with a rule", (p) => p.data.which === "rule");
    const c2 = await second.client();
    await c2.request("event:emit", { event: "legacy:marker", delay: 0 });
    await watcher.waitPush("the marker", (p) => p.event === "legacy:marker");
    expect(watcher.pushes((p) => p.event === "legacy:fire").map((p) => p.data.which)).toEqual(["rule"]);
    expect((await logRecords(["legacy:fire"], c2)).map((r) => r.schedule_id)).toEqual([kept.schedule_id]);
    const daemonLog = await readFile(join(first.home, "var", "log", "daemon.log"), "utf8");
    const warning = daemonLog.split("\n").find((line) => line.includes(textual.schedule_id) && line.includes("not a JSON Logic rule"));
    expect(warning, daemonLog.slice(-2_000)).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ msg: "schedule not emitted: its condition is not a JSON Logic rule", condition: "state.a.b == 4" });
  });

  it("SIGTERM keeps pending schedules: they fire after the restart", async () => {
    const first = await startDaemon();
    const c1 = await first.client({ agentId: "term-agent" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await c1.request<Scheduled>("event:emit", { event: "kept:fire", data: { i }, delay: 0.8 + i * 0.05, key: `kept-${i}` });
      ids.push(reply.schedule_id);
    }
    const exit = await first.stop();
    expect(exit.code).toBe(0);
    const live = await journalLive(first.home);
    expect([...live.keys()].sort()).toEqual([...ids].sort());

    const second = await startDaemon({ home: first.home });
    const watcher = await Watcher.open(second, ["kept:*"], { since_seq: 0 });
    await waitFor("the five kept schedules to fire", () => watcher.pushes((p) => p.event === "kept:fire").length >= 5);
    const c2 = await second.client();
    await c2.request("event:emit", { event: "kept:marker", delay: 0 });
    await watcher.waitPush("the marker", (p) => p.event === "kept:marker");
    const fired = watcher.pushes((p) => p.event === "kept:fire").map((p) => p.data.i as number);
    expect(fired.sort()).toEqual([0, 1, 2, 3, 4]);
    const records = await logRecords(["kept:fire"], c2);
    expect(records.map((r) => r.schedule_id).sort()).toEqual([...ids].sort());
    expect(records.every((r) => r.agent_id === "term-agent")).toBe(true);
    expect((await c2.request<{ schedules: unknown[] }>("event:scheduled")).schedules).toEqual([]);
  });
});
