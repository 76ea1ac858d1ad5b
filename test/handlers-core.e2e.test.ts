/**
 * Connected processes as event handlers (issue 14), end to end: a real
 * daemon, each handler on its own connection. Before this issue every
 * handler:* request was unknown_event and an event could only end at a
 * built-in handler or at passive subscribers.
 */
import { spawn } from "node:child_process";
import { chmod, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, DaemonProcess, failure, readJsonLines, sleepTick, startDaemon, waitFor, type Daemon } from "./harness.js";
import { json, pat, PAT } from "./pat-process.js";

type Msg = Record<string, unknown>;

let daemon: Daemon;
let caller: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  caller = await daemon.client({ agentId: "orch_1" });
});
afterAll(cleanup);

async function handlerCount(event: string): Promise<number> {
  const { handlers } = await caller.request<{ handlers: Msg[] }>("handler:list", { event });
  return handlers.length;
}

describe("one-of calls", () => {
  it("an exclusive handler answers requests for its event, directly and through event:emit", async () => {
    // Nobody owns task:echo yet: no_handler (before this issue it was unknown_event whatever anyone did).
    expect((await failure(caller.request("task:echo", { n: 1 }))).code).toBe("no_handler");
    const handler = await daemon.client();
    const registered = await handler.handle("task:echo", (data, call) => ({ echoed: data, agent: call.agentId, event: call.event }));
    expect(registered.id).toMatch(/^h_/);
    expect(await caller.request("task:echo", { n: 1 })).toEqual({ echoed: { n: 1 }, agent: "orch_1", event: "task:echo" });
    expect(await caller.request("event:emit", { event: "task:echo", data: { n: 2 } })).toMatchObject({ emitted: true, result: { echoed: { n: 2 } } });
    // A second exclusive owner, and the daemon's namespaces, are conflicts.
    const other = await daemon.client();
    expect(await failure(other.handle("task:echo", () => null))).toMatchObject({ code: "conflict", details: { handler_id: registered.id } });
    for (const event of ["system:health", "composition:fork", "handler:list", "state:x"]) {
      expect((await failure(other.handle(event, () => null))).code).toBe("conflict");
    }
    expect((await failure(other.handle("*:health", () => null))).code).toBe("invalid_params");
    // Replies in request order on the caller's connection, even when handlers answer out of order.
    const slow = await daemon.client();
    await slow.handle("task:slow", async (data) => {
      await sleepTick(data.ms as number);
      return data.ms;
    }, { concurrency: 3 });
    const raw = await daemon.raw();
    const replies = await raw.exchange(
      { event: "task:slow", data: { ms: 60 }, id: 1 },
      { event: "task:slow", data: { ms: 1 }, id: 2 },
      { event: "task:echo", data: { n: 3 }, id: 3 },
    );
    expect(replies.map((r) => [r.id, r.data])).toEqual([
      [1, 60],
      [2, 1],
      [3, { echoed: { n: 3 }, event: "task:echo" }],
    ]);
    await registered.close();
    expect((await failure(caller.request("task:echo", {}))).code).toBe("no_handler");
  });

  it("a group spreads calls over its members (fewest in flight, then round robin)", async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3; i++) {
      const member = await daemon.client();
      await member.handle("work:item", async (_data, call) => {
        counts.set(call.handlerId, (counts.get(call.handlerId) ?? 0) + 1);
        await sleepTick(2);
        return call.handlerId;
      }, { group: "workers" });
    }
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => caller.request<string>("work:item", { i })));
    expect(new Set(answers).size).toBe(3);
    for (const count of counts.values()) expect(count).toBeGreaterThanOrEqual(15);
    const { handlers } = await caller.request<{ handlers: Msg[] }>("handler:list", { event: "work:item" });
    expect(handlers.map((h) => [h.mode, h.group, h.in_flight, h.answered])).toEqual(Array(3).fill(["group", "workers", 0, 20]));
  });
});

