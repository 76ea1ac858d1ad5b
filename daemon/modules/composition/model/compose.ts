/**
 * Resolves a composition into one document (SPEC §4.3, pure over a loader):
 * the `extends` chain and `mixins` merged (maps deeply, child wins;
 * `components` by name; other lists replaced), then `{{var}}` placeholders
 * substituted in one pass over the parsed tree.
 *
 * A placeholder nobody supplied stays as written: as in KSI, `{{agent_id}}`
 * and the like are filled by the agent at run time, so composing leaves
 * them for it and lists them as `unresolved`; `strict` makes them an error.
 * `{{name}}` and `{{a.b}}` (a path into a variable's value) are
 * placeholders; anything else between braces (`{{len(x)}}`,
 * `{{x|default}}`) is KSI's run-time template language and is never touched.
 */
import { DaemonError } from "../../../core/errors.js";
import type { Issue } from "./document.js";
import { formatRef, parseRef, type Ref } from "./ref.js";

export type Loader = (ref: Ref) => Promise<Record<string, unknown> | undefined>;

/** A placeholder left as written, and where (dotted paths, in document order). */
export interface Unresolved {
  name: string;
  paths: string[];
}

export interface Composed {
  composition: Record<string, unknown>;
  prompt?: string;
  unresolved: Unresolved[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/;
const MAX_CHAIN = 32;
/** The strict error's message names this many placeholders; details list them all. */
const NAMED_IN_MESSAGE = 5;

export async function compose(ref: Ref, load: Loader, variables: Record<string, unknown> = {}, strict = false): Promise<Composed> {
  const resolved = await resolve(ref, load, []);
  const values = { ...declaredDefaults(resolved.variables), ...variables };
  const missing = new Map<string, string[]>();
  const composition = substitute(resolved, values, missing) as Record<string, unknown>;
  const unresolved = [...missing].map(([name, paths]) => ({ name, paths }));
  if (strict && unresolved.length > 0) throw unresolvedError(unresolved);
  return composition.type === "profile" ? { composition, prompt: promptOf(composition), unresolved } : { composition, unresolved };
}

function unresolvedError(unresolved: readonly Unresolved[]): DaemonError {
  const named = unresolved.slice(0, NAMED_IN_MESSAGE).map((u) => `{{${u.name}}} at ${u.paths.join(", ")}`);
  const more = unresolved.length > NAMED_IN_MESSAGE ? ` and ${unresolved.length - NAMED_IN_MESSAGE} more` : "";
  const message =
    `strict: ${unresolved.length} placeholder${unresolved.length === 1 ? "" : "s"} nobody supplied: ${named.join("; ")}${more}. ` +
    "Pass them in variables or declare defaults; without strict they are left as written for the agent to fill at run time";
  const issues = unresolved.flatMap((u) => u.paths.map((path) => ({ path, message: `unresolved placeholder {{${u.name}}}: pass it in variables or declare a default` })));
  return new DaemonError("invalid_params", message, { issues, unresolved });
}

async function resolve(ref: Ref, load: Loader, chain: string[]): Promise<Record<string, unknown>> {
  const label = formatRef(ref);
  if (chain.includes(ref.name)) {
    const message = `inheritance cycle: ${[...chain, ref.name].join(" → ")}`;
    throw new DaemonError("invalid_params", message, { issues: [{ path: "extends", message }], cycle: [...chain, ref.name] });
  }
  if (chain.length >= MAX_CHAIN) {
    const message = `inheritance deeper than ${MAX_CHAIN}: ${chain.join(" → ")}`;
    throw new DaemonError("invalid_params", message, { issues: [{ path: "extends", message }] });
  }
  const doc = await load(ref);
  if (doc === undefined) {
    const from = chain.length === 0 ? "" : ` (needed by ${chain[chain.length - 1]})`;
    throw new DaemonError("not_found", `no composition ${label}${from}`, { ref: label, chain });
  }
  const own = { ...doc };
  delete own.extends;
  delete own.mixins;
  return merge(await base(doc, load, [...chain, ref.name]), own);
}

/** The document's extends chain, then its mixins, merged: what it inherits. */
async function base(doc: Record<string, unknown>, load: Loader, chain: string[]): Promise<Record<string, unknown>> {
  let inheritedFields: Record<string, unknown> = {};
  if (typeof doc.extends === "string") inheritedFields = await resolve(parseRef(doc.extends), load, chain);
  if (Array.isArray(doc.mixins)) {
    for (const mixin of doc.mixins) if (typeof mixin === "string") inheritedFields = merge(inheritedFields, await resolve(parseRef(mixin), load, chain));
  }
  return inheritedFields;
}

/** What `doc` inherits from its extends chain and mixins, resolved but not substituted (its own fields left out). */
export function inherited(doc: Record<string, unknown>, load: Loader): Promise<Record<string, unknown>> {
  return base(doc, load, [String(doc.name)]);
}

/**
 * A variable whose inherited definition ({type, default, description}) the
 * document replaces by a plain value: merging puts the value in place of
 * the whole definition, so its type and description are silently gone
 * (the value becomes the default). Usually meant was `{default: value}`,
 * which keeps the rest. One issue per such variable, at variables.<name>
 * (a warning: compose still works, with the value as the default).
 */
export function replacedDefinitions(doc: Record<string, unknown>, inheritedFields: Record<string, unknown>): Issue[] {
  const own = doc.variables;
  const parents = inheritedFields.variables;
  if (!isMap(own) || !isMap(parents)) return [];
  const from = [typeof doc.extends === "string" ? [doc.extends] : [], Array.isArray(doc.mixins) ? doc.mixins.filter((m) => typeof m === "string") : []].flat().join(", ");
  const issues: Issue[] = [];
  for (const [name, value] of Object.entries(own)) {
    const definition = Object.hasOwn(parents, name) ? parents[name] : undefined;
    if (!isDefinition(definition) || isMap(value)) continue;
    const lost = Object.keys(definition).filter((key) => key !== "default");
    // A definition that only gave a default loses nothing: the value is the new default.
    if (lost.length === 0) continue;
    const lostText = lost.length === 1 ? lost[0]! : `${lost.slice(0, -1).join(", ")} and ${lost.at(-1)!}`;
    issues.push({
      path: `variables.${name}`,
      message:
        `the definition of ${name} inherited from ${from} (${JSON.stringify(definition)}) is replaced by the value ${JSON.stringify(value)}: ` +
        `its ${lostText} ${lost.length === 1 ? "is" : "are"} lost. To change only the default, write ${name}: {default: ${JSON.stringify(value)}}`,
    });
  }
  return issues;
}

/** Child wins; maps merge deeply; `components` merge by name; other lists are replaced. */
export function merge(parent: Record<string, unknown>, child: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...parent };
  for (const [key, value] of Object.entries(child)) {
    const inherited = result[key];
    if (key === "components" && Array.isArray(inherited) && Array.isArray(value)) result[key] = mergeComponents(inherited, value);
    else if (isMap(inherited) && isMap(value)) result[key] = merge(inherited, value);
    else result[key] = value;
  }
  return result;
}

function mergeComponents(parent: unknown[], child: unknown[]): unknown[] {
  const merged = [...parent];
  for (const component of child) {
    const name = isMap(component) ? component.name : undefined;
    const index = name === undefined ? -1 : merged.findIndex((c) => isMap(c) && c.name === name);
    if (index === -1) merged.push(component);
    else merged[index] = component;
  }
  return merged;
}

function declaredDefaults(variables: unknown): Record<string, unknown> {
  if (!isMap(variables)) return {};
  const defaults: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables)) {
    if (isDefinition(spec)) {
      if ("default" in spec) defaults[name] = spec.default;
    } else {
      defaults[name] = spec;
    }
  }
  return defaults;
}

