import { describe, expect, it } from "vitest";
import { manualClock, systemClock, type Clock } from "./clock.js";

/** One conformance suite for every Clock; `wait` lets time pass in the clock's own way. */
function clockSuite(name: string, make: () => { clock: Clock; wait: (ms: number) => Promise<void> }) {
  describe(`${name} conforms to Clock`, () => {
    it("runs timers in due order, once each", async () => {
      const { clock, wait } = make();
      const fired: string[] = [];
      clock.setTimer(() => fired.push("b"), 20);
      clock.setTimer(() => fired.push("a"), 5);
      await wait(40);
      expect(fired).toEqual(["a", "b"]);
    });

    it("does not run a cleared timer", async () => {
      const { clock, wait } = make();
      let fired = false;
      const handle = clock.setTimer(() => (fired = true), 5);
      clock.clearTimer(handle);
      await wait(20);
      expect(fired).toBe(false);
    });

    it("moves now forward", async () => {
      const { clock, wait } = make();
      const before = clock.now();
      await wait(15);
      expect(clock.now() - before).toBeGreaterThanOrEqual(14);
    });
  });
}

clockSuite("systemClock", () => ({
  clock: systemClock(),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}));

clockSuite("manualClock", () => {
  const clock = manualClock(1_000);
  return {
    clock,
    wait: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  };
});

describe("manualClock", () => {
  it("shows each timer the time it was due", () => {
    const clock = manualClock(0);
    const seen: number[] = [];
    clock.setTimer(() => seen.push(clock.now()), 10);
    clock.setTimer(() => seen.push(clock.now()), 30);
    clock.advance(100);
    expect(seen).toEqual([10, 30]);
    expect(clock.now()).toBe(100);
  });
});

describe("defer", () => {
  it("systemClock runs a deferred callback in a later turn, not at once", async () => {
    const clock = systemClock();
    const order: string[] = [];
    clock.defer(() => order.push("deferred"));
    order.push("sync");
    await Promise.resolve();
    expect(order).toEqual(["sync"]); // not even as a microtask of this turn
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(order).toEqual(["sync", "deferred"]);
  });

  it("manualClock runs deferred callbacks only on turn(), one turn at a time, in order", () => {
    const clock = manualClock(0);
    const ran: string[] = [];
    clock.defer(() => {
      ran.push("a");
      clock.defer(() => ran.push("a-next"));
    });
    clock.defer(() => ran.push("b"));
    clock.advance(1_000);
    expect(ran).toEqual([]);
    expect(clock.turn()).toBe(2);
    expect(ran).toEqual(["a", "b"]);
    expect(clock.turn()).toBe(1);
    expect(ran).toEqual(["a", "b", "a-next"]);
    expect(clock.turn()).toBe(0);
  });
});
