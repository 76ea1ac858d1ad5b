import { describe, expect, it } from "vitest";
import { readJournalLines, recordProblem, type JournalRecord } from "./journal-record.js";

const ADD = { op: "add", schedule_id: "s1", event: "test:fired", data: {}, fire_at: 2_000, created_at: 1_000 };

describe("recordProblem", () => {
  const cases: { what: string; value: unknown; problem: string | undefined }[] = [
    { what: "an add with every field", value: { ...ADD, key: "k", agent_id: "a", condition: { "==": [1, 1] } }, problem: undefined },
    { what: "a cancel", value: { op: "cancel", schedule_id: "s1" }, problem: undefined },
    { what: "a done", value: { op: "done", schedule_id: "s1" }, problem: undefined },
    { what: "null", value: null, problem: "not a record object: null" },
    { what: "an array", value: [ADD], problem: "not a record object: an array" },
    { what: "a number", value: 7, problem: "not a record object: number" },
    { what: "an unknown op", value: { ...ADD, op: "fire" }, problem: 'op must be add, cancel or done (got "fire")' },
    { what: "no op", value: { schedule_id: "s1" }, problem: "op must be add, cancel or done (got undefined)" },
    { what: "an empty schedule_id", value: { op: "done", schedule_id: "" }, problem: "schedule_id must be a non-empty string" },
    { what: "a numeric schedule_id", value: { ...ADD, schedule_id: 5 }, problem: "schedule_id must be a non-empty string" },
    { what: "no event", value: { ...ADD, event: undefined }, problem: "event must be a non-empty string" },
    { what: "data that is a list", value: { ...ADD, data: [1] }, problem: "data must be an object" },
    { what: "fire_at as text", value: { ...ADD, fire_at: "soon" }, problem: 'fire_at must be a number of epoch milliseconds (got "soon")' },
    { what: "no created_at", value: { ...ADD, created_at: undefined }, problem: "created_at must be a number of epoch milliseconds (got undefined)" },
    { what: "a numeric key", value: { ...ADD, key: 3 }, problem: "key must be a string when present" },
    { what: "an agent_id object", value: { ...ADD, agent_id: {} }, problem: "agent_id must be a string when present" },
  ];
  for (const c of cases) {
    it(c.what, () => expect(recordProblem(c.value)).toBe(c.problem));
  }
});

describe("readJournalLines", () => {
  function read(bytes: Uint8Array) {
    const records: { record: JournalRecord; text: string }[] = [];
    const damaged = readJournalLines(bytes, (record, text) => records.push({ record, text }));
    return { records, damaged };
  }

  it("counts byte offsets, not characters, and 1-based lines including empty ones", () => {
    const first = JSON.stringify({ ...ADD, data: { text: "ünïcödé ☕☕" } });
    const bytes = Buffer.from(`${first}\n\nnope\n`);
    const { records, damaged } = read(bytes);
    expect(records.map((r) => r.text)).toEqual([first]);
    expect(damaged).toEqual([{ line: 3, offset: Buffer.byteLength(first) + 2, excerpt: "nope", problem: expect.stringMatching(/^not JSON/) }]);
    expect(bytes.subarray(damaged[0]!.offset, damaged[0]!.offset + 4).toString()).toBe("nope");
  });

  it("an empty file, and a file of empty lines, hold nothing and no damage", () => {
    expect(read(Buffer.alloc(0))).toEqual({ records: [], damaged: [] });
    expect(read(Buffer.from("\n\n"))).toEqual({ records: [], damaged: [] });
  });

  it("cuts a long excerpt at 80 characters, not in the middle of one", () => {
    const line = "☕".repeat(100);
    const { damaged } = read(Buffer.from(line));
    expect(damaged[0]!.excerpt).toBe("☕".repeat(80) + "…");
    expect(damaged[0]!.problem).toMatch(/^the last line has no end \(torn by a crash\?\): not JSON/);
  });
});