/**
 * One pass over the tree: substituted text is never scanned again. The
 * `variables` section is left as declared. Placeholders without a value
 * are left as written and collected in `missing` (name → paths).
 */
function substitute(node: unknown, values: Record<string, unknown>, missing: Map<string, string[]>, path: string[] = []): unknown {
  if (typeof node === "string") return substituteText(node, values, missing, path.join("."));
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, values, missing, [...path, String(i)]));
  if (!isMap(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = path.length === 0 && key === "variables" ? value : substitute(value, values, missing, [...path, key]);
  }
  return out;
}

function substituteText(text: string, values: Record<string, unknown>, missing: Map<string, string[]>, path: string): unknown {
  const whole = WHOLE_PLACEHOLDER.exec(text);
  // A value that is only a placeholder takes the variable's own type (a number stays a number).
  if (whole !== null) {
    const value = lookup(whole[1]!, values);
    if (value !== undefined) return value;
    note(missing, whole[1]!, path);
    return text;
  }
  return text.replace(PLACEHOLDER, (written, name: string) => {
    const value = lookup(name, values);
    if (value === undefined) {
      note(missing, name, path);
      return written;
    }
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

function note(missing: Map<string, string[]>, name: string, path: string): void {
  const paths = missing.get(name) ?? [];
  if (!paths.includes(path)) paths.push(path);
  missing.set(name, paths);
}

/**
 * A variable's value, undefined when there is none: the variable of that
 * name, or for `a.b.c` a path into variable `a`'s value (map keys, list
 * indexes). Only own keys: `constructor` is not a variable.
 */
function lookup(name: string, values: Record<string, unknown>): unknown {
  if (Object.hasOwn(values, name)) return values[name];
  const [head, ...rest] = name.split(".");
  if (rest.length === 0 || !Object.hasOwn(values, head!)) return undefined;
  let at: unknown = values[head!];
  for (const key of rest) {
    if (!(isMap(at) || Array.isArray(at)) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function promptOf(composition: Record<string, unknown>): string {
  const components = Array.isArray(composition.components) ? composition.components : [];
  return components
    .map((c) => (isMap(c) && typeof c.prompt === "string" ? c.prompt.trim() : ""))
    .filter((text) => text !== "")
    .join("\n\n");
}

/** A variable's definition, as opposed to its plain value: a map with a type, a default or a description. */
function isDefinition(spec: unknown): spec is Record<string, unknown> {
  return isMap(spec) && ("default" in spec || "type" in spec || "description" in spec);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
