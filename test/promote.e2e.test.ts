/**
 * `pat promote` end to end (issue 17): the compiled pat against a real
 * daemon and its git store, with decision logs at known rates written into
 * it. The comparison is always shown first; without a terminal and without
 * --yes nothing moves (exit 2); --yes moves the label in one commit whose
 * reason carries the verdict; a recommendation other than `promote b`, and
 * a protected label, need --force.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../bench/random.js";
import type { Client } from "../client/index.js";
import { formatRecord } from "../daemon/modules/composition/model/decisions.js";
import { cleanup, ROOT, startDaemon, type Daemon } from "./harness.js";
import { hasScript, json, pat, PAT } from "./pat-process.js";
import { git, trailers } from "./store-git.js";

let d: Daemon;
let c: Client;
let store: string;

const START = Date.parse("2026-11-01T00:00:00Z");

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "release_bot" });
  await c.request("composition:save", { composition: { name: "duel", type: "orchestration", version: "1.0.0", description: "Two prompts answer; a judge picks one" } });
  await c.request("composition:update", { name: "duel", set: { description: "Two prompts answer; two judges pick one" } });
  await c.request("composition:label", { name: "duel", label: "production", version: "1.0.0", reason: "first release" });
  const random = seededRandom(11);
  let text = "";
  for (const [version, rate] of [["1.0.0", 0.5], ["1.0.1", 0.8]] as const) {
    for (let i = 0; i < 300; i++) {
      text += formatRecord({
        id: `${version}-${i}`,
        pattern: "duel",
        decision: "judged",
        context: null,
        outcome: random() < rate ? "success" : "failure",
        confidence: 0.7,
        agent_id: "judge",
        timestamp: new Date(START + i * 1000).toISOString(),
        pattern_version: version,
      });
    }
  }
  writeFileSync(join(store, "orchestrations", "duel_decisions.yaml"), text);
});
afterAll(cleanup);

async function production(): Promise<unknown> {
  const { labels } = await c.request<{ labels: { label: string; target: unknown }[] }>("composition:labels", { name: "duel" });
  return labels.find((l) => l.label === "production")?.target;
}

describe("pat promote", () => {
  it("piped and without --yes: prints the comparison, then refuses (exit 2) and moves nothing", async () => {
    const before = await git(store, "rev-parse", "HEAD");
    const run = await pat(d.home, ["promote", "duel@1.0.1", "--to", "production"]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toContain("a: duel@1.0.0 (in place); b: duel@1.0.1 (to promote)");
    expect(run.stdout).toMatch(/b\s+duel@1\.0\.1\s+300\s/);
    expect(run.stdout).toContain("recommendation: promote b");
    expect(run.stderr).toContain("not moving duel@production without confirmation: stdin is not a terminal, so add --yes to move it");
    expect(await production()).toBe("1.0.0");
    expect(await git(store, "rev-parse", "HEAD")).toBe(before);
  });

  it.skipIf(!hasScript)("on a terminal it asks; an answer other than yes moves nothing, y moves it", async () => {
    const onTerminal = (answer: string) => {
      const command = [process.execPath, PAT, "promote", "duel@1.0.1", "--to", "production", "--home", d.home].map((w) => `'${w}'`).join(" ");
      const result = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: ROOT, input: answer, encoding: "utf8", timeout: 20_000, env: { ...process.env, PATTERND_AGENT_ID: "" } });
      return { code: result.status, out: result.stdout.replaceAll("\r\n", "\n") };
    };
    const no = onTerminal("n\n");
    expect(no.out).toContain("Move duel@production from 1.0.0 to 1.0.1? [y/N]");
    expect(no.out).toContain("not confirmed: duel@production stays where it is");
    expect(no.code).toBe(2);
    expect(await production()).toBe("1.0.0");
    const yes = onTerminal("y\n");
    expect(yes.out).toMatch(/duel@production: 1\.0\.0 -> 1\.0\.1 {2}commit/);
    expect(yes.code).toBe(0);
    expect(await production()).toBe("1.0.1");
    // Back, for the next test: a rollback is a move back.
    await c.request("composition:label", { name: "duel", label: "production", version: "1.0.0", reason: "rollback" });
  });

  it("--yes moves the label in one commit whose reason carries the verdict", async () => {
    const run = await pat(d.home, ["promote", "duel@1.0.1", "--to", "production", "--yes"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("recommendation: promote b");
    expect(run.stdout).toMatch(/duel@production: 1\.0\.0 -> 1\.0\.1 {2}commit [0-9a-f]{12}/);
    expect(await production()).toBe("1.0.1");
    const commit = (await git(store, "log", "-1", "--format=%H", "--", "labels.yaml")).trim();
    expect(await trailers(store, commit)).toMatchObject({ Op: "label", Label: "production", From: "1.0.0", To: "1.0.1", Reason: expect.stringMatching(/^promoted over duel@1\.0\.0: promote b, p\(b better\) > 0\.999$/) });
  });

  it("a recommendation other than promote b refuses (exit 2) without --force; --force moves it (a rollback against the evidence)", async () => {
    const refused = await pat(d.home, ["promote", "duel@1.0.0", "--to", "production", "--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain("recommendation: keep a");
    expect(refused.stderr).toContain('the recommendation is "keep a", not "promote b": duel@production stays where it is (--force promotes anyway)');
    expect(await production()).toBe("1.0.1");
    const forced = await pat(d.home, ["promote", "duel@1.0.0", "--to", "production", "--force", "--reason", "rollback drill", "--yes"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await production()).toBe("1.0.0");
  });

  it("a protected label needs --force even when b is better; -o json gives the comparison and the move", async () => {
    await c.request("composition:label", { name: "duel", label: "production", version: "1.0.0", protected: true, force: true, reason: "protect it" });
    const refused = await pat(d.home, ["promote", "duel@1.0.1", "--to", "production", "--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("duel@production is protected (labels.yaml): --force moves it");
    expect(await production()).toBe("1.0.0");
    const forced = await pat(d.home, ["promote", "duel@1.0.1", "--to", "production", "--force", "--yes", "-o", "json"]);
    expect(forced.code, forced.stderr).toBe(0);
    const result = json<{ compare: { recommendation: { action: string } }; moved: { target: string; previous: string; commit: string } }>(forced);
    expect(result.compare.recommendation.action).toBe("promote_b");
    expect(result.moved).toMatchObject({ target: "1.0.1", previous: "1.0.0" });
    expect(await trailers(store, result.moved.commit)).toMatchObject({ Forced: "true" });
  });

  it("mistakes are usage errors that show the right form; the daemon still serves", async () => {
    const noLabel = await pat(d.home, ["promote", "duel@1.0.1"]);
    expect(noLabel.code).toBe(2);
    expect(noLabel.stderr).toContain("pat promote needs --to LABEL, the label to move, e.g. pat promote duel@1.0.1 --to production");
    const noVersion = await pat(d.home, ["promote", "duel", "--to", "production"]);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain("pat promote needs NAME@VERSION");
    const newLabel = await pat(d.home, ["promote", "duel@1.0.1", "--to", "staging"]);
    expect(newLabel.code).toBe(2);
    expect(newLabel.stderr).toContain("duel has no label staging yet: give --over REF");
    const overNew = await pat(d.home, ["promote", "duel@1.0.1", "--to", "staging", "--over", "duel@1.0.0", "--yes"]);
    expect(overNew.code, overNew.stderr).toBe(0);
    expect(overNew.stdout).toContain("duel@staging: nothing -> 1.0.1");
    const typo = await pat(d.home, ["promote", "duel@1.0.1", "--to", "production", "--yse"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean --yes");
    expect((await c.request<{ version: string }>("composition:get", { name: "duel@production" })).version).toBe("1.0.1");
  });
});
