/**
 * `pat run` is the daemon (issue 16, item 6): it runs in pat's own process,
 * so a kill -9 of what a person started leaves nothing holding the socket,
 * and it prints where it logs and one line per change.
 */
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeHome, socketPathOf, waitFor } from "./harness.js";
import { pat, spawnPat } from "./pat-process.js";

afterAll(cleanup);

describe("pat run", () => {
  it("is the daemon itself: kill -9 of it leaves no daemon behind", async () => {
    const home = await makeHome();
    const run = spawnPat(home, ["run", "--home", home]);
    await waitFor("the banner", () => run.stdout().includes("listening on"), 20_000);
    const status = JSON.parse((await pat(home, ["status", "--json"])).stdout) as { pid: number };
    expect(status.pid).toBe(run.pid);
    await run.signal("SIGKILL");
    const after = await pat(home, ["status"]);
    expect(after.code).toBe(3);
    // A new daemon starts in the same home at once: nothing holds the lock or the socket.
    expect((await pat(home, ["start"])).code).toBe(0);
    expect((await pat(home, ["stop"])).code).toBe(0);
    expect(existsSync(socketPathOf(home))).toBe(false);
  });

  it("says where it logs and prints one line per change, none for reads", async () => {
    const home = await makeHome();
    const run = spawnPat(home, ["run", "--home", home]);
    await waitFor("the banner", () => run.stdout().includes("Changes as they happen:"), 20_000);
    expect(run.stdout()).toMatch(/^log: .*var\/log\/daemon\.log/m);
    await pat(home, ["send", "composition:list"]);
    await pat(home, ["fork", "tournament", "tournament_run", "--reason", "see the change line", "--agent-id", "orch_run"]);
    await pat(home, ["send", "state:set", "--key", "run.status", "--value", "done"]);
    await waitFor("the change lines", () => run.stdout().includes("state:set run.status"), 10_000);
    const changes = run.stdout().split("Changes as they happen:\n")[1]!.trim().split("\n");
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatch(/^\d\d:\d\d:\d\d composition:fork tournament_run by orch_run$/);
    expect(changes[1]).toMatch(/^\d\d:\d\d:\d\d state:set run\.status/);
    const exit = await run.signal("SIGTERM");
    expect(exit.code).toBe(0);
  });
});
