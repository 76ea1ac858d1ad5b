/**
 * Every runtime path and limit, derived from the home directory (SPEC §1).
 * Pure: takes the options, environment and working directory as values, and
 * the file system only as an injected existence check (for finding a home
 * above the working directory, the way git finds `.git`).
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

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
  /** True when the store is the home's own var/lib/compositions (not one given by --store or PATTERND_STORE elsewhere). */
  storeInHome: boolean;
  /** The store's branch the daemon commits to (`--branch`, PATTERND_BRANCH); undefined: the one HEAD names at start. */
  branch: string | undefined;
  scheduleJournal: string;
  stateFile: string;
  logLevel: string;
  limits: Limits;
  /** PATTERND_CHECK_RESULTS=1: every reply is checked against its event's result schema (the tests set it). */
  checkResults?: boolean;
}

export interface ConfigOptions {
  home?: string | undefined;
  socket?: string | undefined;
  store?: string | undefined;
  branch?: string | undefined;
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

/** The levels of daemon.log (pino's), quietest last: `--log-level` and PATTERND_LOG_LEVEL take one of these. */
export const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Does this path exist? Injected, so that resolving stays pure (`pat` passes fs.existsSync). */
export type Exists = (path: string) => boolean;

/**
 * What marks a directory as a home: the socket of a daemon running there
 * (or left by one that crashed), or the pattern store a daemon initialised
 * there. Both are made only by patternd, at paths only patternd uses, so an
 * unrelated project's `var/` is never taken for a home; and the store's
 * `.git` stays while the daemon is stopped, so `pat status` and `pat start`
 * from inside the store still find the home the store belongs to.
 */
export const HOME_MARKERS: readonly string[] = [join("var", "run", "patternd.sock"), join("var", "lib", "compositions", ".git")];

export function isHome(dir: string, exists: Exists): boolean {
  return HOME_MARKERS.some((marker) => exists(join(dir, marker)));
}

/** The nearest directory at or above `start` (absolute) that is a home, if any. */
export function findHome(start: string, exists: Exists): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (isHome(dir, exists)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The pattern store a directory lies in: the top of its git work tree, and the home whose store it is when it sits at `<home>/var/lib/compositions`. */
export interface EnclosingStore {
  store: string;
  home?: string;
}

/**
 * The pattern store `dir` (absolute) lies in, if any: the top of the
 * enclosing git work tree when it is some home's `var/lib/compositions` or
 * holds an `orchestrations/` folder (every store patternd seeds has one; a
 * project checkout, which holds `compositions/` and `profiles/`, has none).
 */
export function enclosingStore(dir: string, exists: Exists): EnclosingStore | undefined {
  for (let top = dir; ; top = dirname(top)) {
    if (exists(join(top, ".git"))) {
      const lib = dirname(top);
      const inHome = basename(top) === "compositions" && basename(lib) === "lib" && basename(dirname(lib)) === "var";
      if (inHome) return { store: top, home: dirname(dirname(lib)) };
      return exists(join(top, "orchestrations")) ? { store: top } : undefined;
    }
    if (dirname(top) === top) return undefined;
  }
}

/**
 * The home is `--home`, else PATTERND_HOME, else, when `exists` is given
 * (pat gives it; the daemon's own process does not search), the nearest
 * home at or above `cwd`, else `cwd`.
 */
export function resolveConfig(
  options: ConfigOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  exists?: Exists,
): Config {
  const given = options.home ?? nonEmpty(env.PATTERND_HOME);
  const home = given !== undefined ? resolve(cwd, given) : ((exists === undefined ? undefined : findHome(resolve(cwd), exists)) ?? resolve(cwd));
  const runDir = join(home, "var", "run");
  const defaultSocket = join(runDir, "patternd.sock");
  const socketOption = options.socket ?? nonEmpty(env.PATTERND_SOCKET);
  const socketPath = socketOption === undefined ? defaultSocket : resolve(cwd, socketOption);
  const logDir = join(home, "var", "log");
  const libDir = join(home, "var", "lib");
  const storeOption = options.store ?? nonEmpty(env.PATTERND_STORE);
  const defaultStore = join(libDir, "compositions");
  const storeDir = storeOption === undefined ? defaultStore : absolute(cwd, storeOption);
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
    storeDir,
    storeInHome: storeDir === defaultStore,
    branch: options.branch ?? nonEmpty(env.PATTERND_BRANCH),
    scheduleJournal: join(libDir, "schedule.ndjson"),
    stateFile: join(libDir, "state.json"),
    logLevel: options.logLevel ?? nonEmpty(env.PATTERND_LOG_LEVEL) ?? "info",
    limits: DEFAULT_LIMITS,
    checkResults: env.PATTERND_CHECK_RESULTS === "1",
  };
}

/**
 * A branch name git accepts (`git check-ref-format --branch`, as far as a
 * name typed on a command line goes): what `--branch` takes.
 */
export function isBranchName(name: string): boolean {
  if (name === "" || name.length > 200 || name === "@" || name === "HEAD") return false;
  if (name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".") || name.endsWith(".lock")) return false;
  // eslint-disable-next-line no-control-regex
  if (name.includes("..") || name.includes("//") || name.includes("@{") || /[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
