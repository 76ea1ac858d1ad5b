import { describe, expect, it } from "vitest";
import { compileGlobs } from "../../core/glob.js";
import { BLOCK_BYTES, blockMayMatch, FileIndex, keyMatches, memoize, recordKey, type Block, type KeyQuery, type RecordKey } from "./event-index.js";

const T0 = Date.UTC(2026, 2, 10, 12);

/** A line exactly as EventLog writes it. */
function line(ts: number, event: string, agentId: string | null, id: string | number | null = null, data: unknown = {}): string {
  return `{"ts":"${new Date(ts).toISOString()}","seq":1,"event":${JSON.stringify(event)},"id":${JSON.stringify(id)},"agent_id":${JSON.stringify(agentId)},"ok":true,"ms":0.1,"data":${JSON.stringify(data)}}`;
}

describe("recordKey", () => {
  it.each<[string, string, RecordKey | null]>([
    ["a line as written", line(T0, "a:one", "orch_1", "r1"), { ts: T0, event: "a:one", agentId: "orch_1" }],
    ["no agent, numeric id", line(T0, "a:one", null, -12.5), { ts: T0, event: "a:one", agentId: null }],
    ["a string id that looks like the next field", line(T0, "a:one", "real", '","agent_id":"fake'), { ts: T0, event: "a:one", agentId: "real" }],
    ["escapes in the name and agent", line(T0, 'odd:"q"\\', 'ag\u00e9"nt'), { ts: T0, event: 'odd:"q"\\', agentId: 'ag\u00e9"nt' }],
    [
      "schedule meta after agent_id",
      `{"ts":"${new Date(T0).toISOString()}","seq":3,"event":"e:x","id":null,"agent_id":null,"schedule_id":"sch_1","ok":true,"ms":0,"data":{}}`,
      { ts: T0, event: "e:x", agentId: null },
    ],
    ["keys in another order (a hand edit): read by JSON.parse", `{"event":"h:x","ts":"${new Date(T0).toISOString()}","agent_id":"p"}`, { ts: T0, event: "h:x", agentId: "p" }],
    ["a torn line", `{"ts":"${new Date(T0).toISOString()}","seq":1,"ev`, null],
    ["not JSON", "hello", null],
    ["JSON but not a record", "[1,2]", null],
    ["no usable time", `{"ts":"yesterday","seq":1,"event":"a","id":null,"agent_id":null}`, null],
  ])("%s", (_name, text, expected) => {
    expect(recordKey(text)).toEqual(expected);
  });
});

describe("keyMatches", () => {
  const key: RecordKey = { ts: T0, event: "composition:fork", agentId: "orch_1" };
  it.each<[string, Partial<KeyQuery>, boolean]>([
    ["no filter", {}, true],
    ["glob", { matchesName: compileGlobs(["composition:*"]) }, true],
    ["other glob", { matchesName: compileGlobs(["state:*"]) }, false],
    ["agent", { agentId: "orch_1" }, true],
    ["other agent", { agentId: "orch_2" }, false],
    ["since is inclusive", { since: T0 }, true],
    ["since after", { since: T0 + 1 }, false],
    ["until is inclusive", { until: T0 }, true],
    ["until before", { until: T0 - 1 }, false],
  ])("%s", (_name, query, expected) => {
    expect(keyMatches(key, { matchesName: () => true, ...query })).toBe(expected);
  });
});

/** An index of `lines` laid end to end, each with its newline. */
function indexOf(lines: string[]): FileIndex {
  const index = new FileIndex();
  let offset = 0;
  for (const text of lines) {
    const end = offset + Buffer.byteLength(text) + 1;
    index.add(recordKey(text), offset, end);
    offset = end;
  }
  return index;
}

