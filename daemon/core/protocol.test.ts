import { describe, expect, it } from "vitest";
import type { ErrorCode } from "./errors.js";
import { encode, encodeSuccess, errorReply, exceedsDepth, parseRequest, successReply, type IdKey, type RequestId } from "./protocol.js";

const DEPTH = 8;

describe("parseRequest rejects bad input with the SPEC §2 code", () => {
  it.each<[string, string, ErrorCode, { event: string | null; id: RequestId | null; idKey?: IdKey }]>([
    ["not JSON", "hello", "invalid_json", { event: null, id: null }],
    ["truncated JSON", '{"event":"system:health"', "invalid_json", { event: null, id: null }],
    ["trailing garbage", '{"event":"a:b"} x', "invalid_json", { event: null, id: null }],
    ["a JSON array", '[{"event":"a:b"}]', "invalid_request", { event: null, id: null }],
    ["a JSON string", '"system:health"', "invalid_request", { event: null, id: null }],
    ["a JSON number", "42", "invalid_request", { event: null, id: null }],
    ["JSON null", "null", "invalid_request", { event: null, id: null }],
    ["event missing", '{"data":{},"id":"r1"}', "invalid_request", { event: null, id: "r1" }],
    ["event not a string", '{"event":7,"id":2}', "invalid_request", { event: null, id: 2 }],
    ["event empty", '{"event":"","id":"r"}', "invalid_request", { event: null, id: "r" }],
    ["data an array", '{"event":"a:b","data":[1],"id":"r"}', "invalid_request", { event: "a:b", id: "r" }],
    ["data a string", '{"event":"a:b","data":"x","id":"r"}', "invalid_request", { event: "a:b", id: "r" }],
    ["data null", '{"event":"a:b","data":null,"id":"r"}', "invalid_request", { event: "a:b", id: "r" }],
    ["id an object", '{"event":"a:b","id":{"x":1}}', "invalid_request", { event: "a:b", id: null }],
    ["id a boolean", '{"event":"a:b","id":true}', "invalid_request", { event: "a:b", id: null }],
    [
      "correlation_id an array",
      '{"event":"a:b","correlation_id":[1]}',
      "invalid_request",
      { event: "a:b", id: null, idKey: "correlation_id" },
    ],
    ["agent_id a number", '{"event":"a:b","agent_id":5,"id":"r"}', "invalid_request", { event: "a:b", id: "r" }],
    ["agent_id an object", '{"event":"a:b","agent_id":{},"id":"r"}', "invalid_request", { event: "a:b", id: "r" }],
    [
      "nesting deeper than the limit",
      `{"event":"a:b","data":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}}`,
      "invalid_request",
      { event: null, id: null },
    ],
  ])("%s → %s", (_name, line, code, echo) => {
    const parsed = parseRequest(line, DEPTH);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe(code);
    expect(parsed.error.message.length).toBeGreaterThan(0);
    expect(parsed.event).toBe(echo.event);
    expect(parsed.id).toBe(echo.id);
    expect(parsed.idKey).toBe(echo.idKey ?? "id");
  });

  it("gives the position of a JSON syntax error", () => {
    const parsed = parseRequest('{"event":"a:b",}', DEPTH);
    expect(parsed).toMatchObject({ ok: false, error: { code: "invalid_json", details: { position: 15 } } });
  });

  it("names what it got instead of an object", () => {
    const parsed = parseRequest("[1]", DEPTH);
    expect(parsed).toMatchObject({ ok: false, error: { message: expect.stringContaining("an array") as string } });
  });

  it("reports the depth limit in details", () => {
    const parsed = parseRequest("[".repeat(DEPTH + 1) + "]".repeat(DEPTH + 1), DEPTH);
    expect(parsed).toMatchObject({ ok: false, error: { code: "invalid_request", details: { max_depth: DEPTH } } });
  });
});

describe("parseRequest accepts valid requests", () => {
  it.each<[string, string, { data: Record<string, unknown>; id: RequestId | null; idKey: IdKey; agentId: string | undefined }]>([
    ["data defaults to {}", '{"event":"a:b"}', { data: {}, id: null, idKey: "id", agentId: undefined }],
    ["string id", '{"event":"a:b","id":"r1","data":{"x":1}}', { data: { x: 1 }, id: "r1", idKey: "id", agentId: undefined }],
    ["number id", '{"event":"a:b","id":0}', { data: {}, id: 0, idKey: "id", agentId: undefined }],
    ["null id", '{"event":"a:b","id":null}', { data: {}, id: null, idKey: "id", agentId: undefined }],
    ["correlation_id", '{"event":"a:b","correlation_id":"c9"}', { data: {}, id: "c9", idKey: "correlation_id", agentId: undefined }],
    ["id wins over correlation_id", '{"event":"a:b","id":1,"correlation_id":2}', { data: {}, id: 1, idKey: "id", agentId: undefined }],
    ["agent_id", '{"event":"a:b","agent_id":"orch_7f3e"}', { data: {}, id: null, idKey: "id", agentId: "orch_7f3e" }],
    ["null agent_id", '{"event":"a:b","agent_id":null}', { data: {}, id: null, idKey: "id", agentId: undefined }],
    [
      "nesting exactly at the limit",
      `{"event":"a:b","data":{"x":${"[".repeat(DEPTH - 2)}${"]".repeat(DEPTH - 2)}}}`,
      { data: { x: JSON.parse("[".repeat(DEPTH - 2) + "]".repeat(DEPTH - 2)) as unknown }, id: null, idKey: "id", agentId: undefined },
    ],
  ])("%s", (_name, line, expected) => {
    const parsed = parseRequest(line, DEPTH);
    expect(parsed).toEqual({ ok: true, request: { event: "a:b", ...expected } });
  });
});

