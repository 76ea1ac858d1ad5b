/**
 * Every runtime path and limit, derived from the home directory (SPEC §1).
 * Pure: takes the options, environment and working directory as values.
 */
import { isAbsolute, join, resolve } from "node:path";

export interface Limits {
  /** Longest accepted request line, in bytes (too_large past it). */
  maxLineBytes: number;
  /** Deepest accepted JSON nesting. */
  maxDepth: number;
  /** Requests in flight on one connection before the daemon stops reading from it. */
  maxPendingRequests: number;
  /** Bytes waiting to be written to one connection before its subscriptions are dropped. */
  maxQueuedBytes: number;
  /** How long a stop waits for requests in flight. */
  drainTimeoutMs: number;
  /** Event-log records keep at most this many bytes of `data`. */
  maxLoggedDataBytes: number;
  /** Routed events kept in memory for `monitor:subscribe {since_seq}`. */
  replayEvents: number;
  /** ...and at most this much of their data (JSON length): 10 000 requests of 8 MiB would otherwise be 80 GB. */
  replayBytes: number;
}

export interface Config {
  home: string;
  socketPath: string;
  /** True when the socket sits in the home's own run directory (its mode is then enforced). */
  socketInHome: boolean;
  runDir: string;
  pidFile: string;
  logDir: string;
  daemonLog: string;
  eventLogDir: string;
  libDir: string;
  storeDir: string;
  scheduleJournal: string;
  stateFile: string;
  logLevel: string;
  limits: Limits;
}

export interface ConfigOptions {
  home?: string | undefined;
  socket?: string | undefined;
  store?: string | undefined;
  logLevel?: string | undefined;
}

export const DEFAULT_LIMITS: Limits = {
  maxLineBytes: 8 * 1024 * 1024,
  maxDepth: 128,
  maxPendingRequests: 1024,
  maxQueuedBytes: 8 * 1024 * 1024,
  drainTimeoutMs: 5_000,
  maxLoggedDataBytes: 4 * 1024,
  replayEvents: 10_000,
  replayBytes: 32 * 1024 * 1024,
};

export function resolveConfig(
  options: ConfigOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Config {
  const home = resolve(cwd, options.home ?? nonEmpty(env.PATTERND_HOME) ?? ".");
  const runDir = join(home, "var", "run");
  const defaultSocket = join(runDir, "patternd.sock");
  const socketOption = options.socket ?? nonEmpty(env.PATTERND_SOCKET);
  const socketPath = socketOption === undefined ? defaultSocket : resolve(cwd, socketOption);
  const logDir = join(home, "var", "log");
  const libDir = join(home, "var", "lib");
  const storeOption = options.store ?? nonEmpty(env.PATTERND_STORE);
  return {
    home,
    socketPath,
    socketInHome: socketPath === defaultSocket,
    runDir,
    pidFile: join(runDir, "patternd.pid"),
    logDir,
    daemonLog: join(logDir, "daemon.log"),
    eventLogDir: join(logDir, "events"),
    libDir,
    storeDir: storeOption === undefined ? join(libDir, "compositions") : absolute(cwd, storeOption),
    scheduleJournal: join(libDir, "schedule.ndjson"),
    stateFile: join(libDir, "state.json"),
    logLevel: options.logLevel ?? nonEmpty(env.PATTERND_LOG_LEVEL) ?? "info",
    limits: DEFAULT_LIMITS,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