describe("all-of: event:emit {collect}", () => {
  beforeAll(async () => {
    const scores: [number, string][] = [
      [0.4, "a"],
      [0.9, "b"],
      [0.7, "b"],
    ];
    for (const [score, pick] of scores) {
      const scorer = await daemon.client();
      await scorer.handle("evaluation:score", (data) => ({ score, pick, of: data.candidate }), { group: "scorers" });
    }
    const silent = await daemon.client();
    await silent.handle("evaluation:score", () => new Promise(() => undefined), { group: "scorers" });
  });

  const emit = (collect: Msg) => caller.request<Msg>("event:emit", { event: "evaluation:score", data: { candidate: "x" }, collect });

  it.each([
    [{ reduce: "highest:score", wait_ms: 300 }, { value: 0.9, data: { score: 0.9, pick: "b", of: "x" } }],
    [{ reduce: "majority:pick", wait_ms: 300 }, { value: "b", votes: 2, of: 3 }],
    [{ reduce: "all", wait_ms: 300 }, expect.arrayContaining([{ score: 0.4, pick: "a", of: "x" }])],
  ])("%j", async (collect, reduced) => {
    const result = await emit(collect);
    expect(result.responses).toHaveLength(3);
    expect((result.missing as string[]).length).toBe(1);
    expect(result.reduced).toMatchObject(reduced);
  });

  it("first ends the collect at the first answer; max caps the answers", async () => {
    const started = Date.now();
    const first = await emit({ reduce: "first" });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((first.responses as Msg[]).length).toBeGreaterThanOrEqual(1);
    expect(first.reduced).toMatchObject({ data: { of: "x" } });
    const two = await emit({ max: 2 });
    expect((two.responses as Msg[]).length).toBe(2);
    expect((two.missing as string[]).length).toBe(2);
  });

  it("no_handler at once when nobody answers; without collect an emit stays fire-and-forget", async () => {
    expect((await failure(caller.request("event:emit", { event: "nobody:home", data: {}, collect: {} }))).code).toBe("no_handler");
    expect(await caller.request("event:emit", { event: "nobody:home", data: {} })).toEqual({ emitted: true, delivered: 0 });
    expect((await failure(caller.request("event:emit", { event: "nobody:home", delay: 1, collect: {} }))).code).toBe("invalid_params");
  });
});

