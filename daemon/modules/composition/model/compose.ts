/**
 * Resolves a composition into one document (SPEC §4.3, pure over a loader):
 * the `extends` chain and `mixins` merged (maps deeply, child wins;
 * `components` by name; other lists replaced), then `{{var}}` placeholders
 * substituted in one pass over the parsed tree.
 */
import { DaemonError } from "../../../core/errors.js";
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
  const next = [...chain, ref.name];
  let base: Record<string, unknown> = {};
  if (typeof doc.extends === "string") base = await resolve(parseRef(doc.extends), load, next);
  if (Array.isArray(doc.mixins)) {
    for (const mixin of doc.mixins) if (typeof mixin === "string") base = merge(base, await resolve(parseRef(mixin), load, next));
  }
  const own = { ...doc };
  delete own.extends;
  delete own.mixins;
  return merge(base, own);
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
    if (isMap(spec) && ("default" in spec || "type" in spec || "description" in spec)) {
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

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
