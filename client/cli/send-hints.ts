/**
 * What `pat send` and `pat call` say when the data is wrong (issue 16): in
 * pat's own terms, `--name tournament`, where the daemon (which answers
 * agents too) says `name is required (e.g. "tournament")`.
 */
import { UsageError } from "./args.js";
import { PLAIN, type Paint } from "./paint.js";
import { errorHead, outline, renderError, type ErrorLike } from "./render.js";
import type { HelpResult } from "./render-help.js";

/** The daemon's wording for a missing field (daemon/core/invalid-params.ts). */
const REQUIRED = /^(?<path>\S+) is required(?: \(e\.g\. (?<example>.+)\))?$/;

interface Issue {
  path: string;
  message: string;
}

/**
 * invalid_params with each issue on its own line, a missing field as the
 * option that gives it: `name is required (e.g. --name tournament)`.
 * Any other error as renderError prints it.
 */
export function renderSendError(error: ErrorLike, paint: Paint = PLAIN): string {
  const issues = error.details?.issues;
  if (error.code !== "invalid_params" || !Array.isArray(issues) || !issues.every(isIssue)) return renderError(error, paint);
  const rest = Object.fromEntries(Object.entries(error.details ?? {}).filter(([key]) => key !== "issues"));
  const lines = [`${errorHead(error, paint)}: ${error.message}`, ...issues.map((issue) => `  ${asOption(issue)}`)];
  if (Object.keys(rest).length > 0) lines.push(outline(rest, "  "));
  return lines.join("\n");
}

function isIssue(value: unknown): value is Issue {
  return typeof value === "object" && value !== null && typeof (value as Issue).path === "string" && typeof (value as Issue).message === "string";
}

function asOption(issue: Issue): string {
  const missing = REQUIRED.exec(issue.message)?.groups;
  if (missing === undefined) return issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
  const example = missing.example === undefined ? "VALUE" : optionValue(missing.example);
  return `${missing.path} is required (e.g. --${missing.path} ${example})`;
}

/** A JSON example as a word after --key: text as it is (quoted for the shell when it must be), anything else as its JSON. */
function optionValue(json: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json) as unknown;
  } catch {
    return shellWord(json);
  }
  return shellWord(typeof value === "string" ? value : JSON.stringify(value));
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * The data argument of `pat send EVENT DATA` as an object. A bare word
 * (`pat send composition:get tournament`) is a value meant for one of the
 * event's fields: a usage error suggesting `--FIELD word`, the field read
 * from the event's params (`describe`, asked only then) when the daemon
 * answers; `key=value` suggests `--key value`.
 */
export async function dataArgument(text: string, event: string, describe: () => Promise<HelpResult | undefined>): Promise<Record<string, unknown>> {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw new UsageError(`the data argument is not JSON: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("the data argument must be a JSON object");
    return value as Record<string, unknown>;
  }
  const assignment = /^(?<key>[A-Za-z_][\w.-]*)=(?<value>.*)$/s.exec(trimmed)?.groups;
  if (assignment !== undefined) {
    throw new UsageError(`the data argument ${JSON.stringify(text)} is not JSON; did you mean --${assignment.key} ${shellWord(assignment.value!)}?`);
  }
  const field = mainField(await describe());
  if (field === undefined) {
    throw new UsageError(`the data argument ${JSON.stringify(text)} is not JSON: pass one JSON object or --key value pairs, e.g. --name ${shellWord(text)} (pat help ${event} lists the keys)`);
  }
  const object = shellWord(JSON.stringify({ [field]: value(text) }));
  throw new UsageError(`the data argument ${JSON.stringify(text)} is not JSON; did you mean --${field} ${shellWord(text)}? (or the object ${object})`);
}

/** A word as the value a JSON object would hold: a number or literal as such, else the text. */
function value(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The field a lone value most likely fills: the first required one taking text, else the first required, else the first taking text. */
function mainField(help: HelpResult | undefined): string | undefined {
  if (help === undefined) return undefined;
  const properties = Object.entries(help.params.properties ?? {});
  const required = new Set(help.params.required ?? []);
  const takesText = ([, schema]: (typeof properties)[number]) => acceptsText(schema);
  const pick =
    properties.find((entry) => required.has(entry[0]) && takesText(entry)) ??
    properties.find((entry) => required.has(entry[0])) ??
    properties.find(takesText);
  return pick?.[0];
}

function acceptsText(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return false;
  const { type, anyOf, oneOf } = schema as { type?: unknown; anyOf?: unknown[]; oneOf?: unknown[] };
  return (Array.isArray(type) ? type : [type]).includes("string") || [...(anyOf ?? []), ...(oneOf ?? [])].some(acceptsText);
}
