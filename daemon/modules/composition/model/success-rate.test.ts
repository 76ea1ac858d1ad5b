import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../../bench/random.js";
import { lnBeta, lnGamma, probabilityGreater, wilsonInterval, type Beta } from "./success-rate.js";

/** A Gamma(shape) sample (Marsaglia & Tsang 2000, shape ≥ 1), normals by Box-Muller. */
function gammaSample(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const v = (1 + c * normal) ** 3;
    if (v <= 0) continue;
    if (Math.log(1 - random()) < 0.5 * normal * normal + d - d * v + d * Math.log(v)) return d * v;
  }
}

function betaSample(beta: Beta, random: () => number): number {
  const x = gammaSample(beta.alpha, random);
  return x / (x + gammaSample(beta.beta, random));
}

/** The same sum as probabilityGreater, over i < b.alpha only, each term by four log-betas: the formula as published. */
function publishedSum(a: Beta, b: Beta): number {
  let sum = 0;
  for (let i = 0; i < b.alpha; i++) sum += Math.exp(lnBeta(a.alpha + i, a.beta + b.beta) - Math.log(b.beta + i) - lnBeta(1 + i, b.beta) - lnBeta(a.alpha, a.beta));
  return sum;
}

describe("lnGamma", () => {
  it.each<[number, number]>([
    [1, 0],
    [2, 0],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [3.5, Math.log((15 / 8) * Math.sqrt(Math.PI))],
    [10, Math.log(362880)],
    [21, 42.335616460753485], // ln 20!
    [171, 706.5730622457874], // ln 170!
    [1e6, 12815504.569147611],
  ])("lnGamma(%d)", (x, expected) => {
    expect(Math.abs(lnGamma(x) - expected)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(expected)));
  });

  it("is defined for x > 0 only", () => {
    expect(() => lnGamma(0)).toThrow(RangeError);
    expect(() => lnGamma(Number.NaN)).toThrow(RangeError);
  });
});

describe("wilsonInterval: 95 % for a success rate", () => {
  it.each<[string, number, number, number, number]>([
    ["0/0 says nothing", 0, 0, 0, 1],
    ["0/n starts at 0 and still has width", 0, 10, 0, 0.2775],
    ["n/n ends at 1 and still has width", 10, 10, 0.7225, 1],
    ["half", 5, 10, 0.2366, 0.7634],
    ["1/1", 1, 1, 0.2065, 1],
    ["180/300", 180, 300, 0.5436, 0.6538],
  ])("%s", (_label, successes, trials, low, high) => {
    const interval = wilsonInterval(successes, trials);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
  });

  it.each([0.6, 0.7, 0.95])("covers the true rate %d in about 95 %% of 1000 seeded trials of 300 runs", (rate) => {
    const random = seededRandom(Math.round(rate * 1000));
    let covered = 0;
    for (let rep = 0; rep < 1000; rep++) {
      let successes = 0;
      for (let run = 0; run < 300; run++) if (random() < rate) successes++;
      const { low, high } = wilsonInterval(successes, 300);
      if (low <= rate && rate <= high) covered++;
    }
    expect(covered / 1000).toBeGreaterThanOrEqual(0.93);
    expect(covered / 1000).toBeLessThanOrEqual(0.97);
  });
});

describe("probabilityGreater: P(X_b > X_a), exactly", () => {
  it.each<[string, Beta, Beta, number]>([
    ["identical flat posteriors", { alpha: 1, beta: 1 }, { alpha: 1, beta: 1 }, 0.5],
    ["3 of 3 against 0 of 3", { alpha: 4, beta: 1 }, { alpha: 1, beta: 4 }, 1 / 70],
    ["0 of 3 against 3 of 3", { alpha: 1, beta: 4 }, { alpha: 4, beta: 1 }, 69 / 70],
    ["one success against none decided", { alpha: 1, beta: 1 }, { alpha: 2, beta: 1 }, 2 / 3],
  ])("%s", (_label, a, b, expected) => {
    expect(probabilityGreater(a, b)).toBeCloseTo(expected, 12);
  });

  it.each<[Beta, Beta]>([
    [{ alpha: 2, beta: 3 }, { alpha: 5, beta: 2 }],
    [{ alpha: 181, beta: 121 }, { alpha: 211, beta: 91 }],
    [{ alpha: 7, beta: 40 }, { alpha: 3, beta: 12 }],
    [{ alpha: 601, beta: 401 }, { alpha: 590, beta: 412 }],
  ])("whichever parameter the sum runs over, it is the published sum: %j vs %j", (a, b) => {
    const p = probabilityGreater(a, b);
    expect(p).toBeCloseTo(publishedSum(a, b), 10);
    expect(p + probabilityGreater(b, a)).toBeCloseTo(1, 10);
  });

  it.each<[Beta, Beta]>([
    [{ alpha: 2, beta: 3 }, { alpha: 5, beta: 2 }],
    [{ alpha: 181, beta: 121 }, { alpha: 211, beta: 91 }], // 180/300 against 210/300
    [{ alpha: 181, beta: 121 }, { alpha: 186, beta: 116 }],
    [{ alpha: 31, beta: 1 }, { alpha: 1, beta: 1 }],
  ])("agrees with 200 000 seeded Monte Carlo draws: %j vs %j", (a, b) => {
    const random = seededRandom(17);
    const draws = 200_000;
    let wins = 0;
    for (let i = 0; i < draws; i++) if (betaSample(b, random) > betaSample(a, random)) wins++;
    const p = probabilityGreater(a, b);
    // Four standard errors of the estimate (at most 0.0045 for 200 000 draws).
    expect(Math.abs(wins / draws - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / draws) + 1e-4);
  });

  it("stays finite at 10 000 runs a side, and the order of the arms only flips it", () => {
    const a = { alpha: 6001, beta: 4001 };
    const b = { alpha: 6101, beta: 3901 };
    const p = probabilityGreater(a, b);
    expect(Number.isFinite(p)).toBe(true);
    expect(p).toBeGreaterThan(0.9);
    expect(p).toBeLessThan(1);
    expect(probabilityGreater(b, a)).toBeCloseTo(1 - p, 10);
    expect(probabilityGreater(a, { alpha: 7001, beta: 3001 })).toBe(1);
    expect(probabilityGreater({ alpha: 10001, beta: 1 }, { alpha: 1, beta: 10001 })).toBe(0);
  });

  it("takes whole-number parameters from 1", () => {
    expect(() => probabilityGreater({ alpha: 0, beta: 1 }, { alpha: 1, beta: 1 })).toThrow(RangeError);
    expect(() => probabilityGreater({ alpha: 1.5, beta: 1 }, { alpha: 1, beta: 1 })).toThrow(RangeError);
  });
});
