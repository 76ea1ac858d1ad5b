import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.js";
import { seededRandom } from "../../../bench/random.js";

function drain<T>(heap: MinHeap<T>): { priority: number; value: T }[] {
  const out: { priority: number; value: T }[] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) out.push({ priority: top.priority, value: top.value });
  return out;
}

describe("MinHeap", () => {
  it.each([
    // [seed, count, distinct priorities]: few distinct priorities force many ties.
    [1, 1, 10],
    [2, 2, 1],
    [3, 50, 5],
    [4, 1_000, 1_000_000],
    [5, 1_000, 3],
    [6, 5_000, 100],
  ])("seed %i: %i pushes over %i priorities pop in sorted order, ties in insertion order", (seed, count, range) => {
    const random = seededRandom(seed);
    const heap = new MinHeap<number>();
    const reference: { priority: number; value: number }[] = [];
    for (let i = 0; i < count; i++) {
      const priority = Math.floor(random() * range) - range / 2;
      heap.push(priority, i);
      reference.push({ priority, value: i });
    }
    expect(heap.size).toBe(count);
    // Array.prototype.sort is stable: equal priorities keep insertion (value) order.
    reference.sort((a, b) => a.priority - b.priority);
    expect(drain(heap)).toEqual(reference);
    expect(heap.size).toBe(0);
  });

  it.each([7, 8, 9])("seed %i: interleaved pushes and pops match a sorted reference", (seed) => {
    const random = seededRandom(seed);
    const heap = new MinHeap<number>();
    const reference: { priority: number; value: number }[] = [];
    let next = 0;
    for (let step = 0; step < 3_000; step++) {
      if (random() < 0.6 || reference.length === 0) {
        const priority = Math.floor(random() * 20);
        heap.push(priority, next);
        // Insert after every entry of equal or lower priority: insertion order among ties.
        let at = reference.length;
        while (at > 0 && reference[at - 1]!.priority > priority) at--;
        reference.splice(at, 0, { priority, value: next++ });
      } else {
        expect(heap.peek()).toMatchObject(reference[0]!);
        expect(heap.pop()).toMatchObject(reference.shift()!);
      }
      expect(heap.size).toBe(reference.length);
    }
    expect(drain(heap)).toEqual(reference);
  });

  it("keeps insertion order among equal priorities even after other entries come and go", () => {
    const heap = new MinHeap<string>();
    heap.push(5, "a");
    heap.push(1, "x");
    heap.push(5, "b");
    expect(heap.pop()?.value).toBe("x");
    heap.push(5, "c");
    heap.push(0, "y");
    heap.push(5, "d");
    expect(drain(heap).map((e) => e.value)).toEqual(["y", "a", "b", "c", "d"]);
  });

  it("pop and peek on an empty heap return undefined, also after draining", () => {
    const heap = new MinHeap<string>();
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
    expect(heap.size).toBe(0);
    heap.push(1, "only");
    expect(heap.peek()).toMatchObject({ priority: 1, value: "only" });
    expect(heap.pop()).toMatchObject({ priority: 1, value: "only" });
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
    expect(heap.size).toBe(0);
  });
});
