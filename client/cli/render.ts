/** How `pat` prints results (pure): readable text on a terminal, JSON when piped or with --json. */
import type { Push } from "../../daemon/core/protocol.js";

/** A YAML-like outline of any JSON value. */
export function outline(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return value
      .map((item) => {
        const body = outline(item, indent + "  ");
        return `${indent}- ${isBlock(item) ? body.trimStart() : body}`;
      })
      .join("\n");
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return entries
      .map(([key, item]) => (isBlock(item) ? `${indent}${key}:\n${outline(item, indent + "  ")}` : `${indent}${key}: ${outline(item)}`))
      .join("\n");
  }
  if (typeof value === "string") return looksLikeOtherType(value) ? JSON.stringify(value) : value;
  return String(value);
}

/** Strings that would read as something else unquoted: numbers, literals, multi-line or padded text. */
function looksLikeOtherType(text: string): boolean {
  return /\n|: | #|^\s|\s$|^$|^(true|false|null|\[\]|\{\})$/.test(text) || Number.isFinite(Number(text));
}

function isBlock(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

export interface EventSummary {
  event: string;
  summary: string;
}

export function renderDiscover(events: readonly EventSummary[]): string {
  const width = Math.max(...events.map((e) => e.event.length));
  return events.map((e) => `${e.event.padEnd(width)}  ${e.summary}`).join("\n");
}

export interface PatternSummary {
  name: string;
  type: string;
  version: string;
  description: string;
}

export function renderPatterns(patterns: readonly PatternSummary[]): string {
  if (patterns.length === 0) return "(no patterns)";
  const name = Math.max(...patterns.map((p) => p.name.length));
  const type = Math.max(...patterns.map((p) => p.type.length));
  const version = Math.max(...patterns.map((p) => p.version.length));
  return patterns
    .map((p) => `${p.name.padEnd(name)}  ${p.type.padEnd(type)}  ${p.version.padEnd(version)}  ${firstSentence(p.description)}`)
    .join("\n");
}

export interface VersionSummary {
  version: string | null;
  commit: string;
  date: string;
  author: string;
  op: string;
  message: string;
}

export function renderHistory(versions: readonly VersionSummary[]): string {
  return versions
    .map((v) => `${v.commit.slice(0, 10)}  ${v.date.slice(0, 19).replace("T", " ")}  ${(v.version ?? "-").padEnd(8)}  ${v.op.padEnd(8)}  ${v.author.padEnd(12)}  ${v.message}`)
    .join("\n");
}

function firstSentence(text: string): string {
  const end = text.search(/\.(\s|$)/);
  const sentence = end === -1 ? text : text.slice(0, end + 1);
  return sentence.length > 100 ? sentence.slice(0, 99) + "…" : sentence;
}

interface ParamSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  items?: ParamSchema;
  anyOf?: ParamSchema[];
}

export interface HelpResult {
  event: string;
  summary: string;
  description: string;
  params: { properties?: Record<string, ParamSchema>; required?: string[] };
  example: { event: string; data: unknown };
}

export function renderHelp(help: HelpResult): string {
  const lines = [`${help.event} — ${help.summary}`];
  if (help.description !== help.summary) lines.push("", help.description);
  const properties = Object.entries(help.params.properties ?? {});
  lines.push("", properties.length === 0 ? "params: none" : "params:");
  const width = Math.max(0, ...properties.map(([name]) => name.length));
  for (const [name, schema] of properties) {
    const required = help.params.required?.includes(name) ? " (required)" : "";
    const fallback = schema.default === undefined ? "" : ` [default ${JSON.stringify(schema.default)}]`;
    const described = schema.description ?? schema.items?.description;
    const description = described === undefined ? "" : `  ${described}`;
    lines.push(`  --${name.padEnd(width)}  ${typeName(schema)}${required}${fallback}${description}`);
  }
  lines.push("", "example:", `  pat send ${help.example.event} ${shellQuote(JSON.stringify(help.example.data))}`);
  return lines.join("\n");
}

/** Single-quoted for a POSIX shell, so the line can be pasted as it is. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

function typeName(schema: ParamSchema): string {
  if (schema.anyOf !== undefined) return schema.anyOf.map(typeName).join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
  return type === "array" && schema.items !== undefined ? `array of ${typeName(schema.items)}` : type;
}

export function renderPush(push: Push): string {
  const time = push.ts.slice(11, 23);
  const data = JSON.stringify(push.data);
  return `${time}  #${push.seq}  ${push.event}  ${data.length > 200 ? data.slice(0, 199) + "…" : data}`;
}

export interface ErrorLike {
  code: string;
  message: string;
  details?: Record<string, unknown> | undefined;
}

export function renderError(error: ErrorLike): string {
  const details = error.details === undefined || Object.keys(error.details).length === 0 ? "" : `\n${outline(error.details, "  ")}`;
  return `error [${error.code}]: ${error.message}${details}`;
}
