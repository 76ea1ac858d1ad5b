/**
 * The daemon's own log: JSON lines in var/log/daemon.log (pino). Disabled
 * levels cost nothing. Written synchronously (the daemon logs little) to a
 * destination that never throws: a line the disk cannot take (full,
 * read-only) is dropped and counted, and writing resumes by itself with the
 * next line once it can. A log line must never be what stops the daemon.
 */
import { mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import pino from "pino";
import { appendWhole } from "./atomic-file.js";

export type Log = pino.Logger;

export interface DaemonLog {
  log: Log;
  flush(): void;
  /** Lines dropped because the file could not take them, since start. */
  dropped: () => number;
}

export function createLog(path: string, level: string): DaemonLog {
  const destination = new DroppingFile(path);
  const log = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  // Every write is synchronous and complete or dropped: there is nothing buffered to flush.
  return { log, flush: () => undefined, dropped: () => destination.dropped };
}

/** An append-only file of whole lines (a line cut short is taken back); what cannot be written is counted, never thrown. */
class DroppingFile {
  dropped = 0;
  private fd: number | null = null;

  constructor(private readonly path: string) {
    // Opened now, so the file is there from the start (people tail it); on a disk that cannot take it, at the first line that can be written.
    try {
      this.fd = open(path);
    } catch {
      this.fd = null;
    }
  }

  write(line: string): boolean {
    try {
      this.fd ??= open(this.path);
      appendWhole(this.fd, line);
    } catch {
      this.dropped++;
    }
    return true;
  }
}

function open(path: string): number {
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, "a");
}

/** A log that drops everything, for unit tests of code that takes a Log. */
export function silentLog(): Log {
  return pino({ level: "silent" });
}
