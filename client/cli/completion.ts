/**
 * Shell completion (pure): the words typed after `pat` → what the last one
 * could become. The shell scripts (completion-scripts.ts) only pass the
 * words to `pat __complete` and show what it prints, so every rule lives
 * here: commands, each command's options (read from its usage line), option
 * values, and the positional arguments a command takes: event names and
 * pattern names, which only the running daemon knows (complete.ts asks it).
 */
import { LOG_LEVELS } from "../../daemon/config.js";
import { GLOBAL_OPTIONS } from "./args.js";

/** What `planCompletion` needs of a command: its COMMANDS row. */
export interface CommandShape {
  readonly usage: string;
  readonly summary: string;
  readonly flags?: readonly string[];
}

/** Where candidates come from; the daemon's lists are fetched only when a plan names them. */
export type Source =
  | { readonly kind: "words"; readonly words: readonly string[] }
  | { readonly kind: "commands" }
  | { readonly kind: "events" }
  | { readonly kind: "namespaces" }
  | { readonly kind: "patterns" }
  /** `--name` of each parameter of the event (pat send EVENT --…). */
  | { readonly kind: "params"; readonly event: string }
  /** The values a parameter's schema allows (an enum, true/false). */
  | { readonly kind: "param-values"; readonly event: string; readonly param: string }
  /** Let the shell complete file (or directory) names. */
  | { readonly kind: "file" }
  | { readonly kind: "dir" };

export interface Plan {
  /** The word being completed (maybe empty). */
  readonly current: string;
  readonly sources: readonly Source[];
  /** --home / --socket typed before it: which daemon to ask. */
  readonly home?: string;
  readonly socket?: string;
}

/** What the daemon said, for the sources that need it; missing when it did not answer. */
export interface DaemonLists {
  readonly events?: readonly string[];
  readonly patterns?: readonly string[];
  /** The params JSON Schema of the event a params source names. */
  readonly params?: unknown;
}

/** The first line `pat __complete` prints to hand a word to the shell's own file completion. */
export const FILE_DIRECTIVE = ":file";
export const DIR_DIRECTIVE = ":dir";

const patterns: Source = { kind: "patterns" };
const events: Source = { kind: "events" };

/**
 * The positional arguments of the commands that take names: the sources of
 * each position in order; `rest` completes every later one. Keys are
 * COMMANDS rows (a unit test checks).
 */
export const POSITIONAL_SOURCES: Readonly<Record<string, { readonly at: readonly (readonly Source[])[]; readonly rest?: readonly Source[] }>> = {
  send: { at: [[events]] },
  call: { at: [[events]] },
  handle: { at: [[events]] },
  // pat help X: a command or an event.
  help: { at: [[{ kind: "commands" }, events]] },
  watch: { at: [], rest: [events] },
  discover: { at: [[{ kind: "namespaces" }]] },
  show: { at: [[patterns]] },
  history: { at: [[patterns]] },
  lineage: { at: [[patterns]] },
  fork: { at: [[patterns]] },
  merge: { at: [[patterns]] },
  diff: { at: [[patterns], [patterns]] },
  decide: { at: [[patterns]] },
  decisions: { at: [[patterns]] },
  set: { at: [[patterns]] },
  completion: { at: [[{ kind: "words", words: ["bash", "zsh", "fish"] }]] },
};

/** What an option's placeholder in a usage line (`--store DIR`) completes to. */
const PLACEHOLDER_SOURCES: Readonly<Record<string, Source>> = {
  DIR: { kind: "dir" },
  F: { kind: "file" },
  "F|-": { kind: "file" },
  PATH: { kind: "file" },
  TARGET: patterns,
  LEVEL: { kind: "words", words: LOG_LEVELS },
};

/** The global options that take a value (the others are on/off), and what the value is. */
const GLOBAL_VALUES: Readonly<Record<string, Source | null>> = {
  home: { kind: "dir" },
  socket: { kind: "file" },
  "agent-id": null,
  output: { kind: "words", words: ["text", "json", "yaml"] },
};

/** The commands whose --options are the parameters of the event they send. */
const EVENT_COMMANDS: ReadonlySet<string> = new Set(["send", "call"]);

/** A command's options from its usage line and summary: name → what its value completes to (null: a value, nothing to offer; "flag": none). */
export function optionsOf(command: CommandShape): Map<string, Source | null | "flag"> {
  const options = new Map<string, Source | null | "flag">();
  for (const match of `${command.usage} ${command.summary}`.matchAll(/--([a-z][a-z0-9-]*)(?:[ =]([^\s\]]+))?/g)) {
    const [, name, placeholder] = match as unknown as [string, string, string | undefined];
    if (options.has(name)) continue;
    if (command.flags?.includes(name) === true || placeholder === undefined || placeholder.startsWith("-")) {
      options.set(name, "flag");
    } else if (Object.hasOwn(PLACEHOLDER_SOURCES, placeholder)) {
      options.set(name, PLACEHOLDER_SOURCES[placeholder]!);
    } else if (/^[a-z]+(\|[a-z]+)+$/.test(placeholder)) {
      options.set(name, { kind: "words", words: placeholder.split("|") });
    } else {
      options.set(name, null);
    }
  }
  return options;
}

/**
 * `words`: everything typed after `pat`, the last being the word under the
 * cursor (empty after a space). Reads them the way pat's argument parser
 * does (args.ts splitArgv): `--` ends options, an option takes the next
 * word as its value unless it is on/off.
 */