describe("observers, deadlines and handlers that go away", () => {
  it("an observer sees calls, including emits nobody answers, and never answers", async () => {
    const seen: Msg[] = [];
    const observer = await daemon.client();
    await observer.handle("audit:**", (data, call) => {
      seen.push({ event: call.event, data, observe: call.observe });
      return "ignored";
    }, { mode: "observe" });
    // Observers own nothing: a direct request is no_handler.
    expect((await failure(caller.request("audit:thing", {}))).code).toBe("no_handler");
    await caller.request("event:emit", { event: "audit:thing", data: { a: 1 } });
    const owner = await daemon.client();
    await owner.handle("audit:owned", () => "owner answered");
    expect(await caller.request("audit:owned", { b: 2 })).toBe("owner answered");
    await waitFor("two observed calls", () => seen.length >= 2);
    expect(seen).toEqual([
      { event: "audit:thing", data: { a: 1 }, observe: true },
      { event: "audit:owned", data: { b: 2 }, observe: true },
    ]);
  });

  it("timeout at the deadline: the handler gets handler:cancel, its late reply is dropped", async () => {
    const handler = await daemon.raw();
    const [registered] = await handler.exchange({ event: "handler:register", data: { events: ["task:stuck"], timeout_ms: 200 }, id: "r" });
    expect(registered).toMatchObject({ ok: true });
    const call = caller.send("task:stuck", { n: 1 });
    const [push] = await handler.waitLines(2).then((lines) => lines.slice(1));
    expect(push).toMatchObject({ event: "handler:call", data: { event: "task:stuck", data: { n: 1 }, agent_id: "orch_1" } });
    const callId = (push!.data as Msg).call_id;
    const reply = await call;
    expect(reply).toMatchObject({ ok: false, error: { code: "timeout", details: { deadline: (push!.data as Msg).deadline } } });
    const [cancel] = await handler.waitLines(3).then((lines) => lines.slice(2));
    expect(cancel).toEqual({ event: "handler:cancel", data: { call_id: callId, handler_id: (registered!.data as Msg).handler_id, reason: "timeout" } });
    const [late] = await handler.exchange({ event: "handler:reply", data: { call_id: callId, ok: true, data: 1 }, id: "late" });
    expect(late).toMatchObject({ ok: true, data: { accepted: false } });
    const [unknown] = await handler.exchange({ event: "handler:reply", data: { call_id: "nope", ok: true }, id: "u" });
    expect(unknown).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("a handler's connection destroyed mid-call: handler_gone within 100 ms, other calls unaffected", async () => {
    const doomed = await daemon.raw();
    await doomed.exchange({ event: "handler:register", data: { events: ["task:doomed"] }, id: "r" });
    const steady = await daemon.client();
    await steady.handle("task:steady", async () => {
      await sleepTick(150);
      return "steady";
    });
    const other = caller.request("task:steady", {});
    // Its own connection: replies on one connection come in request order, and task:steady takes 150 ms.
    const doomedCaller = await daemon.client();
    const call = doomedCaller.send("task:doomed", {});
    await doomed.waitLines(2);
    const destroyed = Date.now();
    doomed.destroy();
    const reply = await call;
    expect(Date.now() - destroyed).toBeLessThan(100);
    expect(reply).toMatchObject({ ok: false, error: { code: "handler_gone" } });
    expect(await other).toBe("steady");
    expect(await handlerCount("task:doomed")).toBe(0);
    expect((await failure(caller.request("task:doomed", {}))).code).toBe("no_handler");
    expect(await doomedCaller.request("system:health")).toMatchObject({ status: "ok" });
  });

  it("a full queue is limit_exceeded; the emit depth counter spans handler calls", async () => {
    const small = await daemon.client();
    await small.handle("task:small", () => new Promise(() => undefined), { maxQueue: 1, timeoutMs: 2_000 });
    const waiting = [caller.send("task:small", {}), caller.send("task:small", {})];
    expect(await failure(caller.request("task:small", {}))).toMatchObject({ code: "limit_exceeded", details: { limit: 1 } });
    void waiting;

    // An event whose handler emits it again (without waiting) would run forever; the depth limit stops it.
    const looper = await daemon.client();
    const calls: number[] = [];
    const emits: Msg[] = [];
    await looper.handle("loop:ping", (data) => {
      calls.push(data.n as number);
      void looper.send("event:emit", { event: "loop:ping", data: { n: (data.n as number) + 1 } }).then((reply) => emits.push(reply as unknown as Msg));
      return "sent";
    });
    expect(await caller.request("loop:ping", { n: 0 })).toBe("sent");
    const stopped = await waitFor("the loop to hit the depth limit", () =>
      emits.find((reply) => JSON.stringify(reply).includes("limit_exceeded")),
    );
    expect(stopped).toMatchObject({ ok: true, data: { emitted: true, error: { code: "limit_exceeded", details: { limit: 16 } } } });
    const count = calls.length;
    await sleepTick(100);
    expect(calls.length).toBe(count);
    expect(count).toBeGreaterThan(2);
    expect(count).toBeLessThanOrEqual(16);
  });
});

describe("registered params, discovery, schedules", () => {
  const params = {
    type: "object",
    properties: { text: { type: "string", minLength: 1, description: "what to summarize" }, words: { type: "integer", minimum: 1 } },
    required: ["text"],
    additionalProperties: false,
  };

  it("validates callers and shows the event in system:discover and system:help like a built-in", async () => {
    const handler = await daemon.client();
    await handler.handle("doc:summarize", (data) => ({ summary: String(data.text).slice(0, 3) }), { params, description: "Summarize a text\nmore words" });
    const bad = await failure(caller.request("doc:summarize", { words: 0 }));
    expect(bad.code).toBe("invalid_params");
    expect(bad.details).toEqual({ issues: [{ path: "text", message: "text is required" }, { path: "words", message: "must be ≥ 1" }] });
    expect(await caller.request("doc:summarize", { text: "hello" })).toEqual({ summary: "hel" });
    const { events } = await caller.request<{ events: Record<string, Msg[]> }>("system:discover", { namespace: "doc" });
    expect(events.doc).toEqual([
      {
        event: "doc:summarize",
        summary: "Summarize a text",
        // What a connected process's event does is not known: it counts as a write (pat mcp --read-only hides it).
        effect: "write",
        parameters: { text: { type: "str", required: true, description: "what to summarize", min_length: 1 }, words: { type: "int", required: false, min: 1 } },
        params,
      },
    ]);
    expect(await caller.request("system:help", { event: "doc:summarize" })).toMatchObject({ summary: "Summarize a text", description: "Summarize a text\nmore words", params });
    // A schema the daemon cannot check safely is refused, not half-applied.
    const other = await daemon.client();
    const refused = await failure(other.handle("doc:other", () => null, { params: { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } } }));
    expect(refused).toMatchObject({ code: "invalid_params", details: { issues: [{ path: "params.properties.s.pattern" }] } });
  });

  it("a delayed emit for a handler's event is delivered at fire time; with no handler left it is no_handler in the event log", async () => {
    const handler = await daemon.client();
    const seen: Msg[] = [];
    const registration = await handler.handle("job:later", (data) => {
      seen.push(data);
      return "done";
    });
    await caller.request("event:emit", { event: "job:later", data: { k: 1 }, delay: 0.05 });
    await waitFor("the delayed call", () => seen.length === 1);
    const { schedule_id } = await caller.request<{ schedule_id: string }>("event:emit", { event: "job:later", data: { k: 2 }, delay: 0.3 });
    await registration.close();
    const logDir = join(daemon.home, "var", "log", "events");
    const record = await waitFor("the no_handler record", async () => {
      for (const file of await readdir(logDir)) {
        const found = (await readJsonLines(join(logDir, file))).find((r) => r.schedule_id === schedule_id);
        if (found !== undefined) return found;
      }
      return undefined;
    });
    expect(record).toMatchObject({ event: "job:later", ok: false, code: "no_handler" });
    expect(seen).toEqual([{ k: 1 }]);
    expect(await caller.request("system:health")).toMatchObject({ status: "ok" });
  });
});

describe("pat handle and pat call", () => {
  it("runs a shell script per call: JSON in on stdin, JSON out; a failing script answers with its stderr", async () => {
    const script = join(daemon.home, "double.sh");
    await writeFile(script, '#!/bin/sh\ninput=$(cat)\nif [ "$input" = \'{"fail":true}\' ]; then echo "it broke" >&2; exit 3; fi\nprintf \'{"got": %s, "event": "%s"}\' "$input" "$PAT_EVENT"\n');
    await chmod(script, 0o755);
    const handler = new DaemonProcess(
      daemon.home,
      spawn(process.execPath, [PAT, "handle", "shell:double", "--group", "sh", "--home", daemon.home, "--", script], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    try {
      await waitFor("pat handle to register", async () => (await handlerCount("shell:double")) === 1);
      expect(await caller.request("shell:double", { x: 2 })).toEqual({ got: { x: 2 }, event: "shell:double" });
      const broke = await failure(caller.request("shell:double", { fail: true }));
      expect(broke).toMatchObject({ code: "handler_failed", details: { exit_code: 3, stderr: "it broke" } });
      expect(broke.message).toContain("it broke");

      const called = await pat(daemon.home, ["call", "shell:double", '{"y": 1}']);
      expect(called.code).toBe(0);
      expect(json(called)).toEqual({ got: { y: 1 }, event: "shell:double" });
      const missing = await pat(daemon.home, ["call", "shell:nobody", "{}"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("no_handler");
    } finally {
      await handler.signal("SIGTERM");
    }
    await waitFor("the registration to end with pat handle", async () => (await handlerCount("shell:double")) === 0);
  });
});
