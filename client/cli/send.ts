/** `pat send` and `pat call`: one event, its data from a JSON object, a file and --key value pairs, its reply printed as it came. */
import { readFileSync } from "node:fs";
import { applyPairs, refuseUnknownKeys, UsageError } from "./args.js";
import { EXIT, type Cli } from "./context.js";
import { parseObject } from "./commands/options.js";
import { warn } from "./commands/reply.js";
import type { HelpResult } from "./render-help.js";
import { dataArgument } from "./send-hints.js";

export async function send(cli: Cli, verb: "send" | "call"): Promise<number> {
  const { positionals, pairs } = cli.argv;
  const [event, inline, ...extra] = positionals;
  if (event === undefined) throw new UsageError(verb === "send" ? "pat send needs an event name, e.g. pat send system:health" : `pat call needs an event name, e.g. pat call task:summarize '{"text": "..."}'`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; pass data as one JSON object or --key value pairs`);
  const fromFile = pairs.filter((pair) => pair.key === "from-file");
  const fields = pairs.filter((pair) => pair.key !== "from-file");
  let data: Record<string, unknown> = {};
  for (const { value } of fromFile) {
    if (value === true) throw new UsageError("--from-file needs a path (or - for standard input)");
    Object.assign(data, parseObject(readData(value), `--from-file ${value}`));
  }
  if (inline !== undefined) Object.assign(data, await dataArgument(inline, event, () => describe(cli, event)));
  const client = await cli.connect();
  try {
    if (fields.length > 0) {
      const described = await client.request<HelpResult>("system:help", { event });
      data = applyPairs(data, fields, described.params);
      refuseUnknownKeys(fields, described.params);
    }
    // pat call waits for the handler: the daemon's deadline (the handler's timeout_ms) ends the wait, not ours.
    const result = await client.request(event, data, verb === "call" ? { timeoutMs: 0 } : {});
    cli.print(result);
    warn(cli, result);
    return EXIT.ok;
  } finally {
    await client.close();
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