describe("replies echo the id key the request used", () => {
  it.each<[string, IdKey, RequestId | null]>([
    ['{"event":"a:b","id":"r1"}', "id", "r1"],
    ['{"event":"a:b","correlation_id":17}', "correlation_id", 17],
    ['{"event":"a:b"}', "id", null],
  ])("%s", (line, key, value) => {
    const parsed = parseRequest(line, DEPTH);
    if (!parsed.ok) throw new Error("expected a valid request");
    const { idKey, id } = parsed.request;
    const ok = JSON.parse(encode(successReply("a:b", idKey, id, { x: 1 }))) as Record<string, unknown>;
    const err = JSON.parse(encode(errorReply("a:b", idKey, id, { code: "not_found", message: "m" }))) as Record<string, unknown>;
    const other = key === "id" ? "correlation_id" : "id";
    for (const reply of [ok, err]) {
      expect(reply[key]).toBe(value);
      expect(other in reply).toBe(false);
    }
    expect(ok).toMatchObject({ event: "a:b", ok: true, data: { x: 1 } });
    expect(err).toMatchObject({ event: "a:b", ok: false, error: { code: "not_found", message: "m" } });
  });

  it.each<[string, IdKey, RequestId | null, unknown]>([
    ["an object", "id", 1, { status: "ok", nested: { list: [1, "two", null], at: new Date(0) } }],
    ["a string id and quotes", "id", 'r"1', 'say "hi"\n'],
    ["correlation_id", "correlation_id", 17, [1, 2]],
    ["no id", "id", null, null],
    ["undefined data (left out)", "id", 3, undefined],
    ["an event name to escape", "id", 4, { "ключ": "значение" }],
  ])("encodeSuccess writes what encode(successReply(...)) writes: %s", (_, key, id, data) => {
    const event = _ === "an event name to escape" ? 'odd:"name"' : "a:b";
    expect(encodeSuccess(event, key, id, data)).toBe(encode(successReply(event, key, id, data)));
  });

  it("encodeSuccess throws where stringify does", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => encodeSuccess("a:b", "id", 1, cycle)).toThrow();
    expect(() => encodeSuccess("a:b", "id", 1, { n: 1n })).toThrow();
  });

  it("encodes one line ending in a newline", () => {
    const text = encode(successReply("a:b", "id", 1, { s: "multi\nline" }));
    expect(text.endsWith("\n")).toBe(true);
    expect(text.indexOf("\n")).toBe(text.length - 1);
  });
});

describe("exceedsDepth", () => {
  it.each<[string, string, number, boolean]>([
    ["flat object", '{"a":1}', 1, false],
    ["at the limit", "[[[]]]", 3, false],
    ["one over the limit", "[[[[]]]]", 3, true],
    ["mixed brackets", '{"a":[{"b":[1]}]}', 3, true],
    ["siblings do not add up", "[[],[],[],[]]", 2, false],
    ["brackets inside a string", '{"s":"[[[[[[[[[["}', 2, false],
    ["braces inside a string", '["{{{{{{{{"]', 1, false],
    ["escaped quote keeps the string open", '{"s":"\\"[[[[[[[["}', 2, false],
    ["escaped backslash closes the string", '{"s":"\\\\","t":[[[[[]]]]]}', 3, true],
    ["brackets after a string with escapes", '["a\\"b",[[[[1]]]]]', 3, true],
    ["closing brackets inside a string do not lower depth", '[[["]]]]]]]",[[1]]]]]', 4, true],
    ["short text cannot exceed", "[[", 2, false],
  ])("%s", (_name, text, limit, expected) => {
    expect(exceedsDepth(text, limit)).toBe(expected);
  });
});

describe("parseRequest refuses __proto__ keys in data instead of losing them", () => {
  it.each([
    ['{"event":"x:y","id":1,"data":{"__proto__":{"polluted":true}}}', "__proto__"],
    ['{"event":"x:y","id":1,"data":{"a":[{"b":{"__proto__":1}}]}}', "a.0.b.__proto__"],
    ['{"event":"x:y","id":1,"data":{"\\u005f_proto__":1}}', "__proto__"],
  ])("%s → invalid_params at %s", (line, path) => {
    const parsed = parseRequest(line, 128);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe("invalid_params");
    expect(parsed.id).toBe(1);
    expect(parsed.error.details).toEqual({ issues: [{ path, message: 'keys named "__proto__" are not accepted' }] });
  });

  it("accepts the word as a value, and other escaped keys", () => {
    expect(parseRequest('{"event":"x:y","data":{"note":"__proto__","\\u0061":1}}', 128).ok).toBe(true);
  });
});
