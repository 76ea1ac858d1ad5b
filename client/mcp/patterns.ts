/**
 * The store as MCP resources and prompts. Resources: pattern://{name} (the
 * current YAML) and pattern://{name}@{version} (a tagged version), listed by
 * name. Prompts: use_<name> for each orchestration pattern, its variables as
 * arguments, returning the composed pattern and how to run it with the
 * tools. Lists are paged with an opaque cursor: for resources, the one
 * composition:list gives (stable in name order while patterns come and
 * go); for prompts, an offset into composition:discover's results.
 */
import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import { stringify } from "yaml";
import type { DaemonLink } from "./daemon-link.js";

export const PATTERN_MIME = "application/yaml";
export const PROMPT_PREFIX = "use_";
const RESOURCE_PAGE = 500;
const PROMPT_PAGE = 100;

export const RESOURCE_TEMPLATES = [
  {
    uriTemplate: "pattern://{name}",
    name: "pattern",
    title: "A pattern, current version",
    description: "The YAML of a pattern in the patternd store as it is now (an edit not yet committed included).",
    mimeType: PATTERN_MIME,
  },
  {
    uriTemplate: "pattern://{name}@{version}",
    name: "pattern_version",
    title: "A pattern at a tagged version",
    description: "The YAML of a pattern as tagged name@version in the store's git history (see composition_history or lineage).",
    mimeType: PATTERN_MIME,
  },
];

const PROMPTS_ARE = `prompts are ${PROMPT_PREFIX}NAME for orchestration patterns (prompts/list names them)`;