describe("FileIndex", () => {
  const pad = "x".repeat(1000);
  /** 200 lines of about 1.1 KB: several blocks. Each block's own names, times a minute apart. */
  const lines = Array.from({ length: 200 }, (_, i) => line(T0 + i * 60_000, i === 150 ? "rare:event" : `common:${i % 3}`, `agent_${i % 4}`, i, { pad }));
  const index = indexOf(lines);

  it("cuts whole lines into blocks of about BLOCK_BYTES that tile the file", () => {
    expect(index.blocks.length).toBeGreaterThan(2);
    expect(index.blocks[0]!.start).toBe(0);
    for (const [i, block] of index.blocks.entries()) {
      if (i > 0) expect(block.start).toBe(index.blocks[i - 1]!.end);
      if (i < index.blocks.length - 1) expect(block.end - block.start).toBeGreaterThanOrEqual(BLOCK_BYTES);
      expect(block.end - block.start).toBeLessThan(BLOCK_BYTES + 1200);
    }
    expect(index.covered).toBe(index.blocks.at(-1)!.end);
    expect(index.covered).toBe(lines.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0));
  });

  it("summarises names, agents and the time range of each block", () => {
    const [first] = index.blocks;
    const count = lines.findIndex((_, i) => lines.slice(0, i + 1).reduce((sum, text) => sum + text.length + 1, 0) >= first!.end);
    expect(first!.minTs).toBe(T0);
    expect(first!.maxTs).toBe(T0 + count * 60_000);
    expect([...first!.names].sort()).toEqual(["common:0", "common:1", "common:2"]);
    expect([...first!.agents!].sort()).toEqual(["agent_0", "agent_1", "agent_2", "agent_3"]);
  });

  it.each<[string, KeyQuery, (blocks: Block[]) => boolean]>([
    ["a name in no block: none, without looking at blocks", { matchesName: compileGlobs(["nothing:*"]) }, (b) => b.length === 0],
    ["a rare name: only its block", { matchesName: compileGlobs(["rare:*"]) }, (b) => b.length === 1 && b[0]!.names.has("rare:event")],
    ["everything: every block, newest first", { matchesName: () => true }, (b) => b.length === index.blocks.length && b[0] === index.blocks.at(-1)],
    ["an agent in no block", { matchesName: () => true, agentId: "agent_9" }, (b) => b.length === 0],
    ["since after the last record", { matchesName: () => true, since: T0 + 200 * 60_000 }, (b) => b.length === 0],
    ["until before the first", { matchesName: () => true, until: T0 - 1 }, (b) => b.length === 0],
    ["since within: the blocks that reach it", { matchesName: () => true, since: T0 + 199 * 60_000 }, (b) => b.length === 1 && b[0] === index.blocks.at(-1)],
  ])("candidates: %s", (_name, query, check) => {
    expect(check(index.candidates(query))).toBe(true);
  });

  it("stops listing agents past 32 in a block: any agent may then be there", () => {
    const many = indexOf(Array.from({ length: 40 }, (_, i) => line(T0, "a:b", `agent_${i}`)));
    const [block] = many.blocks;
    expect(block!.agents).toBeNull();
    expect(blockMayMatch(block!, { matchesName: () => true, agentId: "someone_else" })).toBe(true);
  });

  it("a block of lines that are not records matches nothing", () => {
    const junk = indexOf(["garbage", "{}", '{"ts":"x"']);
    expect(junk.blocks).toHaveLength(1);
    expect(junk.candidates({ matchesName: () => true })).toEqual([]);
  });

  it("extends the last block as lines are added later", () => {
    const growing = indexOf([line(T0, "a:one", null)]);
    const end = growing.covered;
    growing.add(recordKey(line(T0 + 5, "a:two", null)), end, end + 100);
    expect(growing.blocks).toHaveLength(1);
    expect(growing.blocks[0]).toMatchObject({ start: 0, end: end + 100, maxTs: T0 + 5 });
    expect([...growing.names.keys()]).toEqual(["a:one", "a:two"]);
  });
});

describe("memoize", () => {
  it("asks once per distinct name", () => {
    const asked: string[] = [];
    const matches = memoize((name) => {
      asked.push(name);
      return name === "a";
    });
    expect(["a", "b", "a", "b", "a"].map(matches)).toEqual([true, false, true, false, true]);
    expect(asked).toEqual(["a", "b"]);
  });
});
