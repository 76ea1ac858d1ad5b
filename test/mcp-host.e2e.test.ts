/**
 * `pat mcp` end to end (issue 15) with the official MCP client SDK, as a
 * host uses it: the compiled pat spawned over stdio (or left serving
 * Streamable HTTP), a real daemon in a temporary home, its store checked
 * with plain git, and other agents played by plain socket clients.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { connect, RemoteError, type Client as SocketClient } from "../client/index.js";
import { cleanup, makeHome, socketPathOf, startDaemon, waitFor, type Daemon } from "./harness.js";
import { callError, callOk, closeMcp, openHttp, openStdio, recordChanges, startHttp, type StdioSession } from "./mcp-client.js";
import { pat } from "./pat-process.js";
import { expectStoreTruth, git, head, snapshot, trailers } from "./store-git.js";

type Msg = Record<string, unknown>;

interface EventInfo {
  event: string;
  effect: string;
  params: Msg;
}

interface Waited {
  events: { event: string; seq: number; ts: string; data: Msg }[];
  next_since_seq: number;
  timed_out: boolean;
  daemon_restarted?: true;
}

const CURATED = [
  "composition_select",
  "composition_discover",
  "composition_get",
  "composition_fork",
  "composition_update",
  "composition_save",
  "composition_merge",
  "composition_diff",
  "composition_lineage",
  "composition_track_decision",
  "composition_decisions",
  "event_emit",
  "event_cancel",
  "state_get",
  "state_set",
];
const MUTATING = ["composition_fork", "composition_update", "composition_save", "composition_merge", "composition_track_decision", "event_emit", "event_cancel", "state_set", "handler_next", "handler_reply"];

/** The daemon of a home, asked over its socket (what pat status asks, without a pat process). */
async function health(home: string): Promise<{ status: string; pid: number }> {
  const client = await connect({ socketPath: socketPathOf(home) });
  try {
    return await client.request("system:health", {});
  } finally {
    await client.close();
  }
}

afterAll(async () => {
  await closeMcp();
  await cleanup();
});

let d: Daemon;
let store: string;
/** Another agent on the daemon's socket, beside the MCP host. */
let peer: SocketClient;

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  peer = await d.client({ agentId: "peer" });
});

