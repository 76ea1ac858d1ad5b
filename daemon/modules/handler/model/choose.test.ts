import { describe, expect, it } from "vitest";
import { chooseMember } from "./choose.js";

const load = (n: number) => n;

describe("chooseMember: fewest in flight, then round robin from the cursor", () => {
  it.each([
    { loads: [], cursor: 0, chosen: -1, why: "nobody to choose" },
    { loads: [0], cursor: 5, chosen: 0, why: "the only member" },
    { loads: [2, 0, 1], cursor: 0, chosen: 1, why: "the least loaded wins" },
    { loads: [0, 0, 0], cursor: 0, chosen: 0, why: "ties: the cursor's member" },
    { loads: [0, 0, 0], cursor: 2, chosen: 2, why: "ties: the cursor moves the start" },
    { loads: [0, 0, 0], cursor: 4, chosen: 1, why: "the cursor wraps around" },
    { loads: [1, 0, 0], cursor: 0, chosen: 1, why: "the first least-loaded after the cursor" },
    { loads: [0, 1, 0], cursor: 1, chosen: 2, why: "ties after the cursor come before ties before it" },
  ])("$why", ({ loads, cursor, chosen }) => {
    expect(chooseMember(loads, load, cursor)).toBe(chosen);
  });

  it("spreads equal load evenly when the caller advances the cursor", () => {
    const counts = [0, 0, 0];
    let cursor = 0;
    for (let i = 0; i < 300; i++) {
      const index = chooseMember([0, 0, 0], load, cursor);
      counts[index]!++;
      cursor = index + 1;
    }
    expect(counts).toEqual([100, 100, 100]);
  });
});
