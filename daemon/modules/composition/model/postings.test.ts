import { describe, expect, it } from "vitest";
import { PostingList } from "./postings.js";

const contents = (list: PostingList) => {
  const out: [number, number][] = [];
  list.forEach((value, id) => out.push([id, value]));
  return out.sort((a, b) => a[0] - b[0]);
};

describe("PostingList", () => {
  it("adds, reads, deletes and grows like a map of id to value", () => {
    const list = new PostingList();
    for (let id = 0; id < 100; id++) list.add(id, (id * 7) >>> 0);
    list.add(100, 0xffffffff);
    expect(list.size).toBe(101);
    expect(list.get(42)).toBe(294);
    expect(list.get(100)).toBe(0xffffffff);
    expect(list.get(101)).toBeUndefined();
    list.delete(42);
    list.delete(42);
    list.delete(1_000);
    expect(list.size).toBe(100);
    expect(list.get(42)).toBeUndefined();
    expect(list.get(100)).toBe(0xffffffff);
    for (let id = 0; id < 95; id++) list.delete(id);
    expect(contents(list)).toEqual([
      [95, 665],
      [96, 672],
      [97, 679],
      [98, 686],
      [99, 693],
      [100, 0xffffffff],
    ]);
    list.add(3, 21);
    expect(list.get(3)).toBe(21);
    expect(list.size).toBe(7);
  });
});
