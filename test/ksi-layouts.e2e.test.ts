/**
 * KSI's composition repository as a store (issue 21), in both of its
 * layouts, as plain git clones: the July layout (orchestrations/*.yaml with
 * `type:`, decision logs beside them, capabilities/, nested patterns/) and
 * the September layout (markdown components with YAML front matter,
 * `component_type:`, nested folders like components/agents/). Everything
 * KSI indexes is indexed; every file of the store is accounted for by
 * reload; data faults are warnings; a markdown body survives a save byte
 * for byte. The fixtures are written here, not copied from KSI.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, readJsonLines, startDaemon, waitFor, type Daemon } from "./harness.js";
import { json, pat } from "./pat-process.js";
import { expectFsckClean, git } from "./store-git.js";

type Msg = Record<string, unknown>;
interface WireErr {
  code: string;
  message: string;
  details?: Msg;
}
interface Reload {
  indexed: number;
  invalid: { path: string; issues: { path: string; message: string }[] }[];
  ignored: { path: string; reason: string; message: string }[];
  warnings: { path: string; message: string }[];
}

const JULY: Record<string, string> = {
  "orchestrations/tournament_basic_v1.yaml": "name: tournament_basic_v1\ntype: orchestration\nversion: 1.0.0\ndescription: A round robin\nextends: null\nmixins: []\nperformance:\n  success_rate: null\n  runs: 0\n",
  "orchestrations/adaptive_tournament_v2.yaml":
    "name: adaptive_tournament_v2\ntype: orchestration\nversion: 1.0.0\ndescription: Adapts the rounds\nextends: tournament_basic\n" +
    "orchestration_logic: |\n  STATE rounds = 3\n  EVENT round:done -> rounds -= 1\n",
  "orchestrations/adaptive_tournament_v2_decisions.yaml": "- pattern: adaptive_tournament_v2\n  decision: more rounds\n  outcome: null\n",
  "orchestrations/test_base_single_agent.yaml": "name: test_system_single_agent\ntype: orchestration\nversion: 1.0.0\ndescription: One agent\n",
  "capabilities/agent_messaging.yaml": "name: agent_messaging\ntype: capability\nversion: 1.0.0\ndescription: Agents message each other\n",
  "patterns/meta_orchestration/self_modification.yaml": "name: self_modification\ntype: pattern\nversion: 1.0.0\ndescription: Changes itself\nsteps: [observe, change]\n",
  "profiles/temp_profile_components_agents_dsl_optimization_executor_0cfb1ee6.yaml":
    "name: temp_profile_components_agents_dsl_optimization_executor_0cfb1ee6\ntype: profile\nversion: 1.0.0\ndescription: A generated profile\n",
  "README.md": "# Compositions\n\nKSI's patterns.\n",
  ".gitignore": "*.tmp\n",
  "experiments/runs.jsonl": "{}\n",
};

const AGENT_BODY = "# Analyst\n\nYou analyse the data.   \n\n---\n\nNever guess.\n";
const SEPTEMBER: Record<string, string> = {
  "components/agents/analyst.md": `---\ncomponent_type: agent  # KSI's field\nname: analyst\nversion: 1.0.0\ndescription: Analyses data\ndependencies:\n  - core/base_agent\n---\n${AGENT_BODY}`,
  "components/personas/coordinators/tournament_coordinator.md": "---\ncomponent_type: persona\nname: tournament_coordinator\nversion: 1.0.0\n---\nYou coordinate.\n",
  "components/behaviors/communication/ksi_events_as_tool_calls.md":
    "---\ncomponent_type: behavior\nname: structured_event_emission\nversion: 1.0.0\ndescription: Emits events as tool calls\n---\nEmit events.\n",
  "components/docs/guide.md": "# A guide, no front matter\n",
  "components/notes/plan.md": "---\ntitle: A plan, not a component\n---\nText.\n",
  "components/personas/analysts/broken.md": "---\ncomponent_type: persona\nmixins:\n  - personas/base\n---\nNo name.\n",
  "evaluations/suite.yml": "name: suite\ncomponent_type: evaluation_suite\nversion: 1.0.0\ndescription: A suite\ntests: [a, b]\n",
};

/** A plain git repository holding `files`, committed, as a clone of KSI's repository would be. */
async function repository(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "patternd-ksi-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "-A");
  await git(dir, "-c", "user.name=ksi", "-c", "user.email=ksi@example.org", "commit", "-q", "-m", "KSI compositions");
  return dir;
}

async function failure(client: Client, event: string, data: Msg): Promise<WireErr> {
  const reply = await client.send(event, data);
  expect(reply.ok, `${event} should fail, got ${JSON.stringify(reply).slice(0, 400)}`).toBe(false);
  return (reply as unknown as { error: WireErr }).error;
}

