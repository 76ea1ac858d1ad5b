import { describe, expect, it } from "vitest";
import { decodeCall, decodeEvent, decodeReply, exportable, isOwnMessage } from "./messages.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const all = () => true;

describe("the loop rule", () => {
  it.each([
    ["an event routed here", { ok: true, event: "task:done" }, true],
    ["a failed request", { ok: false, event: "task:done" }, false],
    ["an imported event", { ok: true, event: "task:done", meta: { origin: "d_0000000000000001" } }, false],
    ["a call served for another daemon", { ok: true, event: "task:done", meta: { origin: "d_0000000000000001" } }, false],
    ["a fired schedule", { ok: true, event: "task:done", meta: { schedule_id: "sch_1" } }, true],
  ])("%s is exported: %s", (_what, event, expected) => {
    expect(exportable(event, all)).toBe(expected);
  });

  it("exports only what the globs match", () => {
    expect(exportable({ ok: true, event: "task:done" }, (name) => name.startsWith("job:"))).toBe(false);
  });

  it("drops its own messages only", () => {
    expect(isOwnMessage("d_1", "d_1")).toBe(true);
    expect(isOwnMessage("d_2", "d_1")).toBe(false);
    expect(isOwnMessage(undefined, "d_1")).toBe(false);
  });
});

describe("decoding what arrives", () => {
  it.each([
    ['{"data":{"a":1},"ts":5}', { ok: true, value: { data: { a: 1 }, ts: 5 } }],
    ['{"data":null,"ts":5,"agent_id":"x"}', { ok: true, value: { data: null, ts: 5, agent_id: "x" } }],
    ["not json", { ok: false, problem: "not valid JSON" }],
    ["[1]", { ok: false, problem: "not a JSON object" }],
    ['{"ts":5}', { ok: false, problem: "no data field" }],
    ['{"data":1,"ts":"x"}', { ok: false, problem: "ts is not a number" }],
    ['{"data":1,"ts":1,"agent_id":3}', { ok: false, problem: "agent_id is not a string" }],
  ])("event %s", (text, expected) => {
    expect(decodeEvent(bytes(text), 1_000)).toEqual(expected);
  });

  it("refuses a body over the limit before parsing it", () => {
    expect(decodeEvent(bytes(`{"data":"${"x".repeat(100)}","ts":1}`), 50)).toEqual({ ok: false, problem: "118 bytes, over the limit of 50" });
  });

  it.each([
    ['{"data":{"n":1},"depth":0}', true],
    ['{"data":[],"depth":0}', false],
    ['{"data":{},"depth":-1}', false],
    ['{"data":{},"depth":0.5}', false],
  ])("call %s is read: %s", (text, ok) => {
    expect(decodeCall(bytes(text), 1_000).ok).toBe(ok);
  });

  it.each([
    ['{"ok":true,"data":{"x":1}}', { ok: true, value: { ok: true, data: { x: 1 } } }],
    ['{"ok":true}', { ok: true, value: { ok: true, data: null } }],
    ['{"ok":false,"error":{"code":"not_found","message":"m","details":{"a":1}}}', { ok: true, value: { ok: false, error: { code: "not_found", message: "m", details: { a: 1 } } } }],
    ['{"ok":false,"error":{"code":"x"}}', { ok: false, problem: "neither {ok: true, data} nor {ok: false, error: {code, message}}" }],
  ])("reply %s", (text, expected) => {
    expect(decodeReply(bytes(text), 1_000)).toEqual(expected);
  });
});