describe("pat mcp over stdio (the 2026-07-28 era)", () => {
  let mcp: StdioSession;

  beforeAll(async () => {
    mcp = await openStdio(d.home);
  });

  // ------------------------------------------------------------------ lists

  it("lists the curated tools with valid names, in a fixed order, annotated from the daemon's effects, schemas from system:discover", async () => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect((await mcp.client.listTools()).tools.map((tool) => tool.name)).toEqual(names);
    expect(names.slice(0, CURATED.length)).toEqual(CURATED);
    expect(names).toEqual(expect.arrayContaining(["events_wait", "handler_next", "handler_reply", "patternd_help", "patternd_call"]));
    expect(names.filter((name) => /shutdown|delete/.test(name))).toEqual([]);

    const tool = (name: string) => tools.find((candidate) => candidate.name === name)!;
    for (const name of ["composition_select", "composition_get", "composition_diff", "composition_decisions", "state_get", "events_wait", "patternd_help"]) {
      expect(tool(name).annotations, name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    }
    for (const name of ["composition_fork", "composition_merge", "composition_track_decision", "event_emit"]) {
      expect(tool(name).annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    }
    for (const name of ["state_set", "event_cancel", "patternd_call"]) expect(tool(name).annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const { name, description } of tools) expect(description!.length, `${name} says what, when and what comes back`).toBeGreaterThan(60);

    // One schema per event: the tool's input is the daemon's own JSON Schema.
    const discovered = (await peer.request<{ events: Record<string, EventInfo[]> }>("system:discover", {})).events;
    const info = (event: string) => Object.values(discovered).flat().find((entry) => entry.event === event)!;
    for (const [name, event] of [["composition_select", "composition:select"], ["composition_fork", "composition:fork"], ["state_set", "state:set"]] as const) {
      expect(tool(name).inputSchema, name).toEqual({ ...info(event).params, type: "object" });
    }
    expect(mcp.client.getInstructions()).toMatch(/composition_select/);
    expect(mcp.client.getDiscoverResult(), "the 2026-07-28 era was negotiated").toBeDefined();
  });

  it("lists every pattern as a resource and the two templates; a resource reads the store's file, name@version the tagged one", async () => {
    const { resources } = await mcp.client.listResources();
    const listed = await peer.request<{ compositions: { name: string }[] }>("composition:list", {});
    expect(resources.map((resource) => resource.uri)).toEqual(listed.compositions.map((entry) => `pattern://${entry.name}`));
    expect(resources.find((resource) => resource.uri === "pattern://tournament")).toMatchObject({ name: "tournament", mimeType: "application/yaml" });

    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(["pattern://{name}", "pattern://{name}@{version}"]);

    const current = await mcp.client.readResource({ uri: "pattern://tournament" });
    expect(current.contents).toEqual([{ uri: "pattern://tournament", mimeType: "application/yaml", text: await readFile(join(store, "orchestrations", "tournament.yaml"), "utf8") }]);
    const tagged = await mcp.client.readResource({ uri: "pattern://tournament@2.0.0" });
    expect((tagged.contents[0] as { text: string }).text).toBe(await git(store, "show", "tournament@2.0.0:orchestrations/tournament.yaml"));
    await expect(mcp.client.readResource({ uri: "pattern://no_such_pattern" })).rejects.toThrow(/pattern:\/\/no_such_pattern/);
  });

  it("lists a use_<name> prompt per orchestration pattern, its variables as arguments; getting it returns the composed pattern as YAML", async () => {
    const { prompts } = await mcp.client.listPrompts();
    const names = prompts.map((prompt) => prompt.name);
    expect(names).toContain("use_tournament");
    expect(names).not.toContain("use_judging_panel"); // a mixin, not an orchestration
    const tournament = await peer.request<{ composition: { variables: Msg } }>("composition:get", { name: "tournament" });
    const prompt = prompts.find((entry) => entry.name === "use_tournament")!;
    expect(prompt.arguments!.map((argument) => argument.name)).toEqual(Object.keys(tournament.composition.variables));
    expect(prompt.arguments!.find((argument) => argument.name === "rounds")!.description).toMatch(/integer.*default 5/);

    const got = await mcp.client.getPrompt({ name: "use_tournament", arguments: { rounds: "3", run_id: "mcp_run" } });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toMatch(/^Run the orchestration pattern tournament@2\.0\.0/);
    expect(text).toContain("composition_track_decision");
    const yamlBlock = /```yaml\n([\s\S]*?)\n```/.exec(text)![1]!;
    const composed = await peer.request<{ composition: Msg }>("composition:compose", { name: "tournament", variables: { rounds: 3, run_id: "mcp_run" } });
    expect(parseYaml(yamlBlock)).toEqual(composed.composition);
    expect(yamlBlock).toContain("rounds = min(3, n - 1)"); // the argument went in as the integer it is
    expect(yamlBlock).toContain('key: "mcp_run.status"');

    // composition_get with variables composes too, from the same schemas.
    const viaTool = await callOk<{ composition: Msg }>(mcp.client, "composition_get", { name: "tournament", variables: { rounds: 3, run_id: "mcp_run" } });
    expect(viaTool.composition).toEqual(composed.composition);
    // A typo, text that is not of the variable's type, and a pattern that is no orchestration are refused with the right form.
    await expect(mcp.client.getPrompt({ name: "use_tournament", arguments: { roundz: "3" } })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/use_tournament has no argument roundz; its arguments: run_id, rounds/) });
    await expect(mcp.client.getPrompt({ name: "use_tournament", arguments: { rounds: "many" } })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/rounds is a whole number, e\.g\. 3 \(default 5\); got "many"/) });
    await expect(mcp.client.getPrompt({ name: "use_critic" })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/critic is a profile, and prompts are use_NAME for orchestration patterns/) });

    // format yaml is kept when composing: the composed document as YAML, as get gives a file's.
    const asYaml = await callOk<{ yaml: string; composition?: unknown }>(mcp.client, "composition_get", { name: "tournament", variables: { rounds: 3, run_id: "mcp_run" }, format: "yaml" });
    expect(asYaml.composition).toBeUndefined();
    expect(parseYaml(asYaml.yaml)).toEqual(composed.composition);
  });

  it("completes what a person fills in: pattern names by prefix, a pattern's tagged versions, a prompt variable's default; a wrong reference is refused with the right form", async () => {
    const complete = (params: Parameters<typeof mcp.client.complete>[0]) => mcp.client.complete(params).then((result) => result.completion);
    const byName = await complete({ ref: { type: "ref/resource", uri: "pattern://{name}" }, argument: { name: "name", value: "t" } });
    const listed = await peer.request<{ compositions: { name: string }[] }>("composition:list", { fields: ["name"], limit: 5000 });
    const expected = listed.compositions.map((entry) => entry.name).filter((name) => name.startsWith("t"));
    expect(expected.length).toBeGreaterThan(0);
    expect(byName).toEqual({ values: expected, total: expected.length, hasMore: false });

    const versions = await complete({ ref: { type: "ref/resource", uri: "pattern://{name}@{version}" }, argument: { name: "version", value: "2." }, context: { arguments: { name: "tournament" } } });
    const tags = (await git(store, "tag", "--list", "tournament@2.*")).trim().split("\n").map((tag) => tag.slice("tournament@".length));
    expect([...versions.values].sort()).toEqual(tags.sort());

    const rounds = await complete({ ref: { type: "ref/prompt", name: "use_tournament" }, argument: { name: "round_robin_max", value: "" } });
    const declared = (await peer.request<{ composition: { variables: Record<string, { default: unknown }> } }>("composition:get", { name: "tournament" })).composition.variables;
    expect(rounds.values).toEqual([String(declared.round_robin_max!.default)]);

    await expect(complete({ ref: { type: "ref/prompt", name: "use_tournament" }, argument: { name: "nope", value: "" } })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/use_tournament has no argument nope; its arguments: run_id, rounds/) });
    await expect(complete({ ref: { type: "ref/resource", uri: "test://{id}" }, argument: { name: "id", value: "" } })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/they are pattern:\/\/\{name\} and pattern:\/\/\{name\}@\{version\}/) });
  });

  // ------------------------------------------------------------------ select / fork / merge / decisions, checked in git

  it("composition_select answers what the daemon answers for the task", async () => {
    const task = "rank twelve candidate drafts by blind pairwise judging to find the best one";
    const selected = await callOk<{ selected: string | null; candidates: { name: string }[] }>(mcp.client, "composition_select", { task });
    expect(selected).toEqual(await peer.request("composition:select", { task }));
    expect(selected.candidates.map((candidate) => candidate.name)).toContain("tournament");
  });

  it("composition_fork writes the fork's file and one commit with trailers and the name@version tag, attributed to the MCP client", async () => {
    const reason = "three rounds are enough for a dozen drafts";
    const forked = await callOk<{ name: string; version: string; parent: string; commit: string }>(mcp.client, "composition_fork", {
      parent: "tournament",
      name: "tournament_mcp",
      reason,
      modifications: { "variables.rounds.default": 3 },
    });
    expect(forked).toMatchObject({ name: "tournament_mcp", version: "0.1.0", parent: "tournament@2.0.0" });
    expect(forked.commit).toBe(await head(store));

    const file = parseYaml(await readFile(join(store, "orchestrations", "tournament_mcp.yaml"), "utf8")) as { variables: { rounds: { default: number } }; lineage: Msg };
    expect(file.variables.rounds.default).toBe(3);
    expect(file.lineage).toMatchObject({ parent: "tournament@2.0.0", fork_reason: reason });
    expect(await trailers(store, forked.commit)).toMatchObject({ Op: "fork", Pattern: "tournament_mcp", Version: "0.1.0", Parent: "tournament@2.0.0", Agent: "mcp:e2e-host", Reason: reason });
    expect((await git(store, "rev-parse", "tournament_mcp@0.1.0^{commit}")).trim()).toBe(forked.commit);
    expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
  });

  it("composition_merge dry_run shows the merge and writes nothing; the real merge commits it into the parent with its tag", async () => {
    await callOk(mcp.client, "composition_update", { name: "tournament_mcp", set: { "variables.round_robin_max.default": 6 }, message: "round robin up to six" });
    const before = await snapshot(store);

    const dry = await callOk<{ merged: boolean; name: string; changes: { path: string }[] }>(mcp.client, "composition_merge", { source: "tournament_mcp", dry_run: true });
    expect(dry.changes.map((change) => change.path)).toContain("variables.round_robin_max.default");
    expect(await snapshot(store)).toEqual(before);
    expect((await peer.request<{ version: string }>("composition:get", { name: "tournament" })).version).toBe("2.0.0");

    const merged = await callOk<{ merged: boolean; name: string; version: string; commit: string; from: string }>(mcp.client, "composition_merge", { source: "tournament_mcp" });
    expect(merged).toMatchObject({ merged: true, name: "tournament" });
    expect(merged.commit).toBe(await head(store));
    expect(await trailers(store, merged.commit)).toMatchObject({ Op: "merge", Pattern: "tournament", Version: merged.version, "Merged-From": merged.from, Agent: "mcp:e2e-host" });
    expect((await git(store, "rev-parse", `tournament@${merged.version}^{commit}`)).trim()).toBe(merged.commit);
    const parent = parseYaml(await git(store, "show", `tournament@${merged.version}:orchestrations/tournament.yaml`)) as { variables: { round_robin_max: { default: number }; rounds: { default: number } } };
    expect(parent.variables.round_robin_max.default).toBe(6);
    expect(await git(store, "status", "--porcelain", "--untracked-files=all")).toBe("");
  });

  it("composition_track_decision appends the record to the decision log beside the pattern, and it is committed", async () => {
    const reply = await callOk<{ tracked: { id: string; pattern: string; agent_id: string }; file: string }>(mcp.client, "composition_track_decision", {
      pattern: "tournament_mcp",
      decision: "stopped after round 3: the leader was two points clear",
      outcome: "success",
      confidence: 0.8,
    });
    expect(reply.file).toBe("orchestrations/tournament_mcp_decisions.yaml");
    expect(reply.tracked).toMatchObject({ pattern: "tournament_mcp", agent_id: "mcp:e2e-host" });
    const onDisk = parseYaml(await readFile(join(store, reply.file), "utf8")) as Msg[];
    expect(onDisk).toEqual([reply.tracked]);
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain", "--untracked-files=all")) === "", 5_000, 50);
    expect(parseYaml(await git(store, "show", `HEAD:${reply.file}`))).toEqual([reply.tracked]);
    expect(await git(store, "log", "-1", "--format=%(trailers:only,unfold)", "--", reply.file)).toContain("Op: decisions");
    const read = await callOk<{ decisions: Msg[] }>(mcp.client, "composition_decisions", { pattern: "tournament_mcp" });
    expect(read.decisions).toEqual([reply.tracked]);
    // Every version the session made is tagged, HEAD holds what is served, nothing is left uncommitted.
    const served = await peer.request<{ compositions: { name: string; version: string }[] }>("composition:list", {});
    await expectStoreTruth(store, Object.fromEntries(served.compositions.map((entry) => [entry.name, entry.version])));
  });

  // ------------------------------------------------------------------ errors a model can read

  it("an invalid argument is a tool error naming the field, code first; the session and the daemon go on", async () => {
    const error = await callError(mcp.client, "composition_select", { task: 5 });
    expect(error.text).toMatch(/^invalid_params: .*"task"/);
    expect(error.code).toBe("invalid_params");
    expect(error.details).toMatchObject({ issues: [expect.objectContaining({ path: "task" })] });

    // The bridge's own tools check their arguments the same way.
    const wait = await callError(mcp.client, "events_wait", { patterns: "run:*" });
    expect(wait.text).toMatch(/^invalid_params: events_wait: .*patterns must be array/);

    const unknown = await callError(mcp.client, "composition_destroy", {});
    expect(unknown.code).toBe("unknown_tool");
    expect(unknown.message).toContain("composition_select"); // the tools there are

    expect(await callOk(mcp.client, "composition_select", { task: "rank drafts pairwise" })).toHaveProperty("candidates");
  });

  it("a daemon error keeps its code: composition_get of a missing pattern is not_found", async () => {
    const error = await callError(mcp.client, "composition_get", { name: "no_such_pattern" });
    expect(error.code).toBe("not_found");
    expect(error.text).toMatch(/^not_found: .*no_such_pattern/);
    const conflict = await callError(mcp.client, "composition_fork", { parent: "tournament", name: "tournament_mcp", reason: "again" });
    expect(conflict.code).toBe("conflict");
  });

  it("system:shutdown, composition:delete and state:delete are refused even through patternd_call (forbidden); the daemon stays up", async () => {
    for (const event of ["system:shutdown", "composition:delete", "state:delete"]) {
      const error = await callError(mcp.client, "patternd_call", { event, data: { name: "tournament_mcp", key: "x" } });
      expect(error.code, event).toBe("forbidden");
      expect(error.message).toContain(event);
    }
    expect((await peer.request<{ status: string }>("system:health", {})).status).toBe("ok");
    expect((await peer.request<{ name: string }>("composition:get", { name: "tournament_mcp" })).name).toBe("tournament_mcp");
    const help = await callOk<{ events: { event: string }[] }>(mcp.client, "patternd_help", {});
    const listed = help.events.map((entry) => entry.event);
    expect(listed).toContain("composition:history");
    expect(listed.filter((event) => ["system:shutdown", "composition:delete", "state:delete"].includes(event))).toEqual([]);
    const history = await callOk<{ versions: unknown[] }>(mcp.client, "patternd_call", { event: "composition:history", data: { name: "tournament_mcp" } });
    expect(history.versions.length).toBeGreaterThan(0);
  });

  // ------------------------------------------------------------------ store changes pushed to the host

  it("tells the host when patterns change: list changes after another agent's fork, and an update of a pattern it listens to (2026-07-28: subscriptions/listen)", async () => {
    expect(mcp.client.getServerCapabilities()).toMatchObject({ resources: { listChanged: true, subscribe: true }, prompts: { listChanged: true } });
    const seen = recordChanges(mcp.client);
    const listening = await mcp.client.listen({ resourcesListChanged: true, promptsListChanged: true, resourceSubscriptions: ["pattern://ensemble_voting"] });
    try {
      await peer.request("composition:fork", { parent: "ensemble_voting", name: "voting_pushed", reason: "a new pattern the host should see" });
      await waitFor("list changes", () => seen.some((n) => n.method === "notifications/prompts/list_changed"), 5_000, 20);
      expect(seen.slice(0, 2).map((n) => n.method)).toEqual(["notifications/resources/list_changed", "notifications/prompts/list_changed"]);
      const prompts = (await mcp.client.listPrompts()).prompts.map((prompt) => prompt.name);
      expect(prompts).toContain("use_voting_pushed");

      seen.length = 0;
      await peer.request("composition:update", { name: "ensemble_voting", set: { description: "Majority vote, changed while a host listens." } });
      await waitFor("the resource update", () => seen.some((n) => n.method === "notifications/resources/updated"), 5_000, 20);
      expect(seen.filter((n) => n.method === "notifications/resources/updated")).toEqual([{ method: "notifications/resources/updated", uri: "pattern://ensemble_voting" }]);
      const read = await mcp.client.readResource({ uri: "pattern://ensemble_voting" });
      expect((read.contents[0] as { text: string }).text).toContain("changed while a host listens");

      // A pattern it does not listen to changes: lists change, no resource update.
      seen.length = 0;
      await peer.request("composition:update", { name: "voting_pushed", set: { description: "Changed, not listened to." } });
      await waitFor("list changes", () => seen.length >= 2, 5_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen.some((n) => n.method === "notifications/resources/updated")).toBe(false);
    } finally {
      await listening.close();
    }
  });

  // ------------------------------------------------------------------ a reply too large for a model's context

  it("a reply too large for a model's context is cut to fit, and the result says what was cut and how to see the rest", async () => {
    await Promise.all(Array.from({ length: 600 }, (_, n) => peer.request("event:emit", { event: "bulk:item", data: { n, text: "x".repeat(200) } })));
    const result = (await mcp.client.callTool({ name: "patternd_call", arguments: { event: "monitor:get_events", data: { patterns: ["bulk:*"], limit: 1000 } } })) as {
      content: { type: string; text: string }[];
      structuredContent: { events: { data: { n: number } }[]; truncated: { path: string; total: number; kept: number }[] };
      isError?: boolean;
    };
    expect(result.isError).toBeFalsy();
    const { events, truncated } = result.structuredContent;
    expect(truncated).toEqual([{ path: "events", total: 600, kept: events.length }]);
    expect(events.length).toBeGreaterThan(50);
    expect(events.length).toBeLessThan(600);
    // What is kept is the reply's own beginning, whole events in its order.
    const full = await peer.request<{ events: { data: { n: number } }[] }>("monitor:get_events", { patterns: ["bulk:*"], limit: 1000 });
    expect(events).toEqual(full.events.slice(0, events.length));
    // About 20 000 tokens in all (about 4 characters a token): the text block and structuredContent together.
    const text = result.content.map((block) => block.text).join("");
    expect(text.length + JSON.stringify(result.structuredContent).length).toBeLessThanOrEqual(82_000);
    expect(text).toMatch(/events keeps \d+ of 600.*Ask for less \(limit/s);
  });

  // ------------------------------------------------------------------ events_wait

  it("events_wait returns events another client emitted, and next_since_seq continues without a gap or a repeat", async () => {
    const start = await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], timeout_s: 0 });
    expect(start).toMatchObject({ events: [], timed_out: true });
    for (const n of [1, 2, 3]) await peer.request("event:emit", { event: "run:step", data: { n } });
    await peer.request("state:set", { key: "run_1.status", value: "running" }); // routed, but not run:*

    const first = await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], since_seq: start.next_since_seq, max: 2, timeout_s: 5 });
    expect(first.events.map((event) => [event.event, event.data])).toEqual([["run:step", { n: 1 }], ["run:step", { n: 2 }]]);
    expect(first.next_since_seq).toBe(first.events[1]!.seq);
    const second = await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], since_seq: first.next_since_seq, timeout_s: 5 });
    expect(second.events.map((event) => [event.event, event.data])).toEqual([["run:step", { n: 3 }]]);
    expect(second.events[0]!.seq).toBeGreaterThan(first.events[1]!.seq);

    // A long poll already waiting wakes for an event emitted after it began.
    const waiting = callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], since_seq: second.next_since_seq, timeout_s: 10 });
    await peer.request("event:emit", { event: "run:done", data: { winner: "draft_7" } });
    const third = await waiting;
    expect(third.events.map((event) => [event.event, event.data])).toEqual([["run:done", { winner: "draft_7" }]]);
    expect(third.timed_out).toBe(false);
    const seqs = [...first.events, ...second.events, ...third.events].map((event) => event.seq);
    expect(new Set(seqs).size).toBe(4);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  // ------------------------------------------------------------------ handler_next / handler_reply

  it("handler_next takes a call another client made to review:request; handler_reply's data is what the caller gets", async () => {
    const registered = await callOk<{ call: unknown; waiting: number }>(mcp.client, "handler_next", { events: ["review:request"], timeout_s: 0 });
    expect(registered).toEqual({ call: null, waiting: 0 });

    const asked = peer.request("review:request", { draft: "v1", focus: "tone" }, { timeoutMs: 15_000 });
    const taken = await callOk<{ call: { call_id: string; event: string; data: Msg; agent_id: string | null } }>(mcp.client, "handler_next", { events: ["review:request"], timeout_s: 10 });
    expect(taken.call).toMatchObject({ event: "review:request", data: { draft: "v1", focus: "tone" }, agent_id: "peer" });
    expect(await callOk(mcp.client, "handler_reply", { call_id: taken.call.call_id, ok: true, data: { verdict: "approve", notes: ["warmer opening"] } })).toEqual({ replied: true });
    expect(await asked).toEqual({ verdict: "approve", notes: ["warmer opening"] });

    // An error reply reaches the caller as the daemon error it named.
    const refused = peer.request("review:request", { draft: "v2" }, { timeoutMs: 15_000 }).catch((err: unknown) => err);
    const second = await callOk<{ call: { call_id: string } }>(mcp.client, "handler_next", { events: ["review:request"], timeout_s: 10 });
    await callOk(mcp.client, "handler_reply", { call_id: second.call.call_id, ok: false, error: { code: "needs_work", message: "the ending is missing" } });
    const err = await refused;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ code: "needs_work", message: "the ending is missing" });

    // A call answered once cannot be answered again.
    expect((await callError(mcp.client, "handler_reply", { call_id: second.call.call_id, ok: true, data: {} })).code).toBe("not_found");
    // The registered event is now one the daemon lists.
    const help = await callOk<{ events: { event: string }[] }>(mcp.client, "patternd_help", {});
    expect(help.events.map((entry) => entry.event)).toContain("review:request");
  });

  it("a handler_next or events_wait the host cancels ends at once, and the call that comes after it is not lost: the next handler_next takes it", async () => {
    await callOk(mcp.client, "handler_next", { events: ["digest:request"], timeout_s: 0 });
    const subscriptions = async () => (await peer.request<{ subscriptions: number }>("system:health", {})).subscriptions;
    const before = await subscriptions();
    const cancel = new AbortController();
    const started = Date.now();
    const abandoned = mcp.client.callTool({ name: "handler_next", arguments: { events: ["digest:request"], timeout_s: 20 } }, { signal: cancel.signal }).catch((err: unknown) => err);
    const waitCancel = new AbortController();
    const abandonedWait = mcp.client.callTool({ name: "events_wait", arguments: { patterns: ["never:*"], timeout_s: 20 } }, { signal: waitCancel.signal }).catch((err: unknown) => err);
    await waitFor("the wait's subscription", async () => (await subscriptions()) === before + 1, 5_000, 50);
    cancel.abort("the host gave up");
    waitCancel.abort("the host gave up");
    await abandoned;
    await abandonedWait;
    // The subscription of the cancelled wait is gone at once, not after its 20 s.
    await waitFor("the cancelled wait's subscription to end", async () => (await subscriptions()) === before, 5_000, 50);
    expect(Date.now() - started).toBeLessThan(10_000);

    const asked = peer.request("digest:request", { day: "monday" }, { timeoutMs: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // the call reaches the bridge while no one waits
    const taken = await callOk<{ call: { call_id: string; data: Msg } | null }>(mcp.client, "handler_next", { events: ["digest:request"], timeout_s: 5 });
    expect(taken.call?.data).toEqual({ day: "monday" });
    await callOk(mcp.client, "handler_reply", { call_id: taken.call!.call_id, ok: true, data: { digest: "quiet day" } });
    expect(await asked).toEqual({ digest: "quiet day" });
  });
});

