/**
 * The daemon's own log: JSON lines in var/log/daemon.log (pino). Disabled
 * levels cost nothing. `flush()` is called once at stop.
 */
import pino from "pino";

export type Log = pino.Logger;

export interface DaemonLog {
  log: Log;
  flush(): void;
}

export function createLog(path: string, level: string): DaemonLog {
  // Synchronous: the daemon logs little, and an async destination that is not open yet
  // throws from pino's exit hook when start-up fails before the first write.
  const destination = pino.destination({ dest: path, mkdir: true, sync: true });
  const log = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return {
    log,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // not open yet: nothing was written, so nothing is lost
      }
    },
  };
}

/** A log that drops everything, for unit tests of code that takes a Log. */
export function silentLog(): Log {
  return pino({ level: "silent" });
}
