/**
 * Issue 21 (items 7-10, 12): what KSI's own files mean is what patternd
 * reads. A store written here in KSI's July layout (orchestrations/*.yaml,
 * history and performance under `metadata`, a fork that extends its
 * parent, a `<pattern>_decisions.yaml` in KSI's record shape, `{{agent_id}}`
 * placeholders an agent fills at run time; a plain git repository without
 * patternd's tags) is served by a real daemon with `--store`:
 * decisions are read and counted, select weighs the recorded performance,
 * lineage shows the fork, a fork and a merge keep history where KSI keeps
 * it, compose leaves run-time placeholders, and system:discover answers in
 * the shape KSI's client reads (checked here on the wire; scripts/ksi-clients.py
 * runs KSI's own clients against it by hand).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { git } from "./store-git.js";

type Msg = Record<string, unknown>;

const RELAY = `name: relay
type: orchestration
version: 1.0.0
description: Relay race of agents passing a baton of partial work
author: ksi_test
variables:
  legs: 4
agents:
  runner:
    prompt: "You are {{agent_id}}; run leg {{leg}} of {{legs}} and report to {{orchestration_id}}."
    vars:
      start_at: "{{TIMESTAMP()}}"
orchestration_logic:
  strategy: pass the baton after each leg
metadata:
  tags:
  - relay
  - baton
  capabilities_required:
  - composition:track_decision
  performance:
    runs: 5
    avg_completion_time: 45.2
    success_rate: 0.92
  forks:
  - name: relay_fast
    date: '2025-06-01T10:00:00.000001Z'
    reason: fewer handoffs
    author: unknown
`;

const RELAY_FAST = `name: relay_fast
type: orchestration
version: 0.1.0
description: Relay race of agents passing a baton of partial work
author: unknown
extends: relay
variables:
  legs: 3
agents:
  runner:
    prompt: "You are {{agent_id}}; run leg {{leg}} of {{legs}} quickly."
orchestration_logic:
  strategy: pass the baton after each leg, skip the warm-up
metadata:
  tags:
  - relay
  - baton
  lineage:
    parent: relay@1.0.0
    fork_date: '2025-06-01T10:00:00.000001Z'
    fork_reason: fewer handoffs
    fork_author: unknown
`;

const BATON = `name: baton_pass
type: orchestration
version: 1.0.0
description: Relay race of agents passing a baton of partial work
author: ksi_test
orchestration_logic:
  strategy: pass the baton
metadata:
  tags:
  - relay
  - baton
`;

/** Records in the shape KSI's composition service writes: no id, no pattern_version, confidence as a string, outcome null. */
const RELAY_DECISIONS = `- pattern: relay
  decision: shorten_handoffs
  context:
    handoff_ms: 420
  outcome: improved_latency
  confidence: '0.81'
  agent_id: relay_orchestrator
  timestamp: '2025-06-02T09:15:00.120456Z'
- pattern: relay
  decision: manual_probe
  context: {}
  outcome: null
  confidence: 0.65
  agent_id: unknown
  timestamp: '2025-06-02T09:20:30.000001Z'
`;

/** A plain git repository in KSI's July layout, committed by hand: no patternd tags or trailers. */
async function ksiStore(): Promise<string> {
  const store = join(await makeHome(), "ksi-compositions");
  await mkdir(join(store, "orchestrations"), { recursive: true });
  await writeFile(join(store, "orchestrations", "relay.yaml"), RELAY);
  await writeFile(join(store, "orchestrations", "relay_fast.yaml"), RELAY_FAST);
  await writeFile(join(store, "orchestrations", "baton_pass.yaml"), BATON);
  await writeFile(join(store, "orchestrations", "relay_decisions.yaml"), RELAY_DECISIONS);
  await git(store, "init", "-q");
  await git(store, "add", "-A");
  await git(store, "-c", "user.name=ksi", "-c", "user.email=ksi@example.org", "commit", "-q", "-m", "Initial commit for ksi-compositions");
  return store;
}