/** Every file of the store outside .git. */
async function fileCount(store: string): Promise<number> {
  return (await git(store, "ls-files")).split("\n").filter((line) => line !== "").length;
}

afterAll(cleanup);

describe("the July layout (orchestrations/*.yaml, type:, decision logs, capabilities/)", () => {
  let d: Daemon;
  let c: Client;
  let store: string;

  beforeAll(async () => {
    store = await repository(JULY);
    d = await startDaemon({ args: ["--store", store] });
    c = await d.client({ agentId: "orch_1" });
  });

  it("indexes every composition wherever its file is, nulls as absent, a text DSL, a 70-character name", async () => {
    const { compositions } = await c.request<{ compositions: { name: string; path: string; warnings?: unknown[] }[] }>("composition:list", {});
    expect(compositions.map((p) => `${p.name} ${p.path}`)).toEqual([
      "adaptive_tournament_v2 orchestrations/adaptive_tournament_v2.yaml",
      "agent_messaging capabilities/agent_messaging.yaml",
      "self_modification patterns/meta_orchestration/self_modification.yaml",
      "temp_profile_components_agents_dsl_optimization_executor_0cfb1ee6 profiles/temp_profile_components_agents_dsl_optimization_executor_0cfb1ee6.yaml",
      "test_system_single_agent orchestrations/test_base_single_agent.yaml",
      "tournament_basic_v1 orchestrations/tournament_basic_v1.yaml",
    ]);
  });

  it("reload accounts for every file: indexed, ignored with reasons, warnings for data faults; the start was logged at warn", async () => {
    const reload = await c.request<Reload>("composition:reload", {});
    expect(reload.indexed).toBe(6);
    expect(reload.invalid).toEqual([]);
    expect(reload.ignored.map((i) => `${i.path} ${i.reason}`)).toEqual([
      ".gitignore hidden",
      "README.md no_front_matter",
      "experiments/runs.jsonl other_file",
      "orchestrations/adaptive_tournament_v2_decisions.yaml decision_log",
    ]);
    expect(reload.warnings).toEqual([
      { path: "orchestrations/adaptive_tournament_v2.yaml", message: "extends: extends tournament_basic, which is not in the store: compose fails until it is" },
      { path: "orchestrations/test_base_single_agent.yaml", message: expect.stringMatching(/^name: the name test_system_single_agent differs from the file name test_base_single_agent/) },
    ]);
    expect(reload.indexed + reload.invalid.length + reload.ignored.length).toBe(await fileCount(store));
    const log = await readJsonLines(join(d.home, "var", "log", "daemon.log"));
    const indexedLine = log.find((line) => line.indexed !== undefined && String(line.msg).startsWith("pattern store indexed"));
    expect(indexedLine).toMatchObject({ level: 40, indexed: 6, invalid: 0, ignored: 4, warnings: 2, reasons: { hidden: 1, no_front_matter: 1, other_file: 1, decision_log: 1 } });
  });

  it("list and get show a pattern's warnings; compose fails naming the missing parent", async () => {
    const got = await c.request<{ warnings?: { path: string }[] }>("composition:get", { name: "adaptive_tournament_v2" });
    expect(got.warnings).toEqual([{ path: "extends", message: expect.stringMatching(/tournament_basic/) }]);
    const error = await failure(c, "composition:compose", { name: "adaptive_tournament_v2" });
    expect(error.code).toBe("not_found");
    expect(error.message).toBe("no composition tournament_basic (needed by adaptive_tournament_v2)");
    expect((await c.request<{ composition: Msg }>("composition:compose", { name: "tournament_basic_v1" })).composition.name).toBe("tournament_basic_v1");
  });

  it("a file with data faults is saved without error, where it is, its faults kept", async () => {
    const saved = await c.request<{ version: string }>("composition:update", { name: "adaptive_tournament_v2", set: { "metadata.tags": ["adaptive"] } });
    expect(saved.version).toBe("1.0.1");
    const text = readFileSync(join(store, "orchestrations", "adaptive_tournament_v2.yaml"), "utf8");
    expect(text).toMatch(/^extends: tournament_basic$/m);
    expect(text).toMatch(/^orchestration_logic: \|\n {2}STATE rounds = 3\n/m);
    await c.request("composition:update", { name: "test_system_single_agent", set: { description: "One agent, tested" } });
    expect(readFileSync(join(store, "orchestrations", "test_base_single_agent.yaml"), "utf8")).toMatch(/description: One agent, tested/);
    await c.request("composition:update", { name: "agent_messaging", set: { description: "Messages" } });
    expect(readFileSync(join(store, "capabilities", "agent_messaging.yaml"), "utf8")).toMatch(/description: Messages/);
    expect(await git(store, "status", "--porcelain")).toBe("");
  });

  it("a NEW pattern an agent saves is still validated: a missing parent is refused, naming it", async () => {
    const error = await failure(c, "composition:save", {
      composition: { name: "newcomer", type: "orchestration", version: "0.1.0", description: "new", extends: "tournament_basic" },
    });
    expect(error.code).toBe("not_found");
    expect(error.message).toMatch(/tournament_basic/);
  });

  it("pat reload prints the account for people", async () => {
    const run = await pat(d.home, ["reload", "--json"]);
    expect(run.code).toBe(0);
    expect(json<Reload>(run).indexed).toBe(6);
    // Its warnings are in the account, not echoed on stderr one by one.
    expect(run.stderr).toBe("");
  });
});

