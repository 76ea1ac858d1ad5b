/**
 * The NATS link's settings (pure, issue 19): `--nats URL`, `--nats-export
 * GLOB`, `--nats-import GLOB` (each repeatable, each a comma list too), or
 * PATTERND_NATS, PATTERND_NATS_EXPORT, PATTERND_NATS_IMPORT; a flag wins
 * over its variable. Checked before the daemon starts: a URL or glob that
 * cannot work is refused with the form it should have.
 */

export interface NatsSettings {
  /** As given (nats://host:port or host:port). */
  url: string;
  /** Globs of routed events to publish. */
  exports: string[];
  /** Globs of other daemons' events to route here. */
  imports: string[];
}

export interface NatsOptions {
  nats?: string | undefined;
  natsExport?: readonly string[] | undefined;
  natsImport?: readonly string[] | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

const GLOB = /^[A-Za-z0-9_.*-]+(:[A-Za-z0-9_.*-]+)*$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/** The settings, or undefined when no URL is given (no link; export and import globs alone are a problem natsProblems reports). */
export function resolveNats(options: NatsOptions, env: Env): NatsSettings | undefined {
  const url = options.nats ?? nonEmpty(env.PATTERND_NATS);
  if (url === undefined) return undefined;
  return { url, exports: globList(options.natsExport, env.PATTERND_NATS_EXPORT), imports: globList(options.natsImport, env.PATTERND_NATS_IMPORT) };
}

/** What is wrong with the NATS settings, one message each: the daemon refuses to start on any. */
export function natsProblems(options: NatsOptions, env: Env): string[] {
  const settings = resolveNats(options, env);
  const problems: string[] = [];
  if (settings === undefined) {
    const exports = globList(options.natsExport, env.PATTERND_NATS_EXPORT);
    const imports = globList(options.natsImport, env.PATTERND_NATS_IMPORT);
    if (exports.length > 0 || imports.length > 0) problems.push("--nats-export and --nats-import need --nats URL (or PATTERND_NATS), e.g. --nats nats://127.0.0.1:4222");
    return problems;
  }
  const from = options.nats === undefined ? "PATTERND_NATS" : "--nats";
  if (hostPort(settings.url) === undefined) {
    problems.push(`${from} must be nats://host:port or host:port, e.g. nats://127.0.0.1:4222 (got ${JSON.stringify(settings.url)})`);
  }
  const lists: [string, readonly string[]][] = [
    [options.natsExport === undefined ? "PATTERND_NATS_EXPORT" : "--nats-export", settings.exports],
    [options.natsImport === undefined ? "PATTERND_NATS_IMPORT" : "--nats-import", settings.imports],
  ];
  for (const [name, globs] of lists) {
    for (const glob of globs) {
      if (glob.length > 128 || !GLOB.test(glob)) {
        problems.push(`${name}: ${JSON.stringify(glob)} matches no event name; give colon-separated segments of letters, digits, _ . - with * (one segment) or ** (any rest), e.g. task:* or orchestration:**`);
      }
    }
  }
  return problems;
}

/** `host:port` of a nats://host:port or host:port URL; undefined when it is neither. */
export function hostPort(url: string): string | undefined {
  const rest = url.startsWith("nats://") ? url.slice("nats://".length) : url;
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const host = rest.slice(0, colon);
  const port = rest.slice(colon + 1);
  if (!HOST.test(host) || !/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) return undefined;
  return rest;
}

/** The flag's values (each may be a comma list), else the variable's comma list; blanks dropped, duplicates once. */
function globList(flag: readonly string[] | undefined, variable: string | undefined): string[] {
  const items = flag ?? (variable === undefined ? [] : [variable]);
  return [...new Set(items.flatMap((item) => item.split(",")).map((glob) => glob.trim()).filter((glob) => glob !== ""))];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