let daemon: Daemon;
let client: Client;
let store: string;

beforeAll(async () => {
  store = await ksiStore();
  daemon = await startDaemon({ args: ["--store", store] });
  client = await daemon.client({ agentId: "ksi_check" });
}, 60_000);

afterAll(cleanup);

const read = async (path: string) => parseYaml(await readFile(join(store, path), "utf8")) as Msg;

describe("KSI's decision records (item 7)", () => {
  it("are read as they are and counted in stats", async () => {
    const result = await client.request<{ decisions: Msg[]; stats: Msg; issues?: unknown[] }>("composition:decisions", { pattern: "relay" });
    expect(result.issues).toBeUndefined();
    expect(result.decisions.map((d) => d.decision)).toEqual(["manual_probe", "shorten_handoffs"]);
    expect(result.decisions[1]).toEqual({
      pattern: "relay",
      decision: "shorten_handoffs",
      context: { handoff_ms: 420 },
      outcome: "improved_latency",
      confidence: 0.81,
      agent_id: "relay_orchestrator",
      timestamp: "2025-06-02T09:15:00.120456Z",
    });
    expect(result.stats).toMatchObject({ total: 2, successes: 1, failures: 0, first_seen: "2025-06-02T09:15:00.120456Z" });
    expect(result.stats.mean_confidence as number).toBeCloseTo(0.73);
  });

  it("a record patternd appends keeps KSI's keys (its own id and pattern_version beside them), and is read with the others", async () => {
    const { tracked, file } = await client.request<{ tracked: Msg; file: string }>("composition:track_decision", {
      pattern: "relay",
      decision: "add a fifth leg",
      outcome: "success",
      confidence: 0.9,
    });
    expect(file).toBe("orchestrations/relay_decisions.yaml");
    const text = await readFile(join(store, file), "utf8");
    expect(text.startsWith(RELAY_DECISIONS)).toBe(true);
    const appended = parseYaml(text.slice(RELAY_DECISIONS.length)) as Msg[];
    expect(Object.keys(appended[0]!)).toEqual(["id", "pattern", "decision", "context", "outcome", "confidence", "agent_id", "timestamp", "pattern_version"]);
    expect(appended[0]).toMatchObject({ id: tracked.id, agent_id: "ksi_check", pattern_version: "1.0.0" });
    const { stats } = await client.request<{ stats: Msg }>("composition:decisions", { pattern: "relay" });
    expect(stats).toMatchObject({ total: 3, successes: 2 });
  });
});

describe("KSI's recorded performance (item 10)", () => {
  it("metadata.performance and the decision log count as evidence in select, and the reasons say where from", async () => {
    const result = await client.request<{ candidates: { name: string; breakdown: { evidence: number }; reasons: string[] }[] }>("composition:select", {
      task: "relay race passing a baton",
    });
    const relay = result.candidates.find((c) => c.name === "relay")!;
    const baton = result.candidates.find((c) => c.name === "baton_pass")!;
    expect(relay.breakdown.evidence).toBeGreaterThan(baton.breakdown.evidence);
    const evidence = relay.reasons.find((r) => r.startsWith("evidence"))!;
    expect(evidence).toContain("5 run(s) at success_rate 0.92 (metadata.performance)");
    expect(evidence).toContain("decision log: 2 success(es)");
    expect(baton.reasons).toContain("evidence 0.50 from no recorded outcomes, so the prior alone (prior 0.5 worth 10 outcomes)");
  });
});

