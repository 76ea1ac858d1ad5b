/** What every `pat` command gets: resolved paths, output mode and a way to reach the daemon. */
import type { Config } from "../../daemon/config.js";
import { Client } from "../client.js";
import type { Argv, OutputFormat } from "./args.js";
import { serialize, type Output } from "./output.js";
import { outline } from "./render.js";
import type { Paint } from "./paint.js";
import type { Layout } from "./table.js";

export const EXIT = { ok: 0, remote: 1, usage: 2, unreachable: 3 } as const;

export interface Cli {
  readonly config: Config;
  readonly argv: Argv;
  /** text, json or yaml: -o/--output (--json), else the command's default (output.ts). */
  readonly format: OutputFormat;
  /** JSON output: format is json. */
  readonly json: boolean;
  /** Width and colour for text on stdout. */
  readonly layout: Layout & { readonly paint: Paint };
  /** Colour for text on stderr. */
  readonly errPaint: Paint;
  out(text: string): void;
  err(text: string): void;
  connect(): Promise<Client>;
  /** Prints a result: as JSON or YAML, or as text, `human(data)` (an outline by default); an empty text prints nothing. */
  print(data: unknown, human?: (data: never) => string): void;
}

export function createCli(config: Config, argv: Argv, output: Output): Cli {
  const { format } = output;
  return {
    config,
    argv,
    format,
    json: format === "json",
    layout: { width: output.width, paint: output.paint },
    errPaint: output.errPaint,
    out: (text) => process.stdout.write(text + "\n"),
    err: (text) => process.stderr.write(text + "\n"),
    connect: async () => Client.connect({ socketPath: config.socketPath, agentId: await personAgent(argv.globals.agentId, process.env) }),
    print(data, human) {
      const text = format === "text" ? (human === undefined ? outline(data) : human(data as never)) : serialize(data, format);
      if (text !== "") process.stdout.write(text + "\n");
    },
  };
}

/**
 * Who pat's requests are from: --agent-id, else PATTERND_AGENT_ID, else the
 * person at the keyboard (person.ts): a change a person makes is never
 * attributed to "patternd".
 */
export async function personAgent(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (flag !== undefined) return flag;
  if (env.PATTERND_AGENT_ID !== undefined && env.PATTERND_AGENT_ID !== "") return env.PATTERND_AGENT_ID;
  return (await import("./person.js")).personName(env);
}
