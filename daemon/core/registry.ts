/** The table of events: name → definition. Knows no namespace by name. */
import { z } from "zod";
import type { EventDef } from "./event.js";
import { parameterTable, type Parameter } from "./parameters.js";
import { suggest } from "./suggest.js";

/** One event in system:discover: KSI's `parameters` table beside the JSON Schema `params` (SPEC §3). */
export interface EventDescription {
  event: string;
  summary: string;
  parameters: Record<string, Parameter>;
  params: Record<string, unknown>;
}

export class Registry {
  private readonly events = new Map<string, EventDef>();
  private readonly schemas = new Map<string, Record<string, unknown>>();

  add(def: EventDef): void {
    if (this.events.has(def.name)) throw new Error(`event ${def.name} is registered twice`);
    this.events.set(def.name, def);
  }

  get(name: string): EventDef | undefined {
    return this.events.get(name);
  }

  names(): string[] {
    return [...this.events.keys()].sort();
  }

  /** Events whose name starts with `namespace:` (all when omitted), sorted by name. */
  list(namespace?: string): EventDef[] {
    const prefix = namespace === undefined ? "" : `${namespace}:`;
    return this.names()
      .filter((name) => name.startsWith(prefix))
      .map((name) => this.events.get(name)!);
  }

  describe(def: EventDef): EventDescription {
    const params = this.jsonSchema(def);
    return { event: def.name, summary: def.summary, parameters: parameterTable(params), params };
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
    let schema = this.schemas.get(def.name);
    if (schema === undefined) {
      schema = z.toJSONSchema(def.params, { io: "input", unrepresentable: "any" });
      delete schema.$schema;
      this.schemas.set(def.name, schema);
    }
    return schema;
  }

  suggestionsFor(name: string): string[] {
    return suggest(name, this.events.keys());
  }
}