describe("runtime placeholders (item 9)", () => {
  it("compose fills what it knows and leaves {{agent_id}} and the like for the agent, listing them", async () => {
    const composed = await client.request<{ composition: { agents: { runner: { prompt: string; vars: Msg } } }; unresolved: { name: string; paths: string[] }[] }>(
      "composition:compose",
      { name: "relay", variables: { leg: 2 } },
    );
    expect(composed.composition.agents.runner.prompt).toBe("You are {{agent_id}}; run leg 2 of 4 and report to {{orchestration_id}}.");
    expect(composed.composition.agents.runner.vars.start_at).toBe("{{TIMESTAMP()}}");
    expect(composed.unresolved).toEqual([
      { name: "agent_id", paths: ["agents.runner.prompt"] },
      { name: "orchestration_id", paths: ["agents.runner.prompt"] },
    ]);
  });

  it("strict: true makes them an invalid_params error naming them", async () => {
    const err = await client.request("composition:compose", { name: "relay", variables: { leg: 2 }, strict: true }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { unresolved: { name: string }[] } },
    );
    expect(err?.code).toBe("invalid_params");
    expect(err?.message).toContain("{{agent_id}} at agents.runner.prompt");
    expect(err?.details.unresolved.map((u) => u.name)).toEqual(["agent_id", "orchestration_id"]);
    expect((await client.request<Msg>("system:health")).status).toBe("ok");
  });
});

describe("KSI's lineage under metadata (item 8)", () => {
  it("lineage shows the fork KSI recorded, from either side", async () => {
    const tree = await client.request<{ text: string }>("composition:lineage", { name: "relay", format: "tree" });
    expect(tree.text).toContain("relay_fast@0.1.0");
    const up = await client.request<{ ancestors: string[] }>("composition:lineage", { name: "relay_fast", direction: "up" });
    expect(up.ancestors).toEqual(["relay"]);
  });

  it("history carries what the file records of its lineage", async () => {
    const history = await client.request<{ versions: Msg[]; recorded?: Msg }>("composition:history", { name: "relay_fast" });
    expect(history.versions.length).toBeGreaterThan(0);
    expect(history.recorded).toEqual({ lineage: expect.objectContaining({ parent: "relay@1.0.0", fork_reason: "fewer handoffs" }) as unknown });
  });

  it("a fork of a KSI pattern records itself in metadata.forks with KSI's keys, and gets its lineage under metadata", async () => {
    await client.request("composition:fork", { parent: "relay", name: "relay_relaxed", reason: "no time limit" });
    const parent = await read("orchestrations/relay.yaml");
    expect(Object.hasOwn(parent, "forks")).toBe(false);
    const forks = (parent.metadata as Msg).forks as Msg[];
    expect(forks.map((f) => f.name)).toEqual(["relay_fast", "relay_relaxed"]);
    expect(forks[1]).toMatchObject({ name: "relay_relaxed", reason: "no time limit", author: "ksi_check", version: "0.1.0", from: "relay@1.0.0" });
    const child = await read("orchestrations/relay_relaxed.yaml");
    expect(Object.hasOwn(child, "lineage")).toBe(false);
    const childMetadata = child.metadata as Msg;
    expect(childMetadata.lineage).toMatchObject({ parent: "relay@1.0.0", fork_reason: "no time limit", fork_author: "ksi_check" });
    // The parent's history and evidence are the parent's: not copied into the fork.
    expect(childMetadata.forks).toBeUndefined();
    expect(childMetadata.performance).toBeUndefined();
    const tree = await client.request<{ text: string }>("composition:lineage", { name: "relay", format: "tree" });
    expect(tree.text).toContain("relay_fast@0.1.0");
    expect(tree.text).toContain("relay_relaxed@0.1.0");
  });

  it("a KSI fork merges back into its parent (no tags in the store); the merge is recorded in metadata.merges", async () => {
    const merged = await client.request<{ merged: boolean; version: string; base: string; changes: { path: string }[] }>("composition:merge", { source: "relay_fast" });
    expect(merged).toMatchObject({ merged: true, version: "1.1.0", base: "relay@1.0.0" });
    expect(merged.changes.map((c) => c.path)).toEqual(expect.arrayContaining(["variables.legs", "agents.runner.prompt", "orchestration_logic.strategy"]));
    const parent = await read("orchestrations/relay.yaml");
    expect(parent.extends).toBeUndefined();
    expect(Object.hasOwn(parent, "merges")).toBe(false);
    const metadata = parent.metadata as Msg;
    expect(metadata.merges).toEqual([expect.objectContaining({ from: "relay_fast@0.1.0", base: "relay@1.0.0", agent: "ksi_check" })]);
    expect(metadata.performance).toEqual({ runs: 5, avg_completion_time: 45.2, success_rate: 0.92 });
    expect((metadata.forks as Msg[]).map((f) => f.name)).toEqual(["relay_fast", "relay_relaxed"]);
    const history = await client.request<{ versions: { version: string | null; op: string }[]; recorded?: Msg }>("composition:history", { name: "relay" });
    expect(history.versions[0]).toMatchObject({ version: "1.1.0", op: "merge" });
    expect(history.recorded?.merges).toHaveLength(1);
  });
});

