/**
 * What `pat` prints and how (issue 16): the format (text, JSON or YAML),
 * colour and the width tables fit. Text is the default for the named
 * commands wherever stdout goes, so `pat show X > x.yaml` writes YAML and
 * `pat ls | grep` greps lines; `pat send` and `pat call`, the raw protocol
 * commands agents parse, print JSON when stdout is not a terminal.
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { Globals, OutputFormat } from "./args.js";
import { paintFor, type Paint } from "./paint.js";

export interface Output {
  readonly format: OutputFormat;
  /** Colour of what goes to stdout, and to stderr: each stream is a terminal or not on its own. */
  readonly paint: Paint;
  readonly errPaint: Paint;
  /** Columns a table may fill; undefined when stdout is not a terminal (nothing is cut). */
  readonly width: number | undefined;
}

export interface Surroundings {
  readonly stdoutIsTty: boolean;
  readonly stderrIsTty: boolean;
  /** process.stdout.columns: 0 or undefined when the terminal does not say. */
  readonly columns: number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A terminal that does not say how wide it is (script(1) without one, some CI consoles) is taken as this wide. */
const DEFAULT_WIDTH = 80;

export function resolveOutput(globals: Pick<Globals, "output" | "noColor">, jsonWhenPiped: boolean, where: Surroundings): Output {
  const noColor = globals.noColor === true;
  return {
    format: globals.output ?? (jsonWhenPiped && !where.stdoutIsTty ? "json" : "text"),
    paint: paintFor(where.stdoutIsTty, where.env, noColor),
    errPaint: paintFor(where.stderrIsTty, where.env, noColor),
    width: where.stdoutIsTty ? terminalWidth(where) : undefined,
  };
}

/** $COLUMNS first (a person or a test can set it, as with Python's shutil), then what the terminal says. */
function terminalWidth({ env, columns }: Surroundings): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return columns !== undefined && columns > 0 ? columns : DEFAULT_WIDTH;
}

/** A result as JSON (indented) or YAML, without the final newline. */
export function serialize(data: unknown, format: "json" | "yaml"): string {
  if (format === "json") return JSON.stringify(data, null, 2);
  return yaml().stringify(data, { lineWidth: 0 }).trimEnd();
}

// Loaded when YAML is asked for: importing it costs every other pat call tens of milliseconds.
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)("yaml") as typeof Yaml;
  return yamlModule;
}
