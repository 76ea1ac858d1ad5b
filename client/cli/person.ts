/**
 * Who the person at the keyboard is, as git knows them (user.name), else
 * their login name: a change a person makes is never attributed to
 * "patternd" (issue 16, item 4). Loaded only when no agent is named
 * (--agent-id, PATTERND_AGENT_ID): starting processes means loading
 * node:child_process, which an agent's call need not pay for (item 5).
 */
import { spawnSync } from "node:child_process";
import { userInfo } from "node:os";

export function personName(env: NodeJS.ProcessEnv): string | undefined {
  const git = spawnSync("git", ["config", "--get", "user.name"], { encoding: "utf8", timeout: 2_000 });
  const name = git.status === 0 ? git.stdout.trim() : "";
  if (name !== "") return name.slice(0, 128);
  try {
    return env.USER ?? env.LOGNAME ?? userInfo().username;
  } catch {
    return undefined;
  }
}
