import { describe, expect, it } from "vitest";
import { deleteLine, metaLine, replayJournal, setLine, stateBytes } from "./state-record.js";

const text = (...lines: string[]) => Buffer.from(lines.join(""));
const set = (key: string, version: number, value: unknown) => setLine(key, version, JSON.stringify(value));

/** The replayed state as plain objects, for toEqual. */
function replayed(bytes: Uint8Array) {
  const state = replayJournal(bytes);
  return {
    values: Object.fromEntries(state.values),
    versions: Object.fromEntries(state.versions),
    highest: state.highestDeletedVersion,
    whole: state.wholeBytes,
    torn: state.torn,
  };
}

describe("record lines", () => {
  it.each<[string, string, unknown]>([
    ["a set", set("run_42.status", 2, "done"), { op: "set", key: "run_42.status", version: 2, value: "done" }],
    ["a set of an object with every JSON type", set("cfg", 1, { a: [1, null, true, "é\n"], b: { c: 1.5 } }), { op: "set", key: "cfg", version: 1, value: { a: [1, null, true, "é\n"], b: { c: 1.5 } } }],
    ["a delete", deleteLine("gone", 7), { op: "delete", key: "gone", version: 7 }],
    ["a meta record", metaLine(12), { op: "meta", highest_deleted_version: 12 }],
  ])("%s is one JSON line", (_, line, record) => {
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(line)).toEqual(record);
  });

  it("a key and its value count their bytes (UTF-8)", () => {
    expect(stateBytes("k", JSON.stringify("é"))).toBe(1 + 4);
  });
});

describe("replayJournal", () => {
  it.each<[string, Buffer, { values: Record<string, unknown>; versions: Record<string, number>; highest: number }]>([
    ["an empty journal", text(), { values: {}, versions: {}, highest: 0 }],
    ["the last record of a key wins", text(set("a", 1, 1), set("b", 1, "x"), set("a", 2, { n: 2 })), { values: { a: { n: 2 }, b: "x" }, versions: { a: 2, b: 1 }, highest: 0 }],
    ["a delete removes the key and keeps its version as deleted", text(set("a", 1, 1), set("a", 2, 2), deleteLine("a", 2)), { values: {}, versions: {}, highest: 2 }],
    ["a key set again after a delete", text(set("a", 3, 1), deleteLine("a", 3), set("a", 4, "back")), { values: { a: "back" }, versions: { a: 4 }, highest: 3 }],
    ["a compacted journal: meta, then one set per key", text(metaLine(9), set("a", 4, 1), set("b", 10, 2)), { values: { a: 1, b: 2 }, versions: { a: 4, b: 10 }, highest: 9 }],
    // Compaction copies records appended meanwhile after its snapshot, which may already hold their effect.
    ["a record replayed again after a snapshot that holds it", text(metaLine(0), set("a", 5, "new"), set("a", 4, "old"), set("a", 5, "new"), deleteLine("b", 2)), { values: { a: "new" }, versions: { a: 5 }, highest: 2 }],
    ["a meta record never lowers the highest deleted version", text(deleteLine("x", 8), metaLine(3)), { values: {}, versions: {}, highest: 8 }],
    ["empty lines are no records", text("\n", set("a", 1, 1), "\n"), { values: { a: 1 }, versions: { a: 1 }, highest: 0 }],
  ])("%s", (_, bytes, expected) => {
    expect(replayed(bytes)).toMatchObject({ ...expected, whole: bytes.length, torn: undefined });
  });

  it("sizes: each key's bytes as written, also for a line laid out by hand", () => {
    const state = replayJournal(text(set("a", 1, { x: "é" }), '{ "value": [1, 2], "version": 3, "key": "b", "op": "set" }\n', set("c", 1, 1), deleteLine("c", 1)));
    expect(Object.fromEntries(state.sizes)).toEqual({ a: stateBytes("a", JSON.stringify({ x: "é" })), b: stateBytes("b", "[1,2]") });
  });

  it.each([
    ["half a record", '{"op":"set","key":"a","vers'],
    ["a whole record without its newline", '{"op":"set","key":"a","version":3,"value":1}'],
    ["bytes that are not UTF-8", "\u00ff"],
  ])("a last line without a newline is torn (%s): reported, not replayed, not an error", (_, torn) => {
    const whole = text(set("a", 1, 1), set("a", 2, 2));
    const bytes = Buffer.concat([whole, Buffer.from(torn === "\u00ff" ? [0xff, 0xfe] : Buffer.from(torn))]);
    const state = replayed(bytes);
    expect(state).toMatchObject({ values: { a: 2 }, versions: { a: 2 }, whole: whole.length });
    expect(state.torn).toEqual({ line: 3, offset: whole.length, bytes: bytes.length - whole.length });
  });

  it.each<[string, string, RegExp]>([
    ["not JSON", "{oops\n", /line 2 \(byte \d+\) is not a state record: not JSON/],
    ["a control character", "\u0000\n", /line 2 .*not JSON/],
    ["null", "null\n", /not a record object/],
    ["an unknown op", '{"op":"rename","key":"a","version":1}\n', /op must be set, delete or meta \(got "rename"\)/],
    ["a key no client could set", '{"op":"set","key":"__proto__.x","version":1,"value":1}\n', /the key "__proto__\.x"/],
    ["a bad key", '{"op":"set","key":"a b","version":1,"value":1}\n', /the key "a b"/],
    ["version 0", '{"op":"set","key":"a","version":0,"value":1}\n', /version must be a whole number ≥ 1/],
    ["a text version", '{"op":"delete","key":"a","version":"2"}\n', /version must be a whole number ≥ 1/],
    ["a set without a value", '{"op":"set","key":"a","version":1}\n', /a set needs a value/],
    ["a bad meta record", '{"op":"meta","highest_deleted_version":-1}\n', /highest_deleted_version must be a whole number ≥ 0/],
  ])("a damaged whole line is an error naming it: %s", (_, line, message) => {
    expect(() => replayJournal(text(set("a", 1, 1), line, set("b", 1, 1)))).toThrow(message);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("bytes that are not UTF-8 in a whole line are an error", () => {
    expect(() => replayJournal(Buffer.concat([text(set("a", 1, 1)), Buffer.from([0xff, 0x0a])]))).toThrow(/line 2 \(byte \d+\) is not a state record: not UTF-8 text/);
  });
});
