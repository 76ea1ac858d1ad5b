/**
 * Every event declares its reply (issue 16): a real daemon's replies to the
 * events agents lean on parse with the zod result schema the event
 * declares, system:help and system:discover send that schema, and `pat help`
 * shows it. The harness also runs every daemon with PATTERND_CHECK_RESULTS=1,
 * so a reply that drifts from its schema fails whatever test sees it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { resolveConfig } from "../daemon/config.js";
import { Bus } from "../daemon/core/bus.js";
import { manualClock } from "../daemon/core/clock.js";
import type { EventDef } from "../daemon/core/event.js";
import { silentLog } from "../daemon/core/log.js";
import { Registry } from "../daemon/core/registry.js";
import { Router } from "../daemon/core/router.js";
import { createModules } from "../daemon/modules/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { hasScript, patOnTerminal } from "./pat-process.js";

afterAll(cleanup);

/** The built-in events' definitions, as the daemon builds them (nothing started). */
function definitions(): Map<string, EventDef> {
  const home = mkdtempSync(join(tmpdir(), "pd-defs-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const registry = new Registry();
  const bus = new Bus(() => undefined);
  const router = new Router(registry, bus, manualClock(0), silentLog());
  const modules = createModules({
    config: resolveConfig({}, {}, home),
    clock: manualClock(0),
    log: silentLog(),
    bus,
    registry,
    dispatch: (call) => router.dispatch(call),
    requestStop: () => undefined,
    status: () => ({ version: "0.0.0", pid: 1, startedAt: 0, connections: 0, events: 0, daemonLogDropped: 0, modules: {} }),
  });
  return new Map(modules.flatMap((module) => module.events).map((def) => [def.name, def]));
}

describe("real replies parse with their event's declared result schema", () => {
  const defs = definitions();
  let d: Daemon;
  let client: Client;

  beforeAll(async () => {
    d = await startDaemon();
    client = await d.client({ agentId: "schema-test" });
  });

  async function replyOf(event: string, data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await client.request<Record<string, unknown>>(event, data);
    const parsed = defs.get(event)!.result!.safeParse(reply);
    expect(parsed.success, `${event}: ${JSON.stringify(parsed.error?.issues)}\n${JSON.stringify(reply)}`).toBe(true);
    return reply;
  }

  it("composition:select, fork, merge (dry run and for real), diff, lineage, get, history", async () => {
    const selected = await replyOf("composition:select", { task: "run a tournament between prompts" });
    expect(selected).toHaveProperty("candidates");
    expect(Object.keys((selected.candidates as Record<string, unknown>[])[0]!)).toEqual(expect.arrayContaining(["name", "score", "breakdown", "reasons"]));
    await replyOf("composition:fork", { parent: "tournament", name: "tournament_schema", reason: "schema check", modifications: { "metadata.tags": ["schema"] } });
    await replyOf("composition:update", { name: "tournament_schema", set: { description: "changed in the fork" } });
    const dry = await replyOf("composition:merge", { source: "tournament_schema", dry_run: true });
    expect(dry).toMatchObject({ dry_run: true, clean: true });
    await replyOf("composition:merge", { source: "tournament_schema" });
    await replyOf("composition:diff", { left: "tournament@2.0.0", right: "tournament" });
    await replyOf("composition:diff", { left: "tournament@2.0.0", right: "tournament", format: "unified" });
    await replyOf("composition:lineage", { name: "tournament_schema" });
    await replyOf("composition:lineage", { name: "tournament_schema", format: "mermaid" });
    await replyOf("composition:get", { name: "tournament" });
    await replyOf("composition:get", { name: "tournament", format: "yaml" });
    await replyOf("composition:history", { name: "tournament" });
    await replyOf("composition:list", {});
    await replyOf("composition:discover", { tags: ["tournament"], fields: ["metadata.tags"] });
    await replyOf("composition:track_decision", { pattern: "tournament", decision: "3 judges", outcome: "sucess" });
    await replyOf("composition:decisions", { pattern: "tournament" });
    await replyOf("composition:validate", { name: "tournament" });
    await replyOf("composition:reload", {});
  });

  it("event:emit immediate, delayed (and replaced), conditional; event:scheduled, cancel", async () => {
    const now = await replyOf("event:emit", { event: "schema:ping", data: { n: 1 } });
    expect(now).toMatchObject({ emitted: true });
    const inner = await replyOf("event:emit", { event: "state:set", data: { key: "schema.k", value: 1 } });
    expect(inner).toMatchObject({ emitted: true, result: { key: "schema.k", version: 1 } });
    const later = await replyOf("event:emit", { event: "schema:later", delay: 60, key: "schema.later" });
    expect(later).toMatchObject({ scheduled: true });
    expect(await replyOf("event:emit", { event: "schema:later", delay: 90, key: "schema.later" })).toHaveProperty("replaced", later.schedule_id);
    expect(await replyOf("event:emit", { event: "schema:never", condition: false })).toEqual({ emitted: false, reason: "condition_false" });
    await replyOf("event:scheduled", {});
    await replyOf("event:cancel", { key: "schema.later" });
  });

  it("state:set / get / list / delete, system:*, monitor:*", async () => {
    await replyOf("state:set", { key: "schema.a", value: { nested: [1, "two"] } });
    const again = await replyOf("state:set", { key: "schema.a", value: 2, expect: { version: 1 } });
    expect(again).toMatchObject({ version: 2, previous: { nested: [1, "two"] } });
    expect(await replyOf("state:get", { key: "schema.a" })).toEqual({ key: "schema.a", value: 2, version: 2 });
    await replyOf("state:list", { prefix: "schema" });
    await replyOf("state:delete", { key: "schema.a" });
    await replyOf("system:health", {});
    await replyOf("system:hello", { agent_id: "schema-test" });
    await replyOf("system:discover", {});
    await replyOf("system:help", { event: "composition:select" });
    const subscribed = await replyOf("monitor:subscribe", { patterns: ["schema:*"] });
    await replyOf("monitor:unsubscribe", { subscription: subscribed.subscription });
    await replyOf("monitor:get_events", { limit: 5 });
    await replyOf("handler:list", {});
  });

  it("system:help and system:discover send each built-in event's result as a JSON Schema; a connected handler's event has none", async () => {
    const help = await client.request<{ result?: { properties?: Record<string, unknown>; required?: string[] } }>("system:help", { event: "composition:select" });
    expect(Object.keys(help.result!.properties!)).toEqual(["selected", "explanation", "candidates", "trial"]);
    expect(help.result!.required).toEqual(["selected", "candidates"]);
    const merge = await client.request<{ result?: { anyOf?: { description?: string }[] } }>("system:help", { event: "composition:merge" });
    expect(merge.result!.anyOf!.map((shape) => shape.description)).toEqual(["merged", "nothing to merge", "dry_run: nothing written"]);

    const handler = await d.client();
    await handler.handle("schema:ask", () => ({ answer: 42 }));
    const discovered = await client.request<{ events: Record<string, { event: string; result?: unknown }[]> }>("system:discover", {});
    const all = Object.values(discovered.events).flat();
    expect(all.filter((event) => event.result === undefined).map((event) => event.event)).toEqual(["schema:ask"]);
    await handler.close();
  });

  it.skipIf(!hasScript)("pat help EVENT on a terminal shows the reply's fields and the enum values", () => {
    const select = patOnTerminal(d.home, ["help", "composition:select"]);
    expect(select.code, select.stdout).toBe(0);
    expect(select.stdout).toMatch(/^reply:\r?$/m);
    expect(select.stdout).toMatch(/^ {2}selected +string \| null +the best candidate's name/m);
    expect(select.stdout).toMatch(/^ {2}candidates +array of object +each \{name, version, score, breakdown, reasons, requirements_met, unmet\}/m);
    const lineage = patOnTerminal(d.home, ["help", "composition:lineage"]);
    expect(lineage.stdout).toMatch(/--format +one of json, tree, mermaid, dot \[default "json"\]/);
    const merge = patOnTerminal(d.home, ["help", "composition:merge"]);
    expect(merge.stdout).toMatch(/--strategy +one of auto, ours, theirs/);
    expect(merge.stdout).toMatch(/^ {2}dry_run: nothing written:\r?$/m);
    const set = patOnTerminal(d.home, ["help", "state:set"]);
    expect(set.stdout).toMatch(/--value +any JSON value \(required\)/);
  });
});