describe("pat mcp --read-only", () => {
  let mcp: StdioSession;

  beforeAll(async () => {
    mcp = await openStdio(d.home, ["--read-only"], { era: "legacy" });
  });

  it("hides every tool that changes something; what is left is annotated read-only", async () => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of MUTATING) expect(names, name).not.toContain(name);
    expect(names).toEqual(expect.arrayContaining(["composition_select", "composition_get", "state_get", "events_wait", "patternd_help", "patternd_call"]));
    for (const tool of tools) expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(mcp.client.getDiscoverResult(), "the legacy 2025 handshake").toBeUndefined();
  });

  it("refuses a hidden tool and a write event through patternd_call with read_only; reads still work; nothing changed", async () => {
    const before = await snapshot(store);
    const fork = await callError(mcp.client, "composition_fork", { parent: "tournament", name: "tournament_ro", reason: "should not happen" });
    expect(fork.code).toBe("read_only");
    const write = await callError(mcp.client, "patternd_call", { event: "state:set", data: { key: "ro.flag", value: true } });
    expect(write.code).toBe("read_only");
    expect(write.message).toMatch(/state:set is a \w+ event/);
    expect((await callError(mcp.client, "patternd_call", { event: "system:shutdown" })).code).toBe("forbidden");
    await expect(peer.request("state:get", { key: "ro.flag" })).rejects.toMatchObject({ code: "not_found" });
    expect(await snapshot(store)).toEqual(before);
    const history = await callOk<{ versions: unknown[] }>(mcp.client, "patternd_call", { event: "composition:history", data: { name: "tournament" } });
    expect(history.versions.length).toBeGreaterThan(0);
    expect((await callOk<{ name: string }>(mcp.client, "composition_get", { name: "tournament" })).name).toBe("tournament");
  });
});