describe("the September layout (markdown front matter, component_type:, nested components/)", () => {
  let d: Daemon;
  let c: Client;
  let store: string;

  beforeAll(async () => {
    store = await repository(SEPTEMBER);
    d = await startDaemon({ args: ["--store", store] });
    c = await d.client({ agentId: "orch_2" });
  });

  it("indexes the markdown components by their front matter, component_type as the type", async () => {
    const { compositions } = await c.request<{ compositions: { name: string; type: string; path: string }[] }>("composition:list", {});
    expect(compositions.map((p) => `${p.name} ${p.type} ${p.path}`)).toEqual([
      "analyst agent components/agents/analyst.md",
      "structured_event_emission behavior components/behaviors/communication/ksi_events_as_tool_calls.md",
      "suite evaluation_suite evaluations/suite.yml",
      "tournament_coordinator persona components/personas/coordinators/tournament_coordinator.md",
    ]);
    expect((await c.request<{ compositions: unknown[] }>("composition:list", { type: "agent" })).compositions).toHaveLength(1);
  });

  it("reload accounts for every file", async () => {
    const reload = await c.request<Reload>("composition:reload", {});
    expect(reload.indexed).toBe(4);
    expect(reload.invalid.map((f) => f.path)).toEqual(["components/personas/analysts/broken.md"]);
    expect(reload.invalid[0]!.issues[0]).toEqual({ path: "name", message: "name is required" });
    expect(reload.ignored.map((i) => `${i.path} ${i.reason}`)).toEqual(["components/docs/guide.md no_front_matter", "components/notes/plan.md not_a_composition"]);
    expect(reload.warnings.map((w) => w.path)).toEqual([
      "components/behaviors/communication/ksi_events_as_tool_calls.md",
      "components/personas/coordinators/tournament_coordinator.md",
    ]);
    expect(reload.indexed + reload.invalid.length + reload.ignored.length).toBe(await fileCount(store));
  });

  it("a save changes the front matter only: the body byte for byte, component_type kept, no second type field", async () => {
    const saved = await c.request<{ version: string }>("composition:update", { name: "analyst", set: { description: "Analyses any data", type: "agent" } });
    expect(saved.version).toBe("1.0.1");
    const text = readFileSync(join(store, "components", "agents", "analyst.md"), "utf8");
    expect(text).toBe(
      `---\ncomponent_type: agent  # KSI's field\nname: analyst\nversion: 1.0.1\ndescription: Analyses any data\ndependencies:\n  - core/base_agent\n---\n${AGENT_BODY}`,
    );
    const got = await c.request<{ yaml: string; composition: Msg }>("composition:get", { name: "analyst", format: "yaml" });
    expect(got.yaml.startsWith("component_type: agent")).toBe(true);
    expect(got.yaml).not.toMatch(/---|Never guess/);
    // The YAML text saved back as it came (a new version) keeps the body too.
    await c.request("composition:save", { yaml: got.yaml.replace("version: 1.0.1", "version: 1.1.0") });
    expect(readFileSync(join(store, "components", "agents", "analyst.md"), "utf8").endsWith(`---\n${AGENT_BODY}`)).toBe(true);
  });

  it("a component without a description is served and saved; a hand edit deep down is picked up", async () => {
    await c.request("composition:update", { name: "tournament_coordinator", set: { "metadata.tags": ["tournament"] } });
    writeFileSync(join(store, "components", "agents", "analyst.md"), readFileSync(join(store, "components", "agents", "analyst.md"), "utf8").replace("version: 1.1.0", "version: 1.2.0"));
    await waitFor("the hand edit picked up", async () => (await c.request<{ version: string }>("composition:get", { name: "analyst" })).version === "1.2.0", 10_000, 50);
    mkdirSync(join(store, "components", "agents", "new_folder"));
    writeFileSync(join(store, "components", "agents", "new_folder", "late.md"), "---\ncomponent_type: agent\nname: late\nversion: 1.0.0\ndescription: d\n---\nbody\n");
    await waitFor("a file in a new folder picked up", async () => (await c.send("composition:get", { name: "late" })).ok, 10_000, 50);
  });

  it("the daemon still serves and the store passes fsck", async () => {
    expect((await c.request<{ status: string }>("system:health", {})).status).toBeTruthy();
    await expectFsckClean(store);
  });
});
