/**
 * Recovery at start never aborts the start (issue 24, item 6): what a crash
 * or a person's git command left half done in the store (stale locks, a
 * mutation's intent, uncommitted decision logs) is finished when it can
 * be; when it cannot, the daemon logs at `warn` what went wrong and what
 * the person should run, and serves anyway — a daemon that never starts
 * again over a leftover helps nobody. Refusals that protect the store (a
 * layout or format the daemon does not write) are not recovery and stay
 * fatal: they are checked before this runs.
 */
import type { Log } from "../../../core/log.js";

export interface RecoveryStep {
  /** What the step finishes, as the log says it: "decision logs left uncommitted". */
  what: string;
  run: () => Promise<void> | void;
  /** What a person runs to finish it by hand, given the error's message. */
  hint: (message: string) => string;
}

/** Runs each step in order; a failing one is logged at warn with its hint, and the next one runs. Returns how many failed. */
export async function recoverAtStart(steps: readonly RecoveryStep[], log: Log): Promise<number> {
  let failed = 0;
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ err, step: step.what, hint: step.hint(message) }, `recovery at start could not finish ${step.what}: ${message}; the daemon serves anyway. ${step.hint(message)}`);
    }
  }
  return failed;
}

/** True for git's (and the commit writer's) answer when a commit would change nothing: the work is already done. */
export function isNothingToCommit(err: unknown): boolean {
  return err instanceof Error && /nothing to commit/i.test(err.message);
}
