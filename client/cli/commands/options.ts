/** A verb's options: `--name value`, repeatable `--name value`, on/off `--flag`, and positionals. */
import { unknownOption, UsageError, type Argv } from "../args.js";

export type OptionKind = "value" | "flag" | "list";

export interface Options<S extends Record<string, OptionKind>> {
  positionals: string[];
  /** `--name value` options given (the last one wins when repeated). */
  values: Partial<Record<{ [K in keyof S]: S[K] extends "value" ? K : never }[keyof S], string>>;
  /** Every value of each repeatable option, in order. */
  lists: Record<{ [K in keyof S]: S[K] extends "list" ? K : never }[keyof S], string[]>;
  /** The on/off options that are on. */
  flags: Set<string>;
}

/** A verb's options by `spec`, at most `max` positionals; anything else is a usage error. */
export function parseOptions<const S extends Record<string, OptionKind>>(argv: Argv, spec: S, max: number): Options<S> {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const flags = new Set<string>();
  for (const [name, kind] of Object.entries(spec)) if (kind === "list") lists[name] = [];
  for (const { key, value } of argv.pairs) {
    const kind = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (kind === undefined) throw unknownOption(key, Object.keys(spec));
    if (kind === "flag") {
      if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--${key} takes no value (got ${value})`);
      if (value === "false") flags.delete(key);
      else flags.add(key);
    } else if (value === true) {
      throw new UsageError(`--${key} needs a value`);
    } else if (kind === "list") {
      lists[key]!.push(value);
    } else {
      values[key] = value;
    }
  }
  if (argv.positionals.length > max) throw new UsageError(`unexpected argument ${argv.positionals[max]}`);
  return { positionals: argv.positionals, values, lists, flags } as Options<S>;
}

export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${option} must be one of ${allowed.join(", ")} (got ${value})`);
  return value as T;
}

export function onlyPositionals(argv: Argv, max: number): string[] {
  if (argv.pairs.length > 0) throw unknownOption(argv.pairs[0]!.key, []);
  if (argv.positionals.length > max) throw new UsageError(`unexpected argument ${argv.positionals[max]}`);
  return argv.positionals;
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

export function parseObject(text: string, what: string): Record<string, unknown> {
  const value = parseJson(text, what);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
