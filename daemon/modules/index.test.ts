/**
 * Every built-in event declares its result schema (system:help,
 * system:discover and docs/protocol.md show it), and the schema turns into
 * a JSON Schema the way the registry sends it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../config.js";
import { Bus } from "../core/bus.js";
import { manualClock } from "../core/clock.js";
import { silentLog } from "../core/log.js";
import { Registry } from "../core/registry.js";
import { Router } from "../core/router.js";
import { createModules } from "./index.js";

const home = mkdtempSync(join(tmpdir(), "pd-results-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function builtInEvents() {
  const registry = new Registry();
  const bus = new Bus(() => undefined);
  const clock = manualClock(0);
  const log = silentLog();
  const router = new Router(registry, bus, clock, log);
  const modules = createModules({
    config: resolveConfig({}, {}, home),
    clock,
    log,
    bus,
    registry,
    dispatch: (call) => router.dispatch(call),
    requestStop: () => undefined,
    status: () => ({ version: "0.0.0", pid: 1, startedAt: 0, connections: 0, events: 0, daemonLogDropped: 0, modules: {} }),
  });
  for (const module of modules) for (const def of module.events) registry.add(def);
  return { registry, events: modules.flatMap((module) => module.events) };
}

describe("result schemas", () => {
  const { registry, events } = builtInEvents();

  it("every built-in event declares one", () => {
    expect(events.length).toBeGreaterThan(30);
    expect(events.filter((def) => def.result === undefined).map((def) => def.name)).toEqual([]);
  });

  it("each is a JSON Schema of an object (or of alternatives that are objects), as system:help sends it", () => {
    for (const def of events) {
      const schema = registry.resultJsonSchema(def)!;
      const alternatives = (schema.anyOf as Record<string, unknown>[] | undefined) ?? [schema];
      for (const alternative of alternatives) expect(alternative.type, def.name).toBe("object");
      expect(registry.describe(def).result, def.name).toBe(schema);
    }
  });
});
