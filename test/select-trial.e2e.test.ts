/**
 * composition:select with explore (issue 17) on a real daemon: the best
 * candidate under trial (an arm of a split label between a parent and its
 * fork) gives way to the arm the caller's key picks, with a reason saying
 * so; the same key always gets the same arm, as composition:resolve gives
 * it; without explore the answer is exactly what it was before the trial.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";

type Msg = Record<string, unknown>;

interface Selected {
  selected: string | null;
  explanation?: string;
  candidates: { name: string; version: string; reasons: string[] }[];
  trial?: { label: string; arm: string; name: string; version: string; key: string };
}

let d: Daemon;
let c: Client;
const TASK = "referee a chess ladder between engines";

beforeAll(async () => {
  d = await startDaemon();
  c = await d.client({ agentId: "ladder_bot" });
  await c.request("composition:save", { composition: { name: "ladder", type: "orchestration", version: "1.0.0", description: "Referee a chess ladder between engines, round by round" } });
  await c.request("composition:fork", { parent: "ladder", name: "ladder_swiss", reason: "Swiss pairing", modifications: { description: "Swiss pairing for a chess ladder" } });
});
afterAll(cleanup);

describe("composition:select explore", () => {
  it("without explore the answer is the same before and after a trial starts; with explore, the key's arm with a reason", async () => {
    const before = await c.request<Selected>("composition:select", { task: TASK });
    expect(before.selected).toBe("ladder");
    expect(before.trial).toBeUndefined();
    const fork = before.candidates.find((x) => x.name === "ladder_swiss")!.version;
    await c.request("composition:label", { name: "ladder", label: "trial", split: { "ladder@1.0.0": 50, [`ladder_swiss@${fork}`]: 50 } });

    expect(await c.request<Selected>("composition:select", { task: TASK })).toEqual(before);
    expect(await c.request<Selected>("composition:select", { task: TASK, explore: false })).toEqual(before);

    const arms = new Set<string>();
    for (let run = 0; run < 40; run++) {
      const key = `run-${run}`;
      const explored = await c.request<Selected>("composition:select", { task: TASK, explore: true, key });
      const resolved = await c.request<{ name: string; version: string; arm: string }>("composition:resolve", { ref: "ladder@trial", key });
      expect(explored.trial).toEqual({ label: "ladder@trial", arm: resolved.arm, name: resolved.name, version: resolved.version, key, split: { "ladder@1.0.0": 0.5, [`ladder_swiss@${fork}`]: 0.5 } });
      expect(explored.selected).toBe(resolved.name);
      expect(explored.explanation).toContain(`under trial: ladder@trial splits 50/50 between ladder@1.0.0 and ladder_swiss@${fork}; key ${key} gets ${resolved.arm}`);
      expect(explored.candidates[0]!.reasons.at(-1)).toMatch(/^under trial: ladder@trial splits 50\/50/);
      // Sticky: the same key, the same arm.
      expect(await c.request<Selected>("composition:select", { task: TASK, explore: true, key })).toEqual(explored);
      arms.add(resolved.arm);
    }
    expect(arms.size).toBe(2);

    // No key: the agent id is the key.
    const byAgent = await c.request<Selected>("composition:select", { task: TASK, explore: true });
    expect(byAgent.trial?.key).toBe("ladder_bot");
  });

  it("key without explore is refused with the right form; the daemon still serves", async () => {
    const reply = await c.send("composition:select", { task: TASK, key: "run-1" });
    expect(reply.ok).toBe(false);
    const error = (reply as unknown as { error: { code: string; message: string; details: Msg } }).error;
    expect(error.code).toBe("invalid_params");
    expect(JSON.stringify(error.details)).toContain("key picks a trial's arm, so it goes with explore: true");
    expect((await c.request<Selected>("composition:select", { task: TASK })).selected).toBe("ladder");
  });
});
