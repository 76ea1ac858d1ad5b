/**
 * The only source of time in the daemon. Everything that needs "now" or a
 * timer gets a Clock passed in, so tests can move time without sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Runs `callback` in a later turn of the event loop, once the I/O that is
   * ready now (socket reads and writes) has run: how long work yields to
   * other clients without waiting out a timer.
   */
  defer(callback: () => void): void;
}

export interface TimerHandle {
  readonly id: number;
}

export function systemClock(): Clock {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextId = 1;
  return {
    now: () => Date.now(),
    setTimer(callback, delayMs) {
      const id = nextId++;
      const timeout = setTimeout(() => {
        timers.delete(id);
        callback();
      }, Math.max(0, delayMs));
      timers.set(id, timeout);
      return { id };
    },
    clearTimer(handle) {
      const timeout = timers.get(handle.id);
      if (timeout !== undefined) {
        clearTimeout(timeout);
        timers.delete(handle.id);
      }
    },
    defer(callback) {
      setImmediate(callback);
    },
  };
}

export interface ManualClock extends Clock {
  /** Moves time forward, running every timer that falls due, in order of due time. Deferred callbacks wait for turn(). */
  advance(ms: number): void;
  /**
   * One turn of the event loop: runs the callbacks deferred before the call
   * (not those they defer in turn) and returns how many ran. The test is the
   * event loop: between turns it can do what a client would.
   */
  turn(): number;
}

export function manualClock(startMs = 0): ManualClock {
  let current = startMs;
  let nextId = 1;
  const timers = new Map<number, { due: number; callback: () => void }>();
  let deferred: (() => void)[] = [];
  return {
    now: () => current,
    setTimer(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { due: current + Math.max(0, delayMs), callback });
      return { id };
    },
    clearTimer(handle) {
      timers.delete(handle.id);
    },
    defer(callback) {
      deferred.push(callback);
    },
    turn() {
      const callbacks = deferred;
      deferred = [];
      for (const callback of callbacks) callback();
      return callbacks.length;
    },
    advance(ms) {
      const target = current + ms;
      for (;;) {
        let nextIdDue: number | undefined;
        let nextDue = Infinity;
        for (const [id, timer] of timers) {
          if (timer.due <= target && (timer.due < nextDue || (timer.due === nextDue && id < (nextIdDue ?? Infinity)))) {
            nextDue = timer.due;
            nextIdDue = id;
          }
        }
        if (nextIdDue === undefined) break;
        const timer = timers.get(nextIdDue)!;
        timers.delete(nextIdDue);
        current = Math.max(current, timer.due);
        timer.callback();
      }
      current = target;
    },
  };
}
