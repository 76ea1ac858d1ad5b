import { describe, expect, it } from "vitest";
import { manualClock } from "../../../core/clock.js";
import { SliceQueue, type SliceStep } from "./slice-queue.js";

/** A job of `units` units of 100 bytes; each step does units until the budget is spent, noting its name per unit. */
function job(name: string, units: number, done: string[]): SliceStep {
  let left = units;
  return (budget) => {
    while (left > 0 && !budget.spent) {
      budget.count(100);
      left--;
      done.push(name);
    }
    return left === 0;
  };
}

describe("SliceQueue", () => {
  it("does at most a turn's bytes per turn, in later turns only", () => {
    const clock = manualClock();
    const queue = new SliceQueue<string>(clock, { budgetMs: Infinity, maxBytes: 300 });
    const done: string[] = [];
    queue.add("a", job("a", 7, done), true);
    expect(done).toEqual([]);
    const perTurn: number[] = [];
    while (clock.turn() > 0) perTurn.push(done.splice(0).length);
    expect(perTurn).toEqual([3, 3, 1]);
    expect(queue.has("a")).toBe(false);
  });

  it("jobs waited for take turns among themselves, before background ones; promote moves one up", () => {
    const clock = manualClock();
    const queue = new SliceQueue<string>(clock, { budgetMs: Infinity, maxBytes: 200 });
    const done: string[] = [];
    queue.add("idle", job("idle", 3, done), false);
    queue.add("long", job("long", 5, done), true);
    queue.add("short", job("short", 1, done), true);
    // Added again under a key already queued: keeps its place and its job.
    queue.add("short", job("other", 9, done), true);
    const turns: string[][] = [];
    while (clock.turn() > 0) turns.push(done.splice(0));
    expect(turns).toEqual([["long", "long"], ["short", "long"], ["long", "long"], ["idle", "idle"], ["idle"]]);

    queue.add("b", job("b", 4, done), false);
    queue.add("c", job("c", 4, done), false);
    queue.promote("c");
    clock.turn();
    expect(done.splice(0)).toEqual(["c", "c"]);
    queue.remove("c");
    while (clock.turn() > 0);
    expect(done).toEqual(["b", "b", "b", "b"]);
  });
});
