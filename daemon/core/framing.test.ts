import { describe, expect, it } from "vitest";
import { LineSplitter, type FrameResult } from "./framing.js";

/** Feeds every chunk in order and returns all frames produced. */
function feed(splitter: LineSplitter, chunks: readonly (string | Buffer)[]): FrameResult[] {
  return chunks.flatMap((chunk) => splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
}

const lines = (...texts: string[]): FrameResult[] => texts.map((line) => ({ kind: "line", line }));

describe("LineSplitter", () => {
  it.each<[string, (string | Buffer)[], FrameResult[]]>([
    ["one line in one chunk", ['{"a":1}\n'], lines('{"a":1}')],
    ["a line split across chunks", ['{"ev', 'ent":', '"x"}\n'], lines('{"event":"x"}')],
    ["many lines in one chunk", ["a\nb\nc\n"], lines("a", "b", "c")],
    ["a chunk ending mid-line", ["a\nb", "c\n"], lines("a", "bc")],
    ["the newline alone in the next chunk", ["abc", "\n"], lines("abc")],
    ["an unfinished line is held back", ["a\nbc"], lines("a")],
    ["CRLF", ["a\r\nb\r", "\n"], lines("a", "b")],
    ["a lone CR inside a line is kept", ["a\rb\n"], lines("a\rb")],
    ["empty lines", ["\n\na\n\n"], lines("", "", "a", "")],
    ["empty chunks", ["", "a", "", "\n", ""], lines("a")],
  ])("%s", (_name, chunks, expected) => {
    expect(feed(new LineSplitter(1024), chunks)).toEqual(expected);
  });

  it("decodes a multi-byte character split across chunks", () => {
    const bytes = Buffer.from('{"name":"héllo 🎉"}\n');
    const emoji = bytes.indexOf(Buffer.from("🎉"));
    const e = bytes.indexOf(Buffer.from("é"));
    // Split inside both the 2-byte é and the 4-byte emoji.
    const chunks = [bytes.subarray(0, e + 1), bytes.subarray(e + 1, emoji + 2), bytes.subarray(emoji + 2)];
    expect(feed(new LineSplitter(1024), chunks)).toEqual(lines('{"name":"héllo 🎉"}'));
  });

  it("decodes a line fed one byte at a time", () => {
    const splitter = new LineSplitter(1024);
    const bytes = Buffer.from("ünïcødé ✓\nnext\n");
    const frames: FrameResult[] = [];
    for (let i = 0; i < bytes.length; i++) frames.push(...splitter.push(bytes.subarray(i, i + 1)));
    expect(frames).toEqual(lines("ünïcødé ✓", "next"));
  });

  it("does not keep a reference to the caller's chunk", () => {
    const splitter = new LineSplitter(1024);
    const chunk = Buffer.from("abc");
    splitter.push(chunk);
    chunk.fill(0x7a); // the caller reuses its buffer
    expect(splitter.push(Buffer.from("\n"))).toEqual(lines("abc"));
  });

  it("counts buffered bytes of the unfinished line and resets after it completes", () => {
    const splitter = new LineSplitter(1024);
    splitter.push(Buffer.from("x\né"));
    expect(splitter.buffered).toBe(2);
    splitter.push(Buffer.from("\n"));
    expect(splitter.buffered).toBe(0);
  });

  describe("line limit", () => {
    const limit = 8;

    it.each<[string, (string | Buffer)[], FrameResult[]]>([
      ["exactly the limit in one chunk", ["12345678\n"], lines("12345678")],
      ["exactly the limit across chunks", ["1234", "5678", "\n"], lines("12345678")],
      ["the limit counts bytes, not characters", ["éééé\n"], lines("éééé")],
      ["limit + 1 in one chunk", ["123456789\n"], [{ kind: "overflow", limit }]],
      ["limit + 1 across chunks, before its newline", ["12345", "6789"], [{ kind: "overflow", limit }]],
      ["limit + 1 bytes of multi-byte text", ["éééé1\n"], [{ kind: "overflow", limit }]],
      ["lines before the long one are delivered", ["ok\n123456789\n"], [...lines("ok"), { kind: "overflow", limit }]],
    ])("%s", (_name, chunks, expected) => {
      expect(feed(new LineSplitter(limit), chunks)).toEqual(expected);
    });

    it("reports the overflow once and buffers nothing after it", () => {
      const splitter = new LineSplitter(limit);
      expect(splitter.push(Buffer.from("1234567"))).toEqual([]);
      expect(splitter.buffered).toBe(7);
      expect(splitter.push(Buffer.from("89abcdef"))).toEqual([{ kind: "overflow", limit }]);
      expect(splitter.buffered).toBe(0);
      // The rest of the long line, and anything after it, is dropped.
      expect(splitter.push(Buffer.alloc(64 * 1024, 0x61))).toEqual([]);
      expect(splitter.push(Buffer.from('\n{"event":"x"}\n'))).toEqual([]);
      expect(splitter.buffered).toBe(0);
    });
  });
});
