/**
 * Resolves a composition into one document (SPEC §4.3, pure over a loader):
 * the `extends` chain and `mixins` merged (maps deeply, child wins;
 * `components` by name; other lists replaced), then `{{var}}` placeholders
 * substituted in one pass over the parsed tree.
 */
import { DaemonError } from "../../../core/errors.js";
import type { Issue } from "./document.js";
import { formatRef, parseRef, type Ref } from "./ref.js";

export type Loader = (ref: Ref) => Promise<Record<string, unknown> | undefined>;

export interface Composed {
  composition: Record<string, unknown>;
  prompt?: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const MAX_CHAIN = 32;

export async function compose(ref: Ref, load: Loader, variables: Record<string, unknown> = {}): Promise<Composed> {
  const resolved = await resolve(ref, load, []);
  const values = { ...declaredDefaults(resolved.variables), ...variables };
  const composition = substitute(resolved, values) as Record<string, unknown>;
  return composition.type === "profile" ? { composition, prompt: promptOf(composition) } : { composition };
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

/** One pass over the tree: substituted text is never scanned again. The `variables` section is left as declared. */
function substitute(node: unknown, values: Record<string, unknown>, path: string[] = []): unknown {
  if (typeof node === "string") return substituteText(node, values, path);
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, values, [...path, String(i)]));
  if (!isMap(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = path.length === 0 && key === "variables" ? value : substitute(value, values, [...path, key]);
  }
  return out;
}

function substituteText(text: string, values: Record<string, unknown>, path: string[]): unknown {
  const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/.exec(text);
  // A value that is only a placeholder takes the variable's own type (a number stays a number).
  if (whole !== null) return lookup(whole[1]!, values, path);
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(name, values, path);
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

function lookup(name: string, values: Record<string, unknown>, path: string[]): unknown {
  if (!Object.hasOwn(values, name) || values[name] === undefined) {
    const message = `unresolved placeholder {{${name}}} at ${path.join(".")}: declare it in variables or pass it`;
    throw new DaemonError("invalid_params", message, { issues: [{ path: path.join("."), message }], placeholder: name, path: path.join(".") });
  }
  return values[name];
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
