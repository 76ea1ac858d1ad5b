import { describe, expect, it } from "vitest";
import { pickArm, splitPoint } from "./label-split.js";

const KEYS = 10_000;

describe("pickArm", () => {
  it.each([
    [{ "t@1.0.0": 0.5, "f@0.1.0": 0.5 }],
    [{ "t@1.0.0": 0.9, "f@0.1.0": 0.1 }],
    [{ "t@1.0.0": 70, "f@0.1.0": 20, "g@0.2.0": 10 }],
    [{ "t@1.0.0": 1, "f@0.1.0": 1, "g@0.2.0": 1, "h@0.3.0": 1 }],
  ])("honours the weights %j within ±2 % over 10 000 keys", (split) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < KEYS; i++) {
      const arm = pickArm(split, "t@trial", `run-${i}`);
      counts.set(arm, (counts.get(arm) ?? 0) + 1);
    }
    const total = Object.values(split).reduce((a, b) => a + b, 0);
    for (const [arm, weight] of Object.entries(split)) {
      expect(Math.abs((counts.get(arm) ?? 0) / KEYS - weight / total), arm).toBeLessThanOrEqual(0.02);
    }
  });

  it("is sticky: the same key gets the same arm, every time", () => {
    const split = { "t@1.0.0": 0.5, "f@0.1.0": 0.5 };
    for (let i = 0; i < 200; i++) expect(pickArm(split, "t@trial", `run-${i}`)).toBe(pickArm({ ...split }, "t@trial", `run-${i}`));
  });

  it("is salted by the label: one key is not in the same place in every trial", () => {
    const moved = Array.from({ length: 1000 }, (_, i) => Math.abs(splitPoint("t@a", `k${i}`) - splitPoint("t@b", `k${i}`)) > 0.01).filter(Boolean).length;
    expect(moved).toBeGreaterThan(900);
  });

  it("gives a point in [0, 1)", () => {
    for (let i = 0; i < 1000; i++) {
      const point = splitPoint("s", String(i));
      expect(point).toBeGreaterThanOrEqual(0);
      expect(point).toBeLessThan(1);
    }
  });
});