describe("pat mcp over stdio, the 2025 era: store changes", () => {
  it("resources/subscribe gets updates of that pattern only, until resources/unsubscribe; list changes go to every client; a URI that is no pattern is refused", async () => {
    const legacy = await openStdio(d.home, [], { era: "legacy", name: "subscriber-host" });
    const seen = recordChanges(legacy.client);
    await expect(legacy.client.subscribeResource({ uri: "file:///etc/passwd" })).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/not a pattern URI: use pattern:\/\/NAME/) });
    await legacy.client.subscribeResource({ uri: "pattern://tournament" });
    await peer.request("composition:update", { name: "tournament", set: { description: "Tournament, changed for a subscriber." } });
    await peer.request("composition:update", { name: "ensemble_voting", set: { description: "Voting, changed beside it." } });
    await waitFor("the resource update", () => seen.some((n) => n.method === "notifications/resources/updated"), 5_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Both changes change the lists; only the subscribed pattern is updated (changes within 50 ms make one report).
    expect(seen.filter((n) => n.method === "notifications/resources/updated")).toEqual([{ method: "notifications/resources/updated", uri: "pattern://tournament" }]);
    expect(seen.slice(0, 2)).toEqual([{ method: "notifications/resources/list_changed" }, { method: "notifications/prompts/list_changed" }]);

    seen.length = 0;
    await legacy.client.unsubscribeResource({ uri: "pattern://tournament" });
    await peer.request("composition:update", { name: "tournament", set: { description: "Tournament, changed after unsubscribing." } });
    await waitFor("list changes", () => seen.length >= 2, 5_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.map((n) => n.method)).toEqual(["notifications/resources/list_changed", "notifications/prompts/list_changed"]);
    await legacy.close();
  });
});

