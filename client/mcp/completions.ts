/**
 * completion/complete: what a host offers while a person fills in a
 * resource template or a prompt's arguments. pattern://{name}: the names
 * that start with what was typed (composition:list's prefix, so it stays a
 * binary search at any store size); pattern://{name}@{version}: the tagged
 * versions of the name given; use_<pattern>: a variable's default.
 */
import type { CompleteRequestParams, CompleteResult } from "@modelcontextprotocol/server";
import type { DaemonLink } from "./daemon-link.js";
import { invalidParams, patternOfPrompt, RESOURCE_TEMPLATES, variablesOf, type Variable } from "./patterns.js";

/** MCP's most values in one completion. */
const MAX_VALUES = 100;

export async function complete(link: DaemonLink, params: CompleteRequestParams): Promise<CompleteResult> {
  const { ref, argument } = params;
  if (ref.type === "ref/resource") {
    const template = RESOURCE_TEMPLATES.find((candidate) => candidate.uriTemplate === ref.uri);
    if (template === undefined) throw invalidParams(`no resource template ${ref.uri}: they are ${RESOURCE_TEMPLATES.map((t) => t.uriTemplate).join(" and ")}`);
    if (argument.name === "name") return names(link, argument.value);
    if (argument.name === "version" && template.uriTemplate.includes("{version}")) return versions(link, params.context?.arguments?.name, argument.value);
    throw invalidParams(`${ref.uri} has no argument ${argument.name}`);
  }
  const pattern = patternOfPrompt(ref.name);
  const found = await link.request<{ composition: { variables?: unknown } }>("composition:get", { name: pattern });
  const declared = new Map(variablesOf(found.composition.variables));
  const variable = declared.get(argument.name);
  if (variable === undefined) throw invalidParams(`${ref.name} has no argument ${argument.name}; its arguments: ${[...declared.keys()].join(", ") || "none"}`);
  return fromList(suggestions(variable).filter((value) => value.startsWith(argument.value)));
}

async function names(link: DaemonLink, typed: string): Promise<CompleteResult> {
  const page = await link.request<{ compositions: { name: string }[]; total: number; next_cursor?: string }>("composition:list", {
    prefix: typed,
    limit: MAX_VALUES,
    fields: ["name"],
  });
  return { completion: { values: page.compositions.map((entry) => entry.name), total: page.total, hasMore: page.next_cursor !== undefined } };
}

/** The tagged versions of `name`, newest first; none until a name is given. */
async function versions(link: DaemonLink, name: string | undefined, typed: string): Promise<CompleteResult> {
  if (name === undefined || name === "") return fromList([]);
  const history = await link.request<{ versions: { version: string | null }[] }>("composition:history", { name });
  const tagged = history.versions.map((entry) => entry.version).filter((version): version is string => version !== null);
  return fromList([...new Set(tagged)].filter((version) => version.startsWith(typed)));
}

/** A variable's default, as the text a prompt argument is (SPEC §4.1 gives variables a type, a default and a description). */
function suggestions(variable: Variable): string[] {
  if (!("default" in variable) || variable.default === undefined || variable.default === null) return [];
  return [typeof variable.default === "string" ? variable.default : JSON.stringify(variable.default)];
}

function fromList(values: string[]): CompleteResult {
  return { completion: { values: values.slice(0, MAX_VALUES), total: values.length, hasMore: values.length > MAX_VALUES } };
}