export function planCompletion(words: readonly string[], commands: Readonly<Record<string, CommandShape>>): Plan {
  const current = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const globals: { home?: string; socket?: string } = {};
  const positionals: string[] = [];
  let afterDashes = false;
  /** The option whose value the next word is. */
  let pending: { name: string; source: Source | null } | undefined;
  const commandOf = (): CommandShape | undefined => (positionals[0] !== undefined && Object.hasOwn(commands, positionals[0]) ? commands[positionals[0]] : undefined);
  const valueSource = (name: string): { name: string; source: Source | null } | undefined => {
    if (Object.hasOwn(GLOBAL_VALUES, name)) return { name, source: GLOBAL_VALUES[name]! };
    if (GLOBAL_OPTIONS.includes(name)) return undefined;
    const command = commandOf();
    if (command === undefined) return { name, source: null };
    if (EVENT_COMMANDS.has(positionals[0]!)) {
      if (name === "from-file") return { name, source: { kind: "file" } };
      return positionals[1] === undefined ? { name, source: null } : { name, source: { kind: "param-values", event: positionals[1], param: name } };
    }
    const option = optionsOf(command).get(name);
    return option === "flag" ? undefined : { name, source: option ?? null };
  };
  for (const word of before) {
    if (pending !== undefined) {
      const { name } = pending;
      pending = undefined;
      // Like splitArgv: an option followed by another option got no value.
      if (!word.startsWith("--")) {
        if (name === "home" || name === "socket") globals[name] = word;
        continue;
      }
    }
    if (afterDashes || !word.startsWith("--")) {
      if (afterDashes || word !== "-h") positionals.push(word);
    } else if (word === "--") {
      afterDashes = true;
    } else if (!word.includes("=")) {
      pending = valueSource(word.slice(2));
    } else if (word.startsWith("--home=") || word.startsWith("--socket=")) {
      const eq = word.indexOf("=");
      globals[word.slice(2, eq) as "home" | "socket"] = word.slice(eq + 1);
    }
  }
  const plan = (sources: readonly Source[]): Plan => ({ current, sources, ...globals });
  if (pending !== undefined && !current.startsWith("--")) return plan(pending.source === null ? [] : [pending.source]);
  const verb = positionals[0];
  if (verb === undefined) return plan(current.startsWith("-") ? [{ kind: "words", words: globalOptions() }] : [{ kind: "commands" }]);
  const command = Object.hasOwn(commands, verb) ? commands[verb] : undefined;
  if (command === undefined) return plan([]);
  // pat handle EVENT -- COMMAND ARGS...: a program and its arguments, most often files.
  if (afterDashes) return plan(verb === "handle" ? [{ kind: "file" }] : []);
  if (current.startsWith("-")) {
    if (EVENT_COMMANDS.has(verb)) {
      const own: Source = { kind: "words", words: ["--from-file", ...globalOptions()] };
      return plan(positionals[1] === undefined ? [own] : [{ kind: "params", event: positionals[1] }, own]);
    }
    return plan([{ kind: "words", words: [...[...optionsOf(command).keys()].map((name) => `--${name}`), ...globalOptions()] }]);
  }
  const index = positionals.length - 1;
  const positional = Object.hasOwn(POSITIONAL_SOURCES, verb) ? POSITIONAL_SOURCES[verb]! : { at: [] };
  return plan(positional.at[index] ?? positional.rest ?? []);
}

function globalOptions(): string[] {
  return GLOBAL_OPTIONS.map((name) => `--${name}`);
}

/** The plan's candidates that start with the current word, in order, without repeats; a file or dir source yields its directive alone. */
export function candidates(plan: Plan, commandNames: readonly string[], lists: DaemonLists): string[] {
  const all: string[] = [];
  for (const source of plan.sources) {
    if (source.kind === "file") return [FILE_DIRECTIVE];
    if (source.kind === "dir") return [DIR_DIRECTIVE];
    all.push(...wordsOf(source, commandNames, lists));
  }
  return [...new Set(all.filter((word) => word.startsWith(plan.current)))];
}

function wordsOf(source: Source, commandNames: readonly string[], lists: DaemonLists): readonly string[] {
  switch (source.kind) {
    case "words":
      return source.words;
    case "commands":
      return commandNames;
    case "events":
      return lists.events ?? [];
    case "namespaces":
      return [...new Set((lists.events ?? []).map((event) => event.slice(0, event.indexOf(":"))))];
    case "patterns":
      return lists.patterns ?? [];
    case "params":
      return Object.keys(propertiesOf(lists.params)).map((name) => `--${name}`);
    case "param-values":
      return valuesOf(propertiesOf(lists.params)[source.param]);
    case "file":
    case "dir":
      return [];
  }
}

type Schema = { properties?: Record<string, Schema>; enum?: unknown[]; const?: unknown; type?: string | string[]; anyOf?: Schema[]; oneOf?: Schema[] };

function propertiesOf(schema: unknown): Record<string, Schema> {
  const properties = (schema as Schema | null | undefined)?.properties;
  return typeof properties === "object" && properties !== null ? properties : {};
}

/** The values a parameter takes when they can be listed: an enum, a const, true/false; else none. */
function valuesOf(schema: Schema | undefined): string[] {
  if (schema === undefined) return [];
  const values: string[] = [];
  for (const value of schema.enum ?? (schema.const === undefined ? [] : [schema.const])) values.push(String(value));
  const types = typeof schema.type === "string" ? [schema.type] : (schema.type ?? []);
  if (types.includes("boolean")) values.push("true", "false");
  for (const option of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) values.push(...valuesOf(option));
  return values;
}