describe("pat mcp --http", () => {
  it("serves Streamable HTTP on loopback: prints its URL; the SDK lists tools and calls one in both eras", async () => {
    const bridge = await startHttp(d.home, "127.0.0.1:0");
    expect(bridge.url.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    for (const era of ["modern", "legacy"] as const) {
      const { client, transport } = await openHttp(bridge.url, era);
      expect(client.getDiscoverResult() !== undefined, era).toBe(era === "modern");
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names.slice(0, CURATED.length), era).toEqual(CURATED);
      const got = await callOk<{ name: string; version: string; commit: string }>(client, "composition_get", { name: "tournament" });
      expect(got, era).toEqual(await peer.request("composition:get", { name: "tournament" }));
      if (era === "modern") {
        // Store changes on a subscriptions/listen stream.
        const seen = recordChanges(client);
        const listening = await client.listen({ promptsListChanged: true, resourceSubscriptions: ["pattern://tournament"] });
        await peer.request("composition:update", { name: "tournament", set: { description: "Tournament, changed for an HTTP listener." } });
        await waitFor("the HTTP listener's notifications", () => seen.length >= 2, 5_000, 20);
        expect(seen).toEqual([{ method: "notifications/prompts/list_changed" }, { method: "notifications/resources/updated", uri: "pattern://tournament" }]);
        await listening.close();
      } else {
        // A stateless 2025 request has no channel to push on, so nothing is promised.
        expect(client.getServerCapabilities()).toEqual({ tools: {}, resources: {}, prompts: {}, completions: {} });
      }
      await transport.terminateSession();
      await client.close();
    }

    // A page of another site the user visits cannot drive it (DNS rebinding, CSRF): a foreign Origin is refused.
    const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "page", version: "1" } } });
    const post = (origin: string) =>
      fetch(bridge.url, { method: "POST", headers: { origin, "content-type": "application/json", accept: "application/json, text/event-stream" }, body: initialize });
    const foreign = await post("http://evil.example");
    expect(foreign.status).toBe(403);
    await foreign.body?.cancel();
    const local = await post(bridge.url.origin);
    expect(local.status).toBe(200);
    await local.body?.cancel();
    const elsewhere = await fetch(new URL("/other", bridge.url));
    expect(elsewhere.status).toBe(404);
    await elsewhere.body?.cancel();

    const started = Date.now();
    expect(await bridge.proc.signal("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("refuses a non-loopback address (exit 2, saying why) and a busy port", async () => {
    const wide = await pat(d.home, ["mcp", "--http", "0.0.0.0:0"]);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toMatch(/loopback only/);
    expect(wide.stderr).toContain("0.0.0.0");
    const first = await startHttp(d.home, "127.0.0.1:0");
    const busy = await pat(d.home, ["mcp", "--http", `127.0.0.1:${first.url.port}`]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/port is in use/);
    await first.proc.signal("SIGTERM");
  });
});

