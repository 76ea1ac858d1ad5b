/**
 * The wire protocol of SPEC §2, end to end: a real daemon, real sockets.
 * Pipelining and ordering, every kind of bad input (with the exact error
 * code, and proof that the daemon and another client keep working), and the
 * self-description events (discover, help, hello).
 */
import { readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { ROOT, cleanup, startDaemon, waitFor, type Daemon } from "./harness.js";

type Msg = Record<string, unknown>;

interface WireErrorShape {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

let daemon: Daemon;
/** A client opened before any bad input, used to prove the daemon still serves others. */
let observer: Client;

beforeAll(async () => {
  daemon = await startDaemon();
  observer = await daemon.client();
});
afterAll(cleanup);

function errorOf(reply: Msg | undefined): WireErrorShape {
  expect(reply, "a reply").toBeDefined();
  expect(reply!.ok).toBe(false);
  return reply!.error as WireErrorShape;
}

function health(): Msg {
  return { event: "system:health", id: "h" };
}

/** The daemon is alive, and the already-open observer connection still gets answers. */
async function expectStillServing(): Promise<void> {
  expect(daemon.proc.exitStatus()).toBeNull();
  const status = await observer.request<{ status: string }>("system:health");
  expect(status.status).toBe("ok");
}

/** `depth` nested objects: {"a":{"a":...{}}}. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
}

describe("pipelining and ordering", () => {
  it("answers 1000 pipelined requests written in one go, in order, each with its id", async () => {
    const raw = await daemon.raw();
    const lines: string[] = [];
    const expected: { id: unknown; event: unknown; ok: boolean; code?: string }[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = i % 2 === 0 ? `r${i}` : i;
      switch (i % 7) {
        case 0:
          lines.push(JSON.stringify({ event: "system:health", id }));
          expected.push({ id, event: "system:health", ok: true });
          break;
        case 1:
          lines.push(JSON.stringify({ event: "system:hello", data: { client: `pipe-${i}` }, id }));
          expected.push({ id, event: "system:hello", ok: true });
          break;
        case 2:
          // async handler: its reply must not be overtaken by the sync ones after it
          lines.push(JSON.stringify({ event: "monitor:get_events", data: { limit: 1 }, id }));
          expected.push({ id, event: "monitor:get_events", ok: true });
          break;
        case 3:
          lines.push(JSON.stringify({ event: "system:nope", id }));
          expected.push({ id, event: "system:nope", ok: false, code: "unknown_event" });
          break;
        case 4:
          lines.push(JSON.stringify({ event: "monitor:subscribe", data: { patterns: 5 }, id }));
          expected.push({ id, event: "monitor:subscribe", ok: false, code: "invalid_params" });
          break;
        case 5:
          lines.push(`{"event": "system:health", "id": ${i},`); // not JSON
          expected.push({ id: null, event: null, ok: false, code: "invalid_json" });
          break;
        default:
          lines.push(JSON.stringify({ event: "system:discover", data: { namespace: "system" }, id }));
          expected.push({ id, event: "system:discover", ok: true });
      }
    }
    await raw.writeRaw(lines.join("\n") + "\n");
    const replies = await raw.waitLines(1000, 20_000);
    const seen = replies.map((r) => ({
      id: r.id,
      event: r.event,
      ok: r.ok,
      ...(r.ok === false ? { code: (r.error as WireErrorShape).code } : {}),
    }));
    expect(seen).toEqual(expected);
    // nothing more than one reply per request
    await observer.request("system:health");
    expect(raw.lines.length).toBe(1000);
  });

  it("keeps two interleaved connections apart: each gets only its own replies, in its own order", async () => {
    const [a, b] = [await daemon.raw(), await daemon.raw()];
    const count = 300;
    const ids = (prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const request = (id: string, i: number): Msg =>
      i % 3 === 0
        ? { event: "monitor:get_events", data: { limit: 1 }, id }
        : i % 3 === 1
          ? { event: "system:health", id }
          : { event: "system:helth", id };
    const writes: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      writes.push(a.send(request(`A-${i}`, i)));
      writes.push(b.send(request(`B-${i}`, i)));
    }
    await Promise.all(writes);
    const [repliesA, repliesB] = await Promise.all([a.waitLines(count, 20_000), b.waitLines(count, 20_000)]);
    expect(repliesA.map((r) => r.id)).toEqual(ids("A"));
    expect(repliesB.map((r) => r.id)).toEqual(ids("B"));
    expect(repliesA.filter((r) => r.ok === false).map((r) => errorOf(r).code)).toEqual(
      Array.from({ length: count / 3 }, () => "unknown_event"),
    );
  });
});

describe("bad input (SPEC §2 error codes); the daemon and other clients keep working", () => {
  it("not JSON: invalid_json with event and id null and a position; the connection stays open", async () => {
    const raw = await daemon.raw();
    const [bad, next] = await raw.exchange('{"event": "system:health", "id": 1', health());
    expect(bad).toMatchObject({ event: null, id: null, ok: false });
    const error = errorOf(bad);
    expect(error.code).toBe("invalid_json");
    expect(error.details).toHaveProperty("position");
    expect(next).toMatchObject({ event: "system:health", id: "h", ok: true });
    // plain garbage, and a lone brace, too
    const [garbage, brace, after] = await raw.exchange("hello there", "{", health());
    expect(errorOf(garbage).code).toBe("invalid_json");
    expect(errorOf(brace).code).toBe("invalid_json");
    expect(after!.ok).toBe(true);
    // bytes that are not UTF-8, and a NUL
    await raw.writeRaw(Buffer.from([0xff, 0xfe, 0x7b, 0x0a, 0x00, 0x0a]));
    const [notUtf8, nul] = (await raw.waitLines(7)).slice(5);
    expect(errorOf(notUtf8).code).toBe("invalid_json");
    expect(errorOf(nul).code).toBe("invalid_json");
    expect(raw.hasClosed).toBe(false);
    await expectStillServing();
  });

  it("invalid_json details.position says where the line stops being JSON", async () => {
    const raw = await daemon.raw();
    const inputs: [string, number][] = [
      ['{"event": "system:health", "id": 1', 34], // cut short
      ['{"a":1,}', 7], // trailing comma
      ["hello there", 0], // not JSON from the first character
      ['{"a":tru}', 5], // a misspelt literal
    ];
    const replies = await raw.exchange(...inputs.map(([line]) => line));
    const positions = replies.map((reply) => {
      const error = errorOf(reply);
      expect(error.code).toBe("invalid_json");
      return error.details!.position;
    });
    for (const [i, position] of positions.entries()) {
      expect(typeof position, `position for ${inputs[i]![0]}`).toBe("number");
    }
    expect(positions.slice(0, 2)).toEqual([34, 7]);
    // where V8's message names no position, it is still somewhere in the line
    for (const [i, position] of positions.entries()) {
      expect(position as number).toBeGreaterThanOrEqual(0);
      expect(position as number).toBeLessThanOrEqual(inputs[i]![0].length);
    }
  });

  it("JSON that is not an object (array, number, string, null, true) is invalid_request", async () => {
    const raw = await daemon.raw();
    const inputs = ['[{"event":"system:health","id":1}]', "42", '"system:health"', "null", "true"];
    const replies = await raw.exchange(...inputs, health());
    for (const reply of replies.slice(0, inputs.length)) {
      expect(reply).toMatchObject({ ok: false, id: null });
      expect(errorOf(reply).code).toBe("invalid_request");
    }
    expect(replies[inputs.length]).toMatchObject({ id: "h", ok: true });
    await expectStillServing();
  });

  it("event missing or not a string is invalid_request, echoing the id", async () => {
    const raw = await daemon.raw();
    const replies = await raw.exchange(
      { id: "no-event", data: {} },
      { event: 5, id: "num-event" },
      { event: null, id: "null-event" },
      { event: ["system:health"], id: 9 },
      { event: "", id: "empty-event" },
      health(),
    );
    expect(replies.map((r) => r.id)).toEqual(["no-event", "num-event", "null-event", 9, "empty-event", "h"]);
    for (const reply of replies.slice(0, 5)) expect(errorOf(reply).code).toBe("invalid_request");
    expect(replies[5]!.ok).toBe(true);
    await expectStillServing();
  });

  it("data that is an array, null, a string or a number is invalid_request, echoing event and id", async () => {
    const raw = await daemon.raw();
    const replies = await raw.exchange(
      { event: "system:health", data: [], id: "arr" },
      { event: "system:health", data: null, id: "nul" },
      { event: "system:health", data: "x", id: 3 },
      { event: "system:health", data: 1 },
      health(),
    );
    expect(replies.map((r) => r.id)).toEqual(["arr", "nul", 3, null, "h"]);
    for (const reply of replies.slice(0, 4)) {
      expect(reply.event).toBe("system:health");
      expect(errorOf(reply).code).toBe("invalid_request");
    }
    expect(replies[4]!.ok).toBe(true);
    await expectStillServing();
  });

  it("a 9 MiB line is too_large with details.limit 8388608, then the daemon closes that connection only", async () => {
    const raw = await daemon.raw();
    const bystander = await daemon.raw();
    const big = '{"event":"system:health","id":"big","data":{"x":"' + "a".repeat(9 * 1024 * 1024) + '"}}\n';
    void raw.writeRaw(big);
    await raw.waitClosed(15_000);
    expect(raw.lines.length).toBe(1);
    const reply = JSON.parse(raw.lines[0]!) as Msg;
    const error = errorOf(reply);
    expect(error.code).toBe("too_large");
    expect(error.details).toEqual({ limit: 8388608 });
    const [ok] = await bystander.exchange(health());
    expect(ok!.ok).toBe(true);
    await expectStillServing();
  });

  it("a line just under the limit is still read and answered (not too_large)", async () => {
    const raw = await daemon.raw();
    const prefix = '{"event":"system:health","id":"almost","pad":"';
    const suffix = '"}';
    const pad = 8 * 1024 * 1024 - prefix.length - suffix.length - 16;
    const [reply] = await raw.exchange(prefix + "b".repeat(pad) + suffix);
    expect(reply).toMatchObject({ id: "almost", ok: true });
    expect(raw.hasClosed).toBe(false);
  });

  it("deep nesting: 100000 `[` and a 200-deep data object are invalid_request; 50 deep is parsed", async () => {
    const raw = await daemon.raw();
    const [brackets] = await raw.exchange("[".repeat(100_000));
    expect(errorOf(brackets).code).toBe("invalid_request");

    const [deep] = await raw.exchange(`{"event":"system:health","id":"deep","data":${nested(200)}}`);
    expect(errorOf(deep).code).toBe("invalid_request");

    // 50 deep reaches the handler's schema (system:health takes no keys, so the schema names the key) ...
    const [fifty] = await raw.exchange(`{"event":"system:health","id":"fifty","data":${nested(50)}}`);
    expect(fifty!.id).toBe("fifty");
    const error = errorOf(fifty);
    expect(error.code).toBe("invalid_params");
    // ... and 50 deep outside `data` (an ignored extra key) is simply accepted.
    const [extra] = await raw.exchange(`{"event":"system:health","id":"extra","meta":${nested(50)}}`);
    expect(extra).toMatchObject({ id: "extra", ok: true });
    // strings full of brackets are not nesting
    const [stringy] = await raw.exchange({ event: "system:health", id: "str", meta: "[".repeat(100_000) });
    expect(stringy).toMatchObject({ id: "str", ok: true });
    expect(raw.hasClosed).toBe(false);
    await expectStillServing();
  });

  it("unknown event: unknown_event with suggestions in a daemon namespace; no_handler for a name only a connected handler could own", async () => {
    const raw = await daemon.raw();
    const [typo, foreign, ns] = await raw.exchange(
      { event: "system:helth", id: "typo" },
      { event: "nobody:owns_this", id: "foreign" },
      { event: "monitor:subscribes", id: "ns" },
    );
    expect(typo!.id).toBe("typo");
    expect(typo!.event).toBe("system:helth");
    const error = errorOf(typo);
    expect(error.code).toBe("unknown_event");
    expect(error.details!.suggestions).toContain("system:health");
    expect(errorOf(foreign).code).toBe("no_handler");
    expect(errorOf(foreign).message).toMatch(/no handler owns nobody:owns_this now;.*handler:register/);
    // Nothing close: no empty suggestion list; publishing one's own event is what event:emit is for.
    expect(errorOf(foreign)).not.toHaveProperty("details");
    expect(errorOf(foreign).message).toContain("to publish your own event, use event:emit");
    expect(errorOf(ns).details!.suggestions).toContain("monitor:subscribe");
    await expectStillServing();
  });

  it("params of the wrong type: invalid_params with details.issues[].path", async () => {
    const raw = await daemon.raw();
    const [wrongType, missing, extraKey, nestedBad] = await raw.exchange(
      { event: "monitor:subscribe", data: { patterns: 5 }, id: 1 },
      { event: "monitor:subscribe", data: {}, id: 2 },
      { event: "system:health", data: { bogus: true }, id: 3 },
      { event: "monitor:subscribe", data: { patterns: ["ok:*", 7] }, id: 4 },
    );
    const first = errorOf(wrongType);
    expect(first.code).toBe("invalid_params");
    const issues = first.details!.issues as { path: string; message: string }[];
    expect(issues[0]!.path).toBe("patterns");
    expect(typeof issues[0]!.message).toBe("string");
    expect(first.message).toContain("patterns");
    expect((errorOf(missing).details!.issues as { path: string }[])[0]).toEqual({ path: "patterns", message: 'patterns is required (e.g. ["composition:*","orchestration:**"])' });
    expect(errorOf(extraKey).code).toBe("invalid_params");
    expect((errorOf(nestedBad).details!.issues as { path: string }[])[0]!.path).toBe("patterns.1");
    await expectStillServing();
  });

  it("agent_id or id of the wrong type is invalid_request", async () => {
    const raw = await daemon.raw();
    const [badAgent, badId] = await raw.exchange(
      { event: "system:health", id: "a", agent_id: 5 },
      { event: "system:health", id: { x: 1 } },
    );
    expect(badAgent!.id).toBe("a");
    expect(errorOf(badAgent).code).toBe("invalid_request");
    expect(errorOf(badId).code).toBe("invalid_request");
  });

  it("clients that disconnect mid-request do not hurt the daemon; the connection count goes back down", async () => {
    const before = (await observer.request<{ connections: number }>("system:health")).connections;
    const rounds = 150;
    for (let i = 0; i < rounds; i++) {
      const raw = await daemon.raw();
      const kind = i % 3;
      if (kind === 0) raw.socket.write(JSON.stringify({ event: "monitor:get_events", data: { limit: 50 }, id: i }) + "\n");
      else if (kind === 1) raw.socket.write('{"event":"system:health","id":'); // half a line
      else raw.socket.write(JSON.stringify({ event: "system:discover", id: i }) + "\n" + JSON.stringify(health()) + "\n");
      raw.destroy();
    }
    await waitFor(
      "the connection count to return to its value before",
      async () => (await observer.request<{ connections: number }>("system:health")).connections === before,
    );
    await expectStillServing();
  });

  it("a client that half-closes after writing its requests still gets every reply, in order", async () => {
    // e.g. `printf '{"event":"monitor:get_events"}\n' | socat - UNIX-CONNECT:patternd.sock`
    const socket = createConnection({ path: daemon.socketPath, allowHalfOpen: true });
    let received = "";
    let isClosed = false;
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => undefined);
    socket.once("close", () => (isClosed = true));
    const requests = [
      health(),
      ...Array.from({ length: 5 }, (_, i) => ({ event: "monitor:get_events", data: { limit: 1000 }, id: `async-${i}` })),
      { event: "system:health", id: "last" },
    ];
    socket.end(requests.map((r) => JSON.stringify(r) + "\n").join(""));
    const lines = () => received.split("\n").filter((line) => line !== "");
    await waitFor("every reply, or the connection to close", () => isClosed || lines().length >= requests.length, 5_000);
    socket.destroy();
    const replies = lines().map((line) => JSON.parse(line) as Msg);
    expect(replies.map((r) => r.id)).toEqual(requests.map((r) => r.id));
    expect(replies.every((r) => r.ok === true)).toBe(true);
    await expectStillServing();
  });

  it("correlation_id is echoed instead of id, on success and on error", async () => {
    const raw = await daemon.raw();
    const [ok, failed, num] = await raw.exchange(
      { event: "system:health", correlation_id: "c-1" },
      { event: "system:helth", correlation_id: "c-2" },
      { event: "system:hello", data: {}, correlation_id: 77 },
    );
    expect(ok).toMatchObject({ event: "system:health", correlation_id: "c-1", ok: true });
    expect(ok).not.toHaveProperty("id");
    expect(failed).toMatchObject({ correlation_id: "c-2", ok: false });
    expect(failed).not.toHaveProperty("id");
    expect(errorOf(failed).code).toBe("unknown_event");
    expect(num).toMatchObject({ correlation_id: 77, ok: true });
    expect(num).not.toHaveProperty("id");
    await expectStillServing();
  });

  it("replies have exactly the documented keys", async () => {
    const raw = await daemon.raw();
    const [ok, failed] = await raw.exchange(health(), { event: "system:helth", id: "e" });
    expect(Object.keys(ok!).sort()).toEqual(["data", "event", "id", "ok"]);
    expect(Object.keys(failed!).sort()).toEqual(["error", "event", "id", "ok"]);
    const error = errorOf(failed);
    expect(typeof error.message).toBe("string");
    expect(error.message.length).toBeGreaterThan(0);
  });
});

describe("self-description", () => {
  interface Described {
    event: string;
    summary: string;
    parameters: Record<string, { type: string; required: boolean; description?: string }>;
    params: { type?: string; required?: string[]; properties?: Record<string, { type?: string }> };
  }

  it("system:health reports status, version, uptime, pid, connections and events", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    const first = await observer.request<Msg>("system:health");
    expect(first).toMatchObject({ status: "ok", version, pid: daemon.pid });
    expect(typeof first.uptime_s).toBe("number");
    expect(first.uptime_s as number).toBeGreaterThanOrEqual(0);
    expect(first.connections as number).toBeGreaterThanOrEqual(1);
    const second = await observer.request<Msg>("system:health");
    // the first health request is itself a routed event
    expect(second.events as number).toBeGreaterThan(first.events as number);
  });

  it("system:discover returns every event by namespace, with KSI's parameter table and a JSON Schema of its params", async () => {
    const byNamespace = (await observer.request<{ events: Record<string, Described[]> }>("system:discover")).events;
    for (const [namespace, list] of Object.entries(byNamespace)) for (const e of list) expect(e.event.startsWith(`${namespace}:`), e.event).toBe(true);
    const events = Object.values(byNamespace).flat();
    const names = events.map((e) => e.event);
    for (const name of ["system:health", "system:hello", "system:discover", "system:help", "system:shutdown"]) {
      expect(names).toContain(name);
    }
    for (const name of ["monitor:subscribe", "monitor:unsubscribe", "monitor:get_events"]) expect(names).toContain(name);
    const subscribe = events.find((e) => e.event === "monitor:subscribe")!;
    expect(subscribe.summary.length).toBeGreaterThan(0);
    expect(subscribe.params.type).toBe("object");
    expect(subscribe.params.required).toEqual(["patterns"]);
    expect(subscribe.params.properties!.patterns!.type).toBe("array");
    expect(subscribe.parameters.patterns).toMatchObject({ type: "list", required: true });
    expect(subscribe.parameters.since_seq).toMatchObject({ type: "int", required: false });
    for (const e of events) expect(e.params.type, e.event).toBe("object");
    for (const e of events) expect(Object.keys(e.parameters), e.event).toEqual(Object.keys(e.params.properties ?? {}));

    const monitorOnly = await observer.request<{ events: Record<string, Described[]> }>("system:discover", { namespace: "monitor" });
    expect(Object.keys(monitorOnly.events)).toEqual(["monitor"]);
    expect(monitorOnly.events.monitor!.map((e) => e.event).sort()).toEqual(["monitor:get_events", "monitor:subscribe", "monitor:unsubscribe"]);
  });

  it("system:help describes an event with an example that the daemon accepts", async () => {
    const help = await observer.request<{ event: string; summary: string; description: string; params: Described["params"]; example: Msg }>(
      "system:help",
      { event: "monitor:subscribe" },
    );
    expect(help.event).toBe("monitor:subscribe");
    expect(help.params.required).toEqual(["patterns"]);
    expect(help.description.length).toBeGreaterThan(0);
    expect(help.example).toMatchObject({ event: "monitor:subscribe", data: { patterns: expect.any(Array) } });

    // every event's example passes its own schema (system:shutdown would stop the daemon: not sent)
    const { events } = await observer.request<{ events: Record<string, Described[]> }>("system:discover");
    const raw = await daemon.raw();
    for (const { event } of Object.values(events).flat()) {
      const described = await observer.request<{ example: { event: string; data: Msg } }>("system:help", { event });
      expect(described.example.event).toBe(event);
      if (event === "system:shutdown") continue;
      const [reply] = await raw.exchange({ event, data: described.example.data, id: event });
      if (reply!.ok === false) expect(errorOf(reply).code, event).not.toBe("invalid_params");
    }

    const unknown = await observer.send("system:help", { event: "system:helth" });
    expect(errorOf(unknown as unknown as Msg).code).toBe("unknown_event");
  });

  it("system:hello sets the connection's agent_id for later records of that connection only", async () => {
    const agent = `agent-hello-${process.pid}`;
    const raw = await daemon.raw();
    const [hello] = await raw.exchange({ event: "system:hello", data: { agent_id: agent, client: "e2e" }, id: "hi" });
    expect(hello).toMatchObject({ ok: true, data: { server: "patternd", protocol: 1 } });
    expect((hello!.data as { capabilities: unknown }).capabilities).toEqual(expect.any(Array));
    await raw.exchange(
      { event: "system:health", id: "after-hello-1" },
      { event: "system:helth", id: "after-hello-2" },
      { event: "system:health", id: "explicit", agent_id: "someone-else" },
    );
    // another connection without hello is not attributed to the agent
    const other = await daemon.raw();
    await other.exchange({ event: "system:health", id: "other-conn" });

    const { events } = await observer.request<{ events: Msg[] }>("monitor:get_events", { agent_id: agent, limit: 1000 });
    const ids = events.map((e) => e.id);
    expect(ids).toContain("after-hello-1");
    expect(ids).toContain("after-hello-2");
    expect(ids).not.toContain("explicit");
    expect(ids).not.toContain("other-conn");
    for (const record of events) expect(record.agent_id).toBe(agent);

    const all = await observer.request<{ events: Msg[] }>("monitor:get_events", { patterns: ["system:health"], limit: 1000 });
    expect(all.events.find((e) => e.id === "explicit")!.agent_id).toBe("someone-else");
    expect(all.events.find((e) => e.id === "other-conn")!.agent_id).toBeNull();
  });
});
