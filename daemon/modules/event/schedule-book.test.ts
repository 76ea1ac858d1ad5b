import { describe, expect, it } from "vitest";
import type { MinHeap } from "./min-heap.js";
import { ScheduleBook, type Schedule } from "./schedule-book.js";
import { seededRandom } from "../../../bench/random.js";

function schedule(id: string, fireAt: number, extra: Partial<Schedule> = {}): Schedule {
  return { schedule_id: id, event: "test:fired", data: { id }, fire_at: fireAt, created_at: 0, ...extra };
}

const ids = (schedules: readonly Schedule[]) => schedules.map((s) => s.schedule_id);

/** Heap entries, live and dead: what the lazy deletion keeps in memory. */
function heapEntries(book: ScheduleBook): number {
  return (book as unknown as { heap: MinHeap<Schedule> }).heap.size;
}

describe("ScheduleBook", () => {
  it("takeDue returns what is due at now (inclusive), earliest first, ties in insertion order", () => {
    const book = new ScheduleBook();
    book.add(schedule("c", 300));
    book.add(schedule("a", 100));
    book.add(schedule("b1", 200));
    book.add(schedule("d", 400));
    book.add(schedule("b2", 200));
    expect(book.size).toBe(5);
    expect(ids(book.takeDue(99))).toEqual([]);
    expect(ids(book.takeDue(200))).toEqual(["a", "b1", "b2"]);
    expect(book.size).toBe(2);
    expect(book.get("a")).toBeUndefined();
    expect(ids(book.takeDue(200))).toEqual([]);
    expect(ids(book.takeDue(1_000))).toEqual(["c", "d"]);
    expect(book.size).toBe(0);
    expect(book.nextFireAt()).toBeUndefined();
  });

  it.each([
    // limit, what each takeDue(200, limit) returns until nothing due is left
    [1, [["a"], ["b1"], ["b2"], []]],
    [2, [["a", "b1"], ["b2"], []]],
    [3, [["a", "b1", "b2"], []]],
    [10, [["a", "b1", "b2"], []]],
  ])("takeDue with limit %i hands out what is due in slices, in order, each once", (limit, slices) => {
    const book = new ScheduleBook();
    book.add(schedule("c", 300));
    book.add(schedule("b1", 200));
    book.add(schedule("a", 100));
    book.add(schedule("b2", 200));
    for (const slice of slices) expect(ids(book.takeDue(200, limit))).toEqual(slice);
    expect(ids(book.list())).toEqual(["c"]);
    expect(book.takeDue(200, 0)).toEqual([]);
  });

  it.each([
    ["a later time", 100, 200],
    ["an earlier time", 200, 100],
    ["the same time", 150, 150],
  ])("replacing a key with %s returns the replaced one, which never fires", (_label, oldAt, newAt) => {
    const book = new ScheduleBook();
    const old = schedule("old", oldAt, { key: "k" });
    expect(book.add(old)).toBeUndefined();
    book.add(schedule("other", 175));
    expect(book.add(schedule("new", newAt, { key: "k" }))).toBe(old);
    expect(book.size).toBe(2);
    expect(book.get("old")).toBeUndefined();
    expect(book.idForKey("k")).toBe("new");
    expect(book.nextFireAt()).toBe(Math.min(newAt, 175));
    const fired = [...book.takeDue(Math.max(oldAt, newAt) - 1), ...book.takeDue(10_000)];
    expect(ids(fired).sort()).toEqual(["new", "other"]);
  });

  it("remove returns the schedule once, frees its key and keeps a newer holder of that key", () => {
    const book = new ScheduleBook();
    book.add(schedule("a", 100, { key: "k" }));
    expect(book.remove("a")?.schedule_id).toBe("a");
    expect(book.remove("a")).toBeUndefined();
    expect(book.idForKey("k")).toBeUndefined();
    expect(book.remove("never-added")).toBeUndefined();

    book.add(schedule("b", 100, { key: "j" }));
    book.add(schedule("c", 200, { key: "j" }));
    // "b" was replaced: removing it again must not unmap "c".
    expect(book.remove("b")).toBeUndefined();
    expect(book.idForKey("j")).toBe("c");
    expect(ids(book.takeDue(1_000))).toEqual(["c"]);
  });

  it("cancelled schedules never surface, and nextFireAt skips them", () => {
    const book = new ScheduleBook();
    for (let i = 0; i < 20; i++) book.add(schedule(`s${i}`, 100 + i * 10));
    for (let i = 0; i < 20; i += 2) book.remove(`s${i}`);
    expect(book.nextFireAt()).toBe(110);
    book.remove("s1");
    expect(book.nextFireAt()).toBe(130);
    expect(ids(book.takeDue(10_000))).toEqual(["s3", "s5", "s7", "s9", "s11", "s13", "s15", "s17", "s19"]);
    expect(book.nextFireAt()).toBeUndefined();
  });

  it("nextFireAt is undefined when empty and when everything was removed", () => {
    const book = new ScheduleBook();
    expect(book.nextFireAt()).toBeUndefined();
    book.add(schedule("a", 5));
    book.add(schedule("b", 6));
    book.remove("b");
    book.remove("a");
    expect(book.nextFireAt()).toBeUndefined();
    expect(book.takeDue(Infinity)).toEqual([]);
  });

  it("100 000 replacements of one key keep the heap small and stay correct", () => {
    const book = new ScheduleBook();
    const random = seededRandom(42);
    book.add(schedule("early", 500));
    const farFuture = 4_000_000_000_000;
    let last = 0;
    let mostEntries = 0;
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) {
      last = farFuture + Math.floor(random() * 1_000_000_000);
      book.add(schedule(`k${i}`, last, { key: "k" }));
      mostEntries = Math.max(mostEntries, heapEntries(book));
    }
    expect(mostEntries).toBeLessThanOrEqual(1024 + 3);
    expect(book.size).toBe(2);
    expect(book.nextFireAt()).toBe(500);
    expect(ids(book.takeDue(600))).toEqual(["early"]);
    expect(book.nextFireAt()).toBe(last);
    expect(ids(book.takeDue(farFuture - 1))).toEqual([]);
    expect(ids(book.takeDue(Infinity))).toEqual(["k99999"]);
    expect(book.size).toBe(0);
    expect(heapEntries(book)).toBe(0);
    // Generous: an O(n) rebuild per replacement, or a linear scan, would take far longer.
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("removing most schedules rebuilds the heap without losing the live ones", () => {
    const book = new ScheduleBook();
    for (let i = 0; i < 3_000; i++) book.add(schedule(`s${i}`, 3_000 - i));
    for (let i = 0; i < 3_000; i++) if (i % 3 !== 0) book.remove(`s${i}`);
    expect(book.size).toBe(1_000);
    expect(heapEntries(book)).toBeLessThan(3_000);
    const due = book.takeDue(Infinity);
    expect(due).toHaveLength(1_000);
    // Fire times 3000 - i for i = 2997, 2994, … 0: ascending.
    expect(due.map((s) => s.fire_at)).toEqual(Array.from({ length: 1_000 }, (_, n) => 3 + 3 * n));
  });

  it.each([11, 12, 13])("seed %i: random adds, replacements, removals and takeDue match a reference model", (seed) => {
    const random = seededRandom(seed);
    const book = new ScheduleBook();
    // Reference: live schedules in insertion order.
    let model: Schedule[] = [];
    let now = 0;
    let next = 0;
    for (let step = 0; step < 4_000; step++) {
      const r = random();
      if (r < 0.5) {
        const key = random() < 0.5 ? `k${Math.floor(random() * 10)}` : undefined;
        const s = schedule(`s${next++}`, now + Math.floor(random() * 500), key === undefined ? {} : { key });
        const previous = key === undefined ? undefined : model.find((m) => m.key === key);
        expect(book.add(s)).toBe(previous);
        model = model.filter((m) => m !== previous);
        model.push(s);
      } else if (r < 0.75 && model.length > 0) {
        const victim = model[Math.floor(random() * model.length)]!;
        expect(book.remove(victim.schedule_id)).toBe(victim);
        model = model.filter((m) => m !== victim);
      } else {
        now += Math.floor(random() * 50);
        const expected = model.filter((m) => m.fire_at <= now).sort((a, b) => a.fire_at - b.fire_at);
        expect(ids(book.takeDue(now))).toEqual(ids(expected));
        model = model.filter((m) => m.fire_at > now);
      }
      expect(book.size).toBe(model.length);
      expect(book.nextFireAt()).toBe(model.length === 0 ? undefined : Math.min(...model.map((m) => m.fire_at)));
    }
  });

  it("list gives the live schedules by fire time, then creation time, without the removed or replaced", () => {
    const book = new ScheduleBook();
    book.add(schedule("late", 300, { created_at: 1 }));
    book.add(schedule("tie-newer", 200, { created_at: 9 }));
    book.add(schedule("tie-older", 200, { created_at: 2 }));
    book.add(schedule("gone", 100));
    book.add(schedule("replaced", 50, { key: "k" }));
    book.add(schedule("replacement", 400, { key: "k" }));
    book.remove("gone");
    expect(ids(book.list())).toEqual(["tie-older", "tie-newer", "late", "replacement"]);
    // list is a copy: it does not take anything out.
    expect(book.size).toBe(4);
  });
});
