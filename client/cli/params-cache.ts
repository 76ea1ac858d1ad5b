/**
 * The params schemas `pat send EVENT --key value` types its values with,
 * kept on disk (HOME/var/cache/pat-params.json) so a call does not first
 * ask system:help (issue 16, item 4).
 *
 * What the copy is valid for: one daemon instance, named by its socket file
 * (device, inode, change time in ns). A built-in event's schema is fixed by
 * the daemon's code, and new code runs only in a new daemon, which makes a
 * new socket file: so a restart, an upgrade or a rebuild with the version
 * unchanged all start a fresh copy. The daemon's version would not do: it
 * stays 0.1.0 while the code under it changes. Only built-in events are
 * kept (their system:help reply has `result`): a connected handler can
 * register its event again with other params while the daemon runs, so that
 * schema is asked for each time. Only the home's own socket is cached for;
 * pat with --socket elsewhere asks each time, as it cannot tell which daemon
 * answers there.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../daemon/config.js";
import type { HelpResult } from "./render-help.js";

type Schema = HelpResult["params"];

interface CacheFile {
  /** The daemon instance the schemas are from (instanceOf). */
  daemon: string;
  events: Record<string, Schema>;
}

export interface ParamsCache {
  /** The params' JSON Schema as this daemon last described them, if kept. */
  get(event: string): Schema | undefined;
  /** Keeps what system:help answered, when the schema is one only new daemon code can change. */
  put(help: HelpResult): void;
}

const NONE: ParamsCache = { get: () => undefined, put: () => undefined };

export function paramsCache(config: Config): ParamsCache {
  const daemon = config.socketInHome ? instanceOf(config.socketPath) : undefined;
  if (daemon === undefined) return NONE;
  const path = join(config.cacheDir, "pat-params.json");
  let file: CacheFile | undefined;
  const load = (): CacheFile => {
    file ??= readCache(path, daemon);
    return file;
  };
  return {
    get: (event) => (Object.hasOwn(load().events, event) ? load().events[event] : undefined),
    put(help) {
      if (help.result === undefined) return;
      const current = load();
      current.events[help.event] = help.params;
      writeCache(path, current);
    },
  };
}

/** Which daemon listens on `socketPath`: its socket file's identity; undefined when there is none. */
function instanceOf(socketPath: string): string | undefined {
  try {
    const stat = statSync(socketPath, { bigint: true });
    return `${stat.dev}:${stat.ino}:${stat.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** The cache for `daemon`: what the file holds when it is this daemon's, else empty (a missing or damaged file is an empty cache). */
function readCache(path: string, daemon: string): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<CacheFile>;
    if (parsed.daemon === daemon && typeof parsed.events === "object" && parsed.events !== null && !Array.isArray(parsed.events)) {
      return { daemon, events: parsed.events };
    }
  } catch {
    // Not there yet, or not JSON: start over.
  }
  return { daemon, events: {} };
}

/** Whole or not at all (a temp file renamed over it), so a pat running beside this one reads either copy, never half of one. */
function writeCache(path: string, file: CacheFile): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(temp, JSON.stringify(file));
    renameSync(temp, path);
  } catch {
    // A home pat cannot write to (read-only, full) only costs the next call a system:help: never a failed send.
  }
}
