/** The table of events: name → definition. Knows no namespace by name. */
import { z } from "zod";
import type { EventDef, EventEffect } from "./event.js";
import { parameterTable, type Parameter } from "./parameters.js";
import { suggest } from "./suggest.js";

/** One event in system:discover: KSI's `parameters` table beside the JSON Schema `params` (SPEC §3). */
export interface EventDescription {
  event: string;
  summary: string;
  effect: EventEffect;
  parameters: Record<string, Parameter>;
  params: Record<string, unknown>;
  /** The reply's JSON Schema (what a successful reply's data holds); absent for events that declare none (a connected handler's). */
  result?: Record<string, unknown>;
}

/**
 * Events the daemon does not define itself but can route (issue 14: events
 * owned by connected handlers). Looked up after the built-in events, so it
 * can never shadow one.
 */
export interface EventSource {
  get(name: string): EventDef | undefined;
  /** The names it would list in system:discover, sorted. */
  names(): readonly string[];
}

export class Registry {
  private readonly events = new Map<string, EventDef>();
  private readonly schemas = new Map<string, Record<string, unknown>>();
  private readonly resultSchemas = new Map<string, Record<string, unknown>>();
  private readonly sources: EventSource[] = [];
  /** Namespaces with a built-in event: a name there that is not one is a typo, not an event waiting for a handler. */
  private readonly builtInNamespaces = new Set<string>();

  add(def: EventDef): void {
    if (this.events.has(def.name)) throw new Error(`event ${def.name} is registered twice`);
    this.events.set(def.name, def);
    this.builtInNamespaces.add(namespaceOf(def.name));
  }

  /** True when `name` is in a namespace of built-in events (`state:nope`), false for one only a connected handler could own. */
  inBuiltInNamespace(name: string): boolean {
    return this.builtInNamespaces.has(namespaceOf(name));
  }

  addSource(source: EventSource): void {
    this.sources.push(source);
  }

  get(name: string): EventDef | undefined {
    const def = this.events.get(name);
    if (def !== undefined || this.sources.length === 0) return def;
    for (const source of this.sources) {
      const found = source.get(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Every listed event name, built-in and from sources, sorted. */
  names(): string[] {
    const names = new Set(this.events.keys());
    for (const source of this.sources) for (const name of source.names()) names.add(name);
    return [...names].sort();
  }

  /** Events whose name starts with `namespace:` (all when omitted), sorted by name. */
  list(namespace?: string): EventDef[] {
    const prefix = namespace === undefined ? "" : `${namespace}:`;
    const defs: EventDef[] = [];
    for (const name of this.names()) {
      if (!name.startsWith(prefix)) continue;
      const def = this.get(name);
      if (def !== undefined) defs.push(def);
    }
    return defs;
  }

  describe(def: EventDef): EventDescription {
    const params = this.jsonSchema(def);
    const result = this.resultJsonSchema(def);
    const description: EventDescription = { event: def.name, summary: def.summary, effect: def.effect ?? "write", parameters: parameterTable(params), params };
    if (result !== undefined) description.result = result;
    return description;
  }

  /**
   * Events by namespace, each list sorted by name: `{<namespace>: [description]}`,
   * the shape of system:discover (KSI's, so KSI's clients read it unchanged).
   */
  describeByNamespace(namespace?: string): Record<string, EventDescription[]> {
    const grouped: Record<string, EventDescription[]> = {};
    for (const def of this.list(namespace)) (grouped[def.name.slice(0, def.name.indexOf(":"))] ??= []).push(this.describe(def));
    return grouped;
  }

  /** The params' JSON Schema, as a client must send them (input side), computed once. */
  jsonSchema(def: EventDef): Record<string, unknown> {
    if (def.jsonSchema !== undefined) return def.jsonSchema;
    let schema = this.schemas.get(def.name);
    if (schema === undefined) {
      schema = z.toJSONSchema(def.params, { io: "input", unrepresentable: "any" });
      delete schema.$schema;
      this.schemas.set(def.name, schema);
    }
    return schema;
  }

  /** The reply's JSON Schema, as the daemon sends it (output side), computed once; undefined when the event declares none. */
  resultJsonSchema(def: EventDef): Record<string, unknown> | undefined {
    if (def.result === undefined) return undefined;
    let schema = this.resultSchemas.get(def.name);
    if (schema === undefined) {
      schema = z.toJSONSchema(def.result, { io: "output", unrepresentable: "any" });
      delete schema.$schema;
      this.resultSchemas.set(def.name, schema);
    }
    return schema;
  }

  suggestionsFor(name: string): string[] {
    return suggest(name, this.sources.length === 0 ? this.events.keys() : this.names());
  }
}

function namespaceOf(name: string): string {
  const colon = name.indexOf(":");
  return colon === -1 ? name : name.slice(0, colon);
}
