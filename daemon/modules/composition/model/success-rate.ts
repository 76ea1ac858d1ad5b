/**
 * The statistics of success rates that composition:compare reports (issue
 * 17, pure): a 95 % interval for one rate, and the exact probability that
 * one rate beats another under Beta posteriors. Deterministic: no sampling.
 */

/** The two-sided 95 % normal quantile. */
const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * The Wilson score interval at 95 % for `successes` of `trials`. Chosen over
 * the Wald interval (zero width at 0/n and n/n, poor coverage near 0 and 1)
 * and over Jeffreys (as good, but it needs an inverse incomplete beta, an
 * iteration with tolerances): Wilson is closed form, stays inside 0..1, has
 * width at 0/n and n/n, and covers close to 95 % from a few dozen trials
 * (Brown, Cai & DasGupta 2001). 0/0 says nothing: the whole of 0..1.
 */
export function wilsonInterval(successes: number, trials: number): Interval {
  if (trials === 0) return { low: 0, high: 1 };
  const rate = successes / trials;
  const z2n = (Z95 * Z95) / trials;
  const center = (rate + z2n / 2) / (1 + z2n);
  const half = (Z95 / (1 + z2n)) * Math.sqrt((rate * (1 - rate)) / trials + z2n / (4 * trials));
  // At 0/n and n/n one bound is 0 or 1 exactly; rounding may leave it a hair outside.
  return { low: successes === 0 ? 0 : Math.max(0, center - half), high: successes === trials ? 1 : Math.min(1, center + half) };
}

/**
 * ln Γ(x) for x > 0: Stirling's series to the x⁻¹¹ term, after the
 * recurrence Γ(x) = Γ(x + 1) / x has carried x to 10 or more, where the
 * series' error is below 1e-15. Exact enough for the log-beta of counts in
 * the millions (the absolute error of a log-beta stays near 1e-10 there).
 */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma is defined here for x > 0, not ${x}`);
  let shift = 0;
  let at = x;
  while (at < 10) {
    shift += Math.log(at);
    at += 1;
  }
  const inverse = 1 / at;
  const inverse2 = inverse * inverse;
  const series = inverse * (1 / 12 - inverse2 * (1 / 360 - inverse2 * (1 / 1260 - inverse2 * (1 / 1680 - inverse2 * (1 / 1188 - (691 / 360360) * inverse2)))));
  return (at - 0.5) * Math.log(at) - at + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

export function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

/** A Beta(alpha, beta) distribution; here with whole-number parameters (counts plus a prior of 1). */
export interface Beta {
  alpha: number;
  beta: number;
}

/**
 * P(X_b > X_a) for independent X_a ~ Beta(a), X_b ~ Beta(b), exactly, for
 * whole-number parameters: the finite sum over i < b.alpha of
 * B(a.alpha + i, a.beta + b.beta) / ((b.beta + i) B(1 + i, b.beta) B(a.alpha, a.beta))
 * (Evan Miller, "Formulas for Bayesian A/B testing", 2015), each term through
 * logs from a log-beta so that thousands of runs neither overflow nor underflow.
 *
 * The sum has one term per unit of the parameter it runs over, and any of the
 * four parameters will do: P(X_b > X_a) = 1 − P(X_a > X_b) swaps the roles,
 * and 1 − X ~ Beta(beta, alpha) swaps the parameters. So it runs over the
 * smallest, and costs one term per success or failure of the arm with the
 * fewest (at 10 000 runs a side and rates near 0.6, about 3 000 terms).
 */
export function probabilityGreater(a: Beta, b: Beta): number {
  for (const parameter of [a.alpha, a.beta, b.alpha, b.beta]) {
    if (!(Number.isInteger(parameter) && parameter >= 1)) throw new RangeError(`Beta parameters here are whole numbers from 1, not ${parameter}`);
  }
  const smallest = Math.min(a.alpha, a.beta, b.alpha, b.beta);
  const flipped = (x: Beta): Beta => ({ alpha: x.beta, beta: x.alpha });
  let p: number;
  if (b.alpha === smallest) p = sumOverAlpha(a, b);
  else if (a.alpha === smallest) p = 1 - sumOverAlpha(b, a);
  else if (a.beta === smallest) p = sumOverAlpha(flipped(b), flipped(a));
  else p = 1 - sumOverAlpha(flipped(a), flipped(b));
  return Math.min(1, Math.max(0, p));
}

/**
 * The sum of probabilityGreater over i < b.alpha. Term 0 is
 * B(a.alpha, a.beta + b.beta) / B(a.alpha, a.beta); each next term is the last
 * times (a.alpha + i)(b.beta + i) / ((a.alpha + a.beta + b.beta + i)(1 + i)),
 * the ratio of the gamma functions of consecutive terms. Kept in logs, so one
 * logarithm a term instead of four log-gammas (the first call, before the JIT
 * has compiled it, is what costs; see compare.test.ts).
 */
function sumOverAlpha(a: Beta, b: Beta): number {
  const rest = a.alpha + a.beta + b.beta;
  let term = lnBeta(a.alpha, a.beta + b.beta) - lnBeta(a.alpha, a.beta);
  let sum = Math.exp(term);
  for (let i = 0; i < b.alpha - 1; i++) {
    term += Math.log(((a.alpha + i) * (b.beta + i)) / ((rest + i) * (1 + i)));
    sum += Math.exp(term);
  }
  return sum;
}
