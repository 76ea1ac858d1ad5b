/** `pat send` and `pat call`: one event, its data from a JSON object, a file and --key value pairs, its reply printed as it came. */
import { readFileSync } from "node:fs";
import { RemoteError, type Client } from "../client.js";
import { applyPairs, refuseUnknownKeys, UsageError, type Pair } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { parseObject } from "./commands/options.js";
import { warn } from "./commands/reply.js";
import { paramsCache, type ParamsCache } from "./params-cache.js";
import type { HelpResult } from "./render-help.js";
import { dataArgument } from "./send-hints.js";

export async function send(cli: Cli, verb: "send" | "call"): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const [event, inline, ...extra] = positionals;
  if (event === undefined) throw new UsageError(verb === "send" ? "pat send needs an event name, e.g. pat send system:health" : `pat call needs an event name, e.g. pat call task:summarize '{"text": "..."}'`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; pass data as one JSON object or --key value pairs`);
  const fromFile = pairs.filter((pair) => pair.key === "from-file");
  const fields = pairs.filter((pair) => pair.key !== "from-file");
  const data: Record<string, unknown> = {};
  for (const { value } of fromFile) {
    if (value === true) throw new UsageError("--from-file needs a path (or - for standard input)");
    Object.assign(data, parseObject(readData(value), `--from-file ${value}`));
  }
  if (inline !== undefined) Object.assign(data, await dataArgument(inline, event, () => describe(cli, event)));
  const client = await cli.connect();
  try {
    // pat call waits for the handler: the daemon's deadline (the handler's timeout_ms) ends the wait, not ours.
    const request = (body: Record<string, unknown>) => client.request(event, body, verb === "call" ? { timeoutMs: 0 } : {});
    let result: unknown;
    if (fields.length === 0) result = await request(data);
    else {
      const schemas = new Schemas(client, event, paramsCache(cli.config));
      const typed = await schemas.type(data, fields);
      try {
        result = await request(typed.data);
      } catch (err) {
        // Typed from a copy that may be older than the daemon's schema: typed again from the daemon's own, and sent again when that changes the data.
        if (!(err instanceof RemoteError && err.code === "invalid_params" && typed.fromCopy)) throw err;
        const retyped = typeWith(data, fields, await schemas.fetch());
        if (JSON.stringify(retyped) === JSON.stringify(typed.data)) throw err;
        result = await request(retyped);
      }
    }
    cli.print(result);
    warn(cli, result);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

/** `--key value` pairs onto `base`, typed by the event's params; a key the params do not have is a usage error. */
function typeWith(base: Record<string, unknown>, fields: readonly Pair[], params: HelpResult["params"]): Record<string, unknown> {
  const data = applyPairs(base, fields, params);
  refuseUnknownKeys(fields, params);
  return data;
}

/** The event's params schema: the kept copy when there is one, else (and when the copy may be stale) the daemon's own, kept for the next call. */
class Schemas {
  constructor(
    private readonly client: Client,
    private readonly event: string,
    private readonly cache: ParamsCache,
  ) {}

  async type(base: Record<string, unknown>, fields: readonly Pair[]): Promise<{ data: Record<string, unknown>; fromCopy: boolean }> {
    const copy = this.cache.get(this.event);
    if (copy !== undefined) {
      try {
        return { data: typeWith(base, fields, copy), fromCopy: true };
      } catch (err) {
        // A key or value the copy refuses may be one the daemon's newer schema takes: its own schema decides.
        if (!(err instanceof UsageError)) throw err;
      }
    }
    return { data: typeWith(base, fields, await this.fetch()), fromCopy: false };
  }

  async fetch(): Promise<HelpResult["params"]> {
    const described = await this.client.request<HelpResult>("system:help", { event: this.event });
    this.cache.put(described);
    return described.params;
  }
}

/** system:help for `event`, or undefined when the daemon does not answer it. */
async function describe(cli: Cli, event: string): Promise<HelpResult | undefined> {
  try {
    const client = await cli.connect();
    try {
      return await client.request<HelpResult>("system:help", { event });
    } finally {
      await client.close();
    }
  } catch {
    return undefined;
  }
}

function readData(path: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --from-file ${path}: ${(err as Error).message}`);
  }
}