describe("pat mcp and the daemon's lifecycle", () => {
  let home: string;

  afterAll(async () => {
    if (home !== undefined) await pat(home, ["stop"]);
  });

  it("--no-start with no daemon: exit 3 with a message, and no daemon is started", async () => {
    const empty = await makeHome();
    const run = await pat(empty, ["mcp", "--no-start"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^pat mcp: .*--no-start: not starting it/m);
    expect(run.stdout).toBe(""); // stdout is the protocol channel
    expect(existsSync(socketPathOf(empty)), "no daemon socket").toBe(false);
  });

  it("starts the home's daemon when none runs, survives a restart of it in the same session, and exits 0 on stdin close leaving the daemon up", async () => {
    home = await makeHome();
    // The 2025 handshake: one pat mcp process (a 2026-07-28 client probes first on a throwaway sibling, whose stderr the SDK drops).
    const mcp = await openStdio(home, [], { era: "legacy", name: "lifecycle-host" });
    const firstPid = (await health(home)).pid;
    expect(mcp.stderr()).toMatch(/patternd started \(pid \d+\)/); // on stderr: stdout is the protocol channel
    await callOk(mcp.client, "state_set", { key: "run_9.status", value: "running" });
    // The 2025 handshake names the client once; its changes are attributed to it.
    const updated = await callOk<{ commit: string; version: string }>(mcp.client, "composition_update", { name: "tournament", set: { "variables.rounds.default": 4 } });
    expect(await trailers(join(home, "var", "lib", "compositions"), updated.commit)).toMatchObject({ Op: "update", Pattern: "tournament", Agent: "mcp:lifecycle-host" });

    // A wait in progress when the daemon restarts goes on through the new daemon, and says its seqs began again.
    const waiting = callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], timeout_s: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await pat(home, ["stop"])).code).toBe(0);
    const restarted = await pat(home, ["start"]);
    expect(restarted.code, restarted.stderr).toBe(0);
    const other = await connect({ socketPath: socketPathOf(home), agentId: "other" });
    try {
      await waitFor("the bridge to subscribe on the new daemon", async () => (await other.request<{ subscriptions: number }>("system:health", {})).subscriptions > 0, 10_000, 50);
      await other.request("event:emit", { event: "run:resumed", data: { run: "run_9" } });
    } finally {
      await other.close();
    }
    const across = await waiting;
    expect(across.events.map((event) => [event.event, event.data])).toEqual([["run:resumed", { run: "run_9" }]]);
    expect(across).toMatchObject({ timed_out: false, daemon_restarted: true });

    const got = await callOk<{ value: unknown }>(mcp.client, "state_get", { key: "run_9.status" });
    expect(got.value).toBe("running");
    expect((await health(home)).pid).not.toBe(firstPid);
    const waited = await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], since_seq: 1_000_000, timeout_s: 0 });
    expect(waited.daemon_restarted).toBe(true);

    // Gone with nobody to restart it: the next call waits out a restart, then starts the daemon itself.
    expect((await pat(home, ["stop"])).code).toBe(0);
    expect((await callOk<{ value: unknown }>(mcp.client, "state_get", { key: "run_9.status" })).value).toBe("running");

    // Killed outright (SIGKILL): the same, and the store the bridge changed is whole: clean, tags matching versions.
    process.kill((await health(home)).pid, "SIGKILL");
    expect((await callOk<{ value: unknown }>(mcp.client, "state_get", { key: "run_9.status" })).value).toBe("running");
    await expectStoreTruth(join(home, "var", "lib", "compositions"), { tournament: updated.version });

    const took = await mcp.close();
    expect(mcp.child.exitCode).toBe(0);
    expect(mcp.child.signalCode).toBeNull();
    expect(took, "exited on stdin close, before the SDK would send SIGTERM").toBeLessThan(2_000);
    expect((await health(home)).status).toBe("ok");
  });

  it("a cursor from before a restart is not read against the new daemon's seqs: what the new daemon saw is replayed, none skipped", async () => {
    const own = await makeHome();
    expect((await pat(own, ["start"])).code).toBe(0);
    const mcp = await openStdio(own, [], { name: "cursor-host" });
    try {
      const emitter = async (work: (client: SocketClient) => Promise<void>) => {
        const client = await connect({ socketPath: socketPathOf(own), agentId: "emitter" });
        try {
          await work(client);
        } finally {
          await client.close();
        }
      };
      await emitter(async (client) => {
        for (let n = 0; n < 20; n++) await client.request("event:emit", { event: "noise:tick", data: { n } });
      });
      const cursor = (await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], timeout_s: 0 })).next_since_seq;
      expect(cursor).toBeGreaterThan(20);

      expect((await pat(own, ["stop"])).code).toBe(0);
      expect((await pat(own, ["start"])).code).toBe(0);
      // The new daemon numbers from 1 again and passes the old cursor: run:early's seq is below it.
      await emitter(async (client) => {
        await client.request("event:emit", { event: "run:early", data: { life: 2 } });
        for (let n = 0; n < cursor + 5; n++) await client.request("event:emit", { event: "noise:tick", data: { n } });
      });
      const waited = await callOk<Waited>(mcp.client, "events_wait", { patterns: ["run:*"], since_seq: cursor, timeout_s: 2 });
      expect(waited.events.map((event) => [event.event, event.data])).toEqual([["run:early", { life: 2 }]]);
      expect(waited.events[0]!.seq).toBeLessThan(cursor);
      expect(waited.daemon_restarted).toBe(true);
    } finally {
      await mcp.close();
      await pat(own, ["stop"]);
    }
  });
});
