/**
 * Who a person's changes are from (issue 16, item 4): --agent-id, else
 * PATTERND_AGENT_ID, else git's user.name, else the login name; never
 * "patternd".
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, startDaemon, type Daemon } from "./harness.js";
import { json, patIn } from "./pat-process.js";
import { trailers } from "./store-git.js";

afterAll(cleanup);

let daemon: Daemon;
let store: string;

beforeAll(async () => {
  daemon = await startDaemon();
  store = join(daemon.home, "var", "lib", "compositions");
});

/** A user's environment: their own HOME (and so git config), login name, and what they set. */
async function person(gitName: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const home = await makeHome();
  await mkdir(home, { recursive: true });
  if (gitName !== undefined) await writeFile(join(home, ".gitconfig"), `[user]\n\tname = ${gitName}\n`);
  return { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1", USER: "ada", LOGNAME: "ada", ...env };
}

async function forkAs(name: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<Record<string, string>> {
  const run = await patIn(daemon.home, ["fork", "tournament", name, "--reason", "whose change is it", "--json", ...extra], env);
  expect(run.code, run.stderr).toBe(0);
  return trailers(store, json<{ commit: string }>(run).commit);
}

describe("who pat's changes are from", () => {
  it("is the person as git knows them when nothing else says", async () => {
    expect((await forkAs("by_git_name", await person("Ada Lovelace"))).Agent).toBe("Ada Lovelace");
  });

  it("is their login name when git has no user.name", async () => {
    expect((await forkAs("by_login", await person(undefined))).Agent).toBe("ada");
  });

  it("is PATTERND_AGENT_ID when set, and --agent-id above it", async () => {
    expect((await forkAs("by_env", await person("Ada Lovelace", { PATTERND_AGENT_ID: "orch_env" }))).Agent).toBe("orch_env");
    expect((await forkAs("by_flag", await person("Ada Lovelace", { PATTERND_AGENT_ID: "orch_env" }), ["--agent-id", "orch_flag"])).Agent).toBe("orch_flag");
  });
});