/** -32602, invalid params, with a message that shows the right form. */
export function invalidParams(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

/** The pattern a prompt name stands for; -32602 for a name that is not use_<pattern>. */
export function patternOfPrompt(name: string): string {
  if (!name.startsWith(PROMPT_PREFIX)) throw invalidParams(`no prompt ${name}: ${PROMPTS_ARE}`);
  return name.slice(PROMPT_PREFIX.length);
}

/** The URI of a pattern's current version. */
export function patternUri(name: string): string {
  return `pattern://${name}`;
}

/** A ref from a pattern:// URI, or undefined when the URI is not one. */
export function refOfUri(uri: string): string | undefined {
  const match = /^pattern:\/\/([^/?#]+)$/.exec(uri);
  return match === null ? undefined : decodeURIComponent(match[1]!);
}

export function offsetOfCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return 0;
  return /^\d{1,9}$/.test(cursor) ? Number(cursor) : undefined;
}

interface Listed {
  name: string;
  type: string;
  version: string;
  description?: string;
}

export async function listResources(link: DaemonLink, cursor: string | undefined) {
  const page = await link.request<{ compositions: Listed[]; next_cursor?: string }>("composition:list", {
    fields: ["type", "version", "description"],
    limit: RESOURCE_PAGE,
    ...(cursor === undefined ? {} : { cursor }),
  });
  return {
    resources: page.compositions.map((entry) => ({
      uri: patternUri(entry.name),
      name: entry.name,
      title: `${entry.name}@${entry.version} (${entry.type})`,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      mimeType: PATTERN_MIME,
    })),
    ...(page.next_cursor === undefined ? {} : { nextCursor: page.next_cursor }),
  };
}

export async function readResource(link: DaemonLink, uri: string, ref: string) {
  const found = await link.request<{ yaml: string }>("composition:get", { name: ref, format: "yaml" });
  return { contents: [{ uri, mimeType: PATTERN_MIME, text: found.yaml }] };
}

export interface Variable {
  type?: string;
  default?: unknown;
  description?: string;
  required?: boolean;
}

/** A pattern's variables as KSI writes them ({name: {type, default, description}}) or as plain defaults ({name: value}). */
export function variablesOf(declared: unknown): [string, Variable][] {
  if (typeof declared !== "object" || declared === null || Array.isArray(declared)) return [];
  return Object.entries(declared as Record<string, unknown>).map(([name, value]) => {
    const described = typeof value === "object" && value !== null && !Array.isArray(value) && ("default" in value || "type" in value || "description" in value);
    return [name, described ? (value as Variable) : { default: value }];
  });
}

export async function listPrompts(link: DaemonLink, offset: number) {
  const found = await link.request<{ compositions: (Listed & { variables?: unknown })[]; total: number }>("composition:discover", {
    type: "orchestration",
    fields: ["description", "variables"],
    limit: PROMPT_PAGE,
    offset,
  });
  return {
    prompts: found.compositions.map((pattern) => ({
      name: `${PROMPT_PREFIX}${pattern.name}`,
      title: `Use ${pattern.name}`,
      description: `Run the orchestration pattern ${pattern.name}@${pattern.version}: ${pattern.description ?? "(no description)"}`,
      arguments: variablesOf(pattern.variables).map(([name, variable]) => ({
        name,
        description: [variable.description, variable.type === undefined ? undefined : `(${variable.type})`, "default" in variable ? `default ${JSON.stringify(variable.default)}` : undefined]
          .filter((part) => part !== undefined)
          .join(" "),
        required: variable.required === true && !("default" in variable),
      })),
    })),
    ...(offset + PROMPT_PAGE < found.total ? { nextCursor: String(offset + PROMPT_PAGE) } : {}),
  };
}

/**
 * A prompt argument (always text) as the value its variable takes: by the
 * declared type, else by the default's type; a type the bridge does not
 * know takes JSON when the text parses. Text that is not of the type is
 * refused with the form it takes, rather than composed in as a string.
 */
export function argumentValue(name: string, variable: Variable, text: string): unknown {
  const kind = variable.type ?? kindOf(variable.default);
  const refuse = (form: string) => {
    throw invalidParams(`${name} is ${form}${"default" in variable ? ` (default ${JSON.stringify(variable.default)})` : ""}; got ${JSON.stringify(text)}`);
  };
  switch (kind) {
    case "string":
    case "text":
    case undefined:
      return text;
    case "integer":
      return /^[-+]?\d{1,15}$/.test(text.trim()) ? Number(text) : refuse("a whole number, e.g. 3");
    case "number": {
      const value = text.trim() === "" ? NaN : Number(text);
      return Number.isFinite(value) ? value : refuse("a number, e.g. 0.7");
    }
    case "boolean":
      return text === "true" ? true : text === "false" ? false : refuse("true or false");
    case "list":
    case "array": {
      const value = parsed(text);
      return Array.isArray(value) ? value : refuse('a JSON list, e.g. ["a", "b"]');
    }
    case "object":
    case "map": {
      const value = parsed(text);
      return typeof value === "object" && value !== null && !Array.isArray(value) ? value : refuse('a JSON object, e.g. {"k": 1}');
    }
    default: {
      const value = parsed(text);
      return value === undefined ? text : value;
    }
  }
}

function kindOf(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "boolean") return "boolean";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object" && value !== null) return "object";
  return typeof value === "string" ? "string" : undefined;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The type a pattern declares (KSI's component_type where type is absent). */
function typeOf(composition: Record<string, unknown>): string | undefined {
  const type = composition.type ?? composition.component_type;
  return typeof type === "string" ? type : undefined;
}

export async function getPrompt(link: DaemonLink, pattern: string, args: Record<string, string>) {
  const current = await link.request<{ composition: Record<string, unknown> }>("composition:get", { name: pattern });
  const type = typeOf(current.composition);
  if (type !== "orchestration") throw invalidParams(`no prompt ${PROMPT_PREFIX}${pattern}: ${pattern} is ${type === undefined ? "a pattern without a type" : `a ${type}`}, and ${PROMPTS_ARE}`);
  const declared = new Map(variablesOf(current.composition.variables));
  const unknown = Object.keys(args).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    throw invalidParams(`${PROMPT_PREFIX}${pattern} has no argument ${unknown.join(", ")}; its arguments: ${[...declared.keys()].join(", ") || "none"}`);
  }
  const variables = Object.fromEntries(Object.entries(args).map(([name, text]) => [name, argumentValue(name, declared.get(name)!, text)]));
  const composed = await link.request<{ composition: Record<string, unknown>; unresolved?: { name: string }[] }>("composition:compose", { name: pattern, variables });
  const { version, description } = composed.composition as { version?: string; description?: string };
  const unresolved = (composed.unresolved ?? []).map((entry) => entry.name);
  const text = [
    `Run the orchestration pattern ${pattern}@${version ?? "?"} from patternd for the task at hand.`,
    description ?? "",
    "",
    "How to run it:",
    "1. Follow the pattern below (extends, mixins and the given variables are already resolved): its agents, orchestration logic and stopping rules.",
    "2. Keep shared run state with state_set / state_get; schedule timeouts and follow-ups with event_emit (delay, condition), cancel them with event_cancel.",
    `3. Record each decision that matters and how the run went: composition_track_decision {pattern: "${pattern}", decision, outcome: success|failure, confidence}. Later selections learn from it.`,
    `4. To change the pattern for this task, fork it (composition_fork, parent "${pattern}") rather than editing it; if the fork does better, merge it back with composition_merge (dry_run first).`,
    ...(unresolved.length > 0 ? ["", `Placeholders left for run time: ${unresolved.map((name) => `{{${name}}}`).join(", ")}.`] : []),
    "",
    "```yaml",
    stringify(composed.composition).trimEnd(),
    "```",
  ].join("\n");
  return {
    description: `${pattern}@${version ?? "?"} composed with ${Object.keys(variables).length} variable(s)`,
    messages: [{ role: "user" as const, content: { type: "text" as const, text } }],
  };
}
