/**
 * Every runtime path and limit, derived from the home directory (SPEC §1).
 * Pure: takes the options, environment and working directory as values, and
 * the file system only as an injected existence check (for finding a home
 * above the working directory, the way git finds `.git`).
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { resolveNats, type NatsOptions, type NatsSettings } from "./modules/nats/model/settings.js";

/** pat checks the NATS settings as the daemon would, and may import only this file of the daemon's settings. */
export { natsProblems, type NatsOptions } from "./modules/nats/model/settings.js";

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
  /** Bytes of keys and values (JSON) the state may hold (PATTERND_STATE_MAX_BYTES); a set past it is limit_exceeded. */
  maxStateBytes: number;
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
  /** var/cache: what a client may keep between calls (pat's copy of the params schemas); safe to delete. */
  cacheDir: string;
  storeDir: string;
  /** True when the store is the home's own var/lib/compositions (not one given by --store or PATTERND_STORE elsewhere). */
  storeInHome: boolean;
  /** The store's branch the daemon commits to (`--branch`, PATTERND_BRANCH); undefined: the one HEAD names at start. */
  branch: string | undefined;
  scheduleJournal: string;
  /** The state's journal (var/lib/state.ndjson). */
  stateJournal: string;
  /** Where homes from before the journal kept the state (var/lib/state.json): carried over at start. */
  legacyStateFile: string;
  logLevel: string;
  limits: Limits;
  /** When old event-log day files are deleted (PATTERND_EVENT_LOG_MAX_MB, PATTERND_EVENT_LOG_MAX_DAYS). */
  eventLogRetention: EventLogRetention;
  /** PATTERND_CHECK_RESULTS=1: every reply is checked against its event's result schema (the tests set it). */
  checkResults?: boolean;
  /** The link to other daemons through a NATS server (`--nats`, PATTERND_NATS; issue 19); undefined: none, and no client is loaded. */
  nats: NatsSettings | undefined;
  /** var/lib/daemon-id: this daemon's id among the daemons of a NATS link, made once. */
  daemonIdFile: string;
  /** `--sync-every SECONDS` (PATTERND_SYNC_EVERY): sync the store with each of its git remotes that often; undefined: never by itself; NaN: not a positive number. */
  syncEverySeconds?: number | undefined;
}

export interface EventLogRetention {
  /** Total bytes of var/log/events/ past which the oldest day files go; NaN when the setting is not a positive number. */
  maxBytes: number;
  /** Day files this many days old or older go (1 keeps today's only); NaN when the setting is not a positive whole number. */
  maxDays: number;
}

export interface ConfigOptions extends NatsOptions {
  home?: string | undefined;
  socket?: string | undefined;
  store?: string | undefined;
  branch?: string | undefined;
  logLevel?: string | undefined;
  syncEvery?: string | undefined;
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
  maxStateBytes: 64 * 1024 * 1024,
};

/**
 * Two weeks of history by default, for looking back over a working week and
 * the one before it; 256 MB at most, about a million records, which is what
 * one workstation's disk gives up without notice and what keeps
 * monitor:get_events within its budget (the bench's event-log row).
 */
export const DEFAULT_EVENT_LOG_RETENTION: EventLogRetention = { maxBytes: 256 * 1024 * 1024, maxDays: 14 };

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
    cacheDir: join(home, "var", "cache"),
    storeDir,
    storeInHome: storeDir === defaultStore,
    branch: options.branch ?? nonEmpty(env.PATTERND_BRANCH),
    scheduleJournal: join(libDir, "schedule.ndjson"),
    stateJournal: join(libDir, "state.ndjson"),
    legacyStateFile: join(libDir, "state.json"),
    logLevel: options.logLevel ?? nonEmpty(env.PATTERND_LOG_LEVEL) ?? "info",
    limits: limitsFrom(env),
    eventLogRetention: eventLogRetention(env),
    checkResults: env.PATTERND_CHECK_RESULTS === "1",
    nats: resolveNats(options, env),
    daemonIdFile: join(libDir, "daemon-id"),
    syncEverySeconds: syncEvery(options.syncEvery ?? nonEmpty(env.PATTERND_SYNC_EVERY)),
  };
}

/** Seconds between background syncs: at least one; undefined when not asked for, NaN when not a number. */
function syncEvery(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = positive(text, false);
  return value >= 1 ? value : NaN;
}

function eventLogRetention(env: Readonly<Record<string, string | undefined>>): EventLogRetention {
  const megabytes = nonEmpty(env.PATTERND_EVENT_LOG_MAX_MB);
  const days = nonEmpty(env.PATTERND_EVENT_LOG_MAX_DAYS);
  return {
    maxBytes: megabytes === undefined ? DEFAULT_EVENT_LOG_RETENTION.maxBytes : Math.floor(positive(megabytes, false) * 1024 * 1024),
    maxDays: days === undefined ? DEFAULT_EVENT_LOG_RETENTION.maxDays : positive(days, true),
  };
}

/** `text` as a positive number (a whole one when `whole`), else NaN. */
function positive(text: string, whole: boolean): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  return value > 0 && (!whole || Number.isInteger(value)) ? value : NaN;
}

/** What is wrong with the settings taken from the environment, one message each: the daemon refuses to start on any. */
export function settingProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const { maxBytes, maxDays } = eventLogRetention(env);
  const problems: string[] = [];
  if (Number.isNaN(maxBytes)) {
    problems.push(`PATTERND_EVENT_LOG_MAX_MB must be a positive number of megabytes, e.g. 256 or 0.5 (got ${JSON.stringify(env.PATTERND_EVENT_LOG_MAX_MB)})`);
  }
  if (Number.isNaN(maxDays)) {
    problems.push(`PATTERND_EVENT_LOG_MAX_DAYS must be a positive whole number of days, e.g. 14 (got ${JSON.stringify(env.PATTERND_EVENT_LOG_MAX_DAYS)})`);
  }
  return problems;
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

/** DEFAULT_LIMITS with what the environment sets; a value that is not a whole number ≥ 1 is NaN, for main.ts to refuse. */
function limitsFrom(env: Readonly<Record<string, string | undefined>>): Limits {
  const maxStateBytes = nonEmpty(env.PATTERND_STATE_MAX_BYTES);
  return maxStateBytes === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, maxStateBytes: wholeNumber(maxStateBytes) };
}

function wholeNumber(text: string): number {
  return /^[1-9][0-9]*$/.test(text.trim()) && Number.isSafeInteger(Number(text)) ? Number(text) : NaN;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