describe("system:discover in KSI's shape (item 12)", () => {
  it("a KSI-style request (correlation_id) gets {events: {<namespace>: [{event, summary, parameters, params}]}}", async () => {
    const raw = await daemon.raw();
    raw.socket.write(JSON.stringify({ event: "system:discover", data: {}, correlation_id: "ksi-1", _client_id: "ksi_client_x" }) + "\n");
    const [reply] = await raw.waitLines(1);
    expect(reply).toMatchObject({ correlation_id: "ksi-1", ok: true });
    const events = (reply!.data as { events: Record<string, { event: string; summary: string; parameters: Record<string, Msg>; params: Msg }[]> }).events;
    expect(Object.keys(events).sort()).toEqual(["composition", "event", "handler", "monitor", "state", "system"]);
    // What KSI's client does with it: namespace → list, `event` names, parameter tables.
    const fork = events.composition!.find((e) => e.event === "composition:fork")!;
    expect(fork.parameters.parent).toMatchObject({ type: "str", required: true });
    expect(fork.parameters.modifications).toMatchObject({ type: "dict", required: false });
    const discover = events.composition!.find((e) => e.event === "composition:discover")!;
    expect(discover.parameters.tags).toMatchObject({ type: "list", required: false });
    expect(discover.parameters.limit).toMatchObject({ type: "int", required: false, default: 50, min: 1, max: 1000 });
    expect(discover.params.type).toBe("object");
    const get = events.composition!.find((e) => e.event === "composition:get")!;
    expect(get.parameters.format).toMatchObject({ allowed_values: ["json", "yaml"] });
  });

  it("one namespace on request; an unknown one is not_found naming the namespaces", async () => {
    const only = await client.request<{ events: Record<string, unknown[]> }>("system:discover", { namespace: "composition" });
    expect(Object.keys(only.events)).toEqual(["composition"]);
    const err = await client.request("system:discover", { namespace: "agent" }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe("not_found");
    expect(err?.message).toContain("namespaces: composition, event, handler, monitor, state, system");
  });

  it("KSI's namespace calls work on the wire: composition:discover with tags, a fork, an emit", async () => {
    const raw = await daemon.raw();
    const send = (event: string, data: Msg, id: string) => raw.socket.write(JSON.stringify({ event, data, correlation_id: id }) + "\n");
    send("composition:discover", { tags: ["baton"] }, "d");
    send("event:emit", { event: "composition:get", data: { name: "baton_pass" } }, "e");
    const replies = await raw.waitLines(2);
    expect(replies[0]).toMatchObject({ correlation_id: "d", ok: true });
    expect(((replies[0]!.data as { compositions: { name: string }[] }).compositions.map((c) => c.name)).sort()).toEqual(
      expect.arrayContaining(["baton_pass", "relay", "relay_fast"]),
    );
    expect(replies[1]).toMatchObject({ correlation_id: "e", ok: true, data: { emitted: true, result: { name: "baton_pass" } } });
  });
});
