/**
 * `pat mcp` driven by the official MCP client SDK, as a host drives it:
 * over stdio (the process spawned by the client) and over Streamable HTTP,
 * against a real daemon and its git store.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, startDaemon, waitFor, type Daemon } from "./harness.js";
import { pat, PAT } from "./pat-process.js";
import { expectStoreTruth, git, trailers } from "./store-git.js";

afterAll(cleanup);

interface TextResult {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

function bridgeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith("PATTERND_")) env[key] = value;
  return env;
}

async function stdioClient(home: string, extra: string[] = []): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [PAT, "--home", home, "mcp", ...extra], env: bridgeEnv(), stderr: "pipe" });
  const client = new Client({ name: "e2e-host", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<TextResult> {
  return (await client.callTool({ name, arguments: args })) as TextResult;
}

function structured<T = Record<string, unknown>>(result: TextResult): T {
  expect(result.isError, result.content[0]?.text).toBeFalsy();
  return result.structuredContent as T;
}

describe("pat mcp over stdio", () => {
  let daemon: Daemon;
  let client: Client;
  let store: string;

  beforeAll(async () => {
    daemon = await startDaemon();
    store = join(daemon.home, "var", "lib", "compositions");
    ({ client } = await stdioClient(daemon.home));
  });
  afterAll(async () => {
    await client.close();
  });

  it("lists the curated tools in a fixed order, named as MCP allows, with hints from each event's effect", async () => {
    const first = (await client.listTools()).tools;
    const second = (await client.listTools()).tools;
    expect(second.map((tool) => tool.name)).toEqual(first.map((tool) => tool.name));
    for (const tool of first) expect(tool.name).toMatch(/^[a-zA-Z0-9_-]+$/);
    const byName = new Map(first.map((tool) => [tool.name, tool]));
    expect(first.map((tool) => tool.name).slice(0, 3)).toEqual(["composition_select", "composition_discover", "composition_get"]);
    for (const name of ["composition_fork", "composition_merge", "composition_track_decision", "event_emit", "state_set", "events_wait", "handler_next", "handler_reply", "patternd_call", "patternd_help"]) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(byName.get("composition_select")!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get("composition_fork")!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(byName.get("state_set")!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    // The schema is the daemon's own: select's task bounds as system:help gives them.
    const help = await (await daemon.client()).request<{ params: { properties: Record<string, unknown> } }>("system:help", { event: "composition:select" });
    expect(byName.get("composition_select")!.inputSchema.properties).toEqual(help.params.properties);
    expect(first.some((tool) => /shutdown|delete/.test(tool.name))).toBe(false);
    for (const tool of first) expect(tool.description!.length).toBeGreaterThan(40);
  });

  it("lists patterns as resources and orchestration patterns as prompts", async () => {
    const { resources } = await client.listResources();
    const tournament = resources.find((resource) => resource.uri === "pattern://tournament");
    expect(tournament).toMatchObject({ name: "tournament", mimeType: "application/yaml" });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(["pattern://{name}", "pattern://{name}@{version}"]);
    const read = await client.readResource({ uri: "pattern://tournament@2.0.0" });
    expect((read.contents[0] as { text: string }).text).toMatch(/^name: tournament$/m);

    const { prompts } = await client.listPrompts();
    const use = prompts.find((prompt) => prompt.name === "use_tournament");
    expect(use).toBeDefined();
    const variables = Object.keys((await (await daemon.client()).request<{ composition: { variables: Record<string, unknown> } }>("composition:get", { name: "tournament" })).composition.variables);
    expect(use!.arguments!.map((argument) => argument.name).sort()).toEqual(variables.sort());
    const got = await client.getPrompt({ name: "use_tournament", arguments: { [variables[0]!]: "run_from_mcp" } });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toMatch(/composition_track_decision \{pattern: "tournament"/);
    expect(text).toContain("run_from_mcp");
    expect(text).toMatch(/```yaml\nname: tournament/);
  });

  it("selects, forks, merges and records a decision: each change is in the store and in git", async () => {
    const selected = structured<{ selected: string; candidates: unknown[] }>(await call(client, "composition_select", { task: "rank many drafts by pairwise matches", limit: 3 }));
    expect(selected.selected).toBe("tournament");

    const fork = structured<{ name: string; version: string; commit: string }>(
      await call(client, "composition_fork", { parent: "tournament", name: "tournament_mcp", reason: "try it from an MCP host", modifications: { "metadata.tags": ["tournament", "mcp"] } }),
    );
    expect(fork).toMatchObject({ name: "tournament_mcp", version: "0.1.0" });
    expect(await git(store, "rev-parse", "tournament_mcp@0.1.0^{commit}")).toBe(`${fork.commit}\n`);
    expect(await trailers(store, fork.commit)).toMatchObject({ Op: "fork", Pattern: "tournament_mcp", Agent: "mcp:e2e-host" });

    structured(await call(client, "composition_update", { name: "tournament_mcp", set: { description: "Tournament, tried from an MCP host." } }));
    const dry = structured<{ dry_run: boolean; clean: boolean }>(await call(client, "composition_merge", { source: "tournament_mcp", dry_run: true }));
    expect(dry).toMatchObject({ dry_run: true, clean: true });
    const headBefore = await git(store, "rev-parse", "HEAD");
    expect(await git(store, "rev-parse", "HEAD")).toBe(headBefore); // a dry run writes nothing
    const merged = structured<{ version: string; commit: string }>(await call(client, "composition_merge", { source: "tournament_mcp" }));
    expect(merged.version).toBe("2.1.0");
    expect(await trailers(store, merged.commit)).toMatchObject({ Op: "merge" });
    expect(await git(store, "show", "HEAD:orchestrations/tournament.yaml")).toContain("Tournament, tried from an MCP host.");

    const tracked = structured<{ tracked: { id: string } }>(await call(client, "composition_track_decision", { pattern: "tournament", decision: "pairwise via MCP", outcome: "success", confidence: 0.9 }));
    const log = await readFile(join(store, "orchestrations", "tournament_decisions.yaml"), "utf8");
    expect(log).toContain(tracked.tracked.id);
    expect(log).toContain("pairwise via MCP");
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain")) === "", 10_000, 50);
    await expectStoreTruth(store, { tournament: "2.1.0", tournament_mcp: "0.1.1" });
  });

  it("returns an invalid argument as a tool error the model can read, and keeps the daemon's error code", async () => {
    const invalid = await call(client, "composition_select", { task: 5 });
    expect(invalid.isError).toBe(true);
    expect(invalid.content[0]!.text).toMatch(/^invalid_params: .*"task".*expected string/);

    const missing = await call(client, "composition_get", { name: "no_such_pattern" });
    expect(missing.isError).toBe(true);
    expect(missing.structuredContent).toMatchObject({ error: { code: "not_found" } });
    expect(missing.content[0]!.text).toMatch(/^not_found: /);

    const composed = structured<{ composition: { name: string }; unresolved: unknown[] }>(await call(client, "composition_get", { name: "tournament", variables: {} }));
    expect(composed.composition.name).toBe("tournament");
    expect(Array.isArray(composed.unresolved)).toBe(true);
  });

  it("never reaches shutdown or delete, even through patternd_call", async () => {
    for (const event of ["system:shutdown", "composition:delete", "state:delete"]) {
      const refused = await call(client, "patternd_call", { event, data: { name: "tournament", key: "x" } });
      expect(refused.isError, event).toBe(true);
      expect(refused.structuredContent).toMatchObject({ error: { code: "forbidden" } });
    }
    expect(structured<{ status: string }>(await call(client, "patternd_call", { event: "system:health" })).status).toBe("ok");
    const listed = structured<{ events: { event: string; effect: string }[] }>(await call(client, "patternd_help", {}));
    expect(listed.events.find((entry) => entry.event === "composition:history")).toMatchObject({ effect: "read" });
    expect(listed.events.some((entry) => entry.event === "system:shutdown")).toBe(false);
  });

  it("events_wait returns what another client emitted, and its cursor continues without gaps or repeats", async () => {
    const other = await daemon.client();
    const waiting = call(client, "events_wait", { patterns: ["run:*"], timeout_s: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.request("event:emit", { event: "run:started", data: { run: "r1" } });
    const first = structured<{ events: { event: string; seq: number; data: unknown }[]; next_since_seq: number; timed_out: boolean }>(await waiting);
    expect(first.events.map((event) => [event.event, event.data])).toEqual([["run:started", { run: "r1" }]]);
    expect(first.timed_out).toBe(false);

    await other.request("event:emit", { event: "run:step", data: { n: 1 } });
    await other.request("event:emit", { event: "run:step", data: { n: 2 } });
    const second = structured<{ events: { event: string; data: { n: number } }[]; next_since_seq: number }>(
      await call(client, "events_wait", { patterns: ["run:*"], since_seq: first.next_since_seq, timeout_s: 5 }),
    );
    expect(second.events.map((event) => event.data.n)).toEqual([1, 2]);
    const third = structured<{ events: unknown[]; timed_out: boolean }>(await call(client, "events_wait", { patterns: ["run:*"], since_seq: second.next_since_seq, timeout_s: 0.3 }));
    expect(third).toMatchObject({ events: [], timed_out: true });
  });

  it("answers calls another agent makes, as an event handler (handler_next, handler_reply)", async () => {
    const caller = await daemon.client();
    // The first handler_next registers the event; the caller's request waits for the answer.
    const idle = structured<{ call: unknown }>(await call(client, "handler_next", { events: ["review:request"], timeout_s: 0.2 }));
    expect(idle.call).toBeNull();
    const answer = caller.request("review:request", { draft: "v1" });
    const taken = structured<{ call: { call_id: string; event: string; data: unknown } }>(await call(client, "handler_next", { events: ["review:request"], timeout_s: 10 }));
    expect(taken.call).toMatchObject({ event: "review:request", data: { draft: "v1" } });
    structured(await call(client, "handler_reply", { call_id: taken.call.call_id, ok: true, data: { verdict: "ship it" } }));
    expect(await answer).toEqual({ verdict: "ship it" });
    const again = await call(client, "handler_reply", { call_id: taken.call.call_id, ok: true, data: {} });
    expect(again.structuredContent).toMatchObject({ error: { code: "not_found" } });
  });

  it("survives a daemon restart: the next call through the same session works", async () => {
    await daemon.stop();
    daemon = await startDaemon({ home: daemon.home });
    const state = structured<{ key: string; value: unknown }>(await call(client, "state_set", { key: "after.restart", value: 1 }));
    expect(state).toMatchObject({ key: "after.restart", value: 1 });
    expect(await (await daemon.client()).request("state:get", { key: "after.restart" })).toMatchObject({ value: 1 });
  });
});

describe("pat mcp: start, stop and modes", () => {
  it("exits 0 promptly when the host closes its stdin", async () => {
    const daemon = await startDaemon();
    const { client, transport } = await stdioClient(daemon.home);
    const pid = transport.pid!;
    await client.listTools();
    await client.close();
    await waitFor("pat mcp to exit", () => !alive(pid), 5_000, 20);
  });

  it("with --read-only lists only tools that change nothing, and patternd_call sends only read events", async () => {
    const daemon = await startDaemon();
    const { client } = await stdioClient(daemon.home, ["--read-only"]);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("composition_select");
    expect(names).toContain("patternd_call");
    for (const name of ["composition_fork", "composition_merge", "state_set", "event_emit", "handler_next"]) expect(names).not.toContain(name);
    const write = await call(client, "patternd_call", { event: "state:set", data: { key: "a", value: 1 } });
    expect(write.structuredContent).toMatchObject({ error: { code: "read_only" } });
    const hidden = await call(client, "composition_fork", { parent: "tournament", name: "x1", reason: "r" });
    expect(hidden.structuredContent).toMatchObject({ error: { code: "read_only" } });
    expect(structured<{ key: string }>(await call(client, "patternd_call", { event: "state:list", data: {} }))).toBeDefined();
    await client.close();
  });

  it("starts the home's daemon when none answers, and with --no-start exits 3 instead", async () => {
    const home = await makeHome();
    const refused = await pat(home, ["mcp", "--no-start"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/patternd is not running.*--no-start/s);

    const { client } = await stdioClient(home);
    expect(structured<{ selected: string }>(await call(client, "composition_select", { task: "majority vote among agents" })).selected).toBeTruthy();
    await client.close();
    expect((await pat(home, ["stop"])).code).toBe(0);
  });

  it("refuses --http on an address that is not loopback", async () => {
    const home = await makeHome();
    const run = await pat(home, ["mcp", "--http", "0.0.0.0:0"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/loopback only/);
  });

  it("serves Streamable HTTP on loopback to clients of both protocol eras, and refuses a foreign Origin", async () => {
    const daemon = await startDaemon();
    const bridge = spawn(process.execPath, [PAT, "--home", daemon.home, "mcp", "--http", "127.0.0.1:0"], { env: bridgeEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    bridge.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    try {
      const url = await waitFor("the bridge's URL", () => /patternd MCP on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1], 15_000);
      for (const era of ["legacy", "modern"] as const) {
        const client = new Client({ name: `http-${era}`, version: "1.0.0" }, era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {});
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
        expect(client.getProtocolEra()).toBe(era);
        expect((await client.listTools()).tools.length).toBeGreaterThan(15);
        expect(structured<{ key: string }>(await call(client, "state_set", { key: `http.${era}`, value: era })).key).toBe(`http.${era}`);
        await client.close();
      }
      const foreign = await fetch(url, {
        method: "POST",
        headers: { origin: "http://evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(foreign.status).toBe(403);
    } finally {
      bridge.kill("SIGTERM");
      await new Promise((resolve) => bridge.once("exit", resolve));
    }
    expect(bridge.exitCode).toBe(0);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
