/**
 * Events and calls across machines through NATS (issue 19), end to end:
 * real daemons in their own homes, one real nats-server. Before this issue
 * a daemon refused --nats (unknown option) and nothing crossed between
 * daemons: a subscriber saw only its own daemon's events, and a call for an
 * event handled on another daemon was no_handler.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerError, RemoteError, type Client } from "../client/index.js";
import { cleanup, failure, makeHome, spawnDaemon, startDaemon, waitFor, type Daemon, type RawConnection } from "./harness.js";
import { natsSkipReason, NatsServer } from "./nats-server.js";
import { pat } from "./pat-process.js";

type Msg = Record<string, unknown>;

const skipReason = natsSkipReason();
if (skipReason !== undefined) console.warn(`test/nats.e2e.test.ts skipped: ${skipReason}`);

/** A monitor:subscribe subscriber on a raw connection: its pushes, as they come. */
class Subscriber {
  private constructor(
    private readonly raw: RawConnection,
    readonly id: string,
  ) {}

  static async open(daemon: Daemon, patterns: string[]): Promise<Subscriber> {
    const raw = await daemon.raw();
    const [reply] = await raw.exchange({ event: "monitor:subscribe", data: { patterns }, id: "sub" });
    return new Subscriber(raw, (reply!.data as Msg).subscription as string);
  }

  pushes(event?: string): Msg[] {
    return this.raw.messages().filter((m) => m.subscription === this.id && (event === undefined || m.event === event));
  }
}

async function health(client: Client): Promise<Msg & { nats: Msg }> {
  return client.request("system:health");
}

describe.skipIf(skipReason !== undefined)("NATS: events and calls across daemons", () => {
  let nats: NatsServer;
  let a: Daemon;
  let b: Daemon;
  let c: Daemon;
  let clientA: Client;
  let clientB: Client;
  let clientC: Client;

  beforeAll(async () => {
    nats = await NatsServer.start();
    const link = (exports: string, imports: string) => ["--nats", nats.url, "--nats-export", exports, "--nats-import", imports];
    [a, b, c] = await Promise.all([
      startDaemon({ args: link("task:*,local:*", "task:*") }),
      startDaemon({ args: link("task:*", "task:*") }),
      startDaemon({ args: ["--nats", `127.0.0.1:${nats.port}`] }),
    ]);
    [clientA, clientB, clientC] = await Promise.all([a.client({ agentId: "on_a" }), b.client({ agentId: "on_b" }), c.client()]);
    for (const client of [clientA, clientB, clientC]) await waitFor("the NATS link", async () => (await health(client)).nats.connected === true);
  }, 30_000);

  afterAll(async () => {
    await cleanup();
    await nats?.kill();
  });

  it("a subscriber on A sees the events B exports, with B's id as origin, and nothing is echoed back to B", async () => {
    const idA = (await health(clientA)).nats.daemon_id as string;
    const idB = (await health(clientB)).nats.daemon_id as string;
    expect(idA).toMatch(/^d_[0-9a-f]{16}$/);
    expect(idB).not.toBe(idA);
    const onA = await Subscriber.open(a, ["task:*", "other:*"]);
    const onB = await Subscriber.open(b, ["task:*"]);
    await clientB.request("event:emit", { event: "other:x", data: {} }); // not exported by B
    await clientB.request("event:emit", { event: "task:done", data: { run: 7 } });
    const [seen] = await waitFor("task:done on A", () => (onA.pushes("task:done").length > 0 ? onA.pushes("task:done") : null));
    expect(seen).toMatchObject({ event: "task:done", data: { run: 7 }, origin: idB });
    // A's event log has it too, with its origin.
    const { events } = await clientA.request<{ events: Msg[] }>("monitor:get_events", { patterns: ["task:done"] });
    expect(events.at(-1)).toMatchObject({ event: "task:done", origin: idB, agent_id: "on_b" });
    // A marker after it: once B's own subscriber has the marker, any echo of task:done would have come before it.
    await clientB.request("event:emit", { event: "task:marker", data: {} });
    await waitFor("the marker on B", () => onB.pushes("task:marker").length === 1);
    expect(onB.pushes("task:done")).toHaveLength(1);
    expect(onB.pushes("task:done")[0]!.origin).toBeUndefined();
    expect(onA.pushes("other:x")).toEqual([]);
    const [healthA, healthB] = [await health(clientA), await health(clientB)];
    expect(healthA.nats).toMatchObject({ exported: 0, dropped: 0, last_error: null });
    expect(healthB.nats).toMatchObject({ imported: 0, dropped: 0 });
    expect(healthA.nats.imported).toBeGreaterThanOrEqual(2);
  });

  it("a handler on A answers a call made on B: its data, and its error code, cross", async () => {
    const handlerA = await a.client();
    await handlerA.handle("job:score", (data) => {
      if (data.n === 0) throw new HandlerError("not_found", "no run 0", { run: 0 });
      return { score: (data.n as number) * 2, by: "a" };
    });
    // The registration reaches the NATS server just after its reply.
    const answer = await waitFor("the call to reach A", async () => {
      try {
        return await clientB.request("job:score", { n: 21 });
      } catch (err) {
        if (err instanceof RemoteError && err.code === "no_handler") return null;
        throw err;
      }
    });
    expect(answer).toEqual({ score: 42, by: "a" });
    expect(await failure(clientB.request("job:score", { n: 0 }))).toMatchObject({ code: "not_found", message: "no run 0", details: { run: 0 } });
    // Through event:emit too, as a local handler would be.
    expect(await clientB.request("event:emit", { event: "job:score", data: { n: 1 } })).toMatchObject({ emitted: true, result: { score: 2 } });
    // No handler on any daemon: the same no_handler a local call gets, saying so; an emit of it is a notification, as without the link.
    expect(await failure(clientB.request("job:nobody", {}))).toMatchObject({ code: "no_handler", message: expect.stringContaining("on any daemon of the NATS link") as string });
    expect(await clientB.request("event:emit", { event: "job:nobody", data: {} })).toEqual({ emitted: true, delivered: 0 });
    // A handler's timeout crosses as the same timeout error.
    await handlerA.handle("job:slow", () => new Promise(() => undefined), { timeoutMs: 200 });
    await waitFor("job:slow to be reachable", async () => (await failure(clientB.request("job:slow", {}))).code === "timeout");
    expect((await health(clientA)).nats.calls).toMatchObject({ served: expect.any(Number) as number });
    expect((await health(clientB)).status).toBe("ok");
  });

  it("a group with members on A and B answers each call from C exactly once", async () => {
    const answered: string[] = [];
    for (const [name, daemon] of [["a", a], ["b", b]] as const) {
      const member = await daemon.client();
      await member.handle("pool:work", (data) => {
        answered.push(`${name}:${data.i as number}`);
        return { by: name };
      }, { mode: "group", group: "workers" });
    }
    await waitFor("both members reachable", async () => {
      const bys = new Set<string>();
      for (let i = 0; i < 20; i++) bys.add((await clientC.request<Msg>("pool:work", { i: -1 })).by as string);
      return bys.size === 2;
    });
    answered.length = 0;
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => clientC.request<Msg>("pool:work", { i })));
    expect(answered).toHaveLength(40);
    expect(new Set(answered.map((entry) => entry.split(":")[1])).size).toBe(40);
    expect(replies.map((reply) => reply.by).sort()).toEqual(answered.map((entry) => entry.split(":")[0]).sort());
    // Local first: a call on B goes to B's own member.
    for (let i = 0; i < 5; i++) expect(await clientB.request("pool:work", { i: 100 + i })).toEqual({ by: "b" });
  });

  it("pat start --nats --nats-export --nats-import gives the daemon it starts the same link", async () => {
    const home = await makeHome();
    const started = await pat(home, ["start", "--nats", nats.url, "--nats-export", "task:*", "--nats-import", "task:*,local:*"]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    try {
      await waitFor("pat's daemon on the link", async () => JSON.parse((await pat(home, ["send", "system:health", "--json"])).stdout).nats?.connected === true);
      const linked = await Subscriber.open(a, ["task:*"]);
      await pat(home, ["send", "event:emit", "{\"event\":\"task:from_pat\",\"data\":{\"n\":1}}"]);
      await waitFor("A sees the event pat's daemon exported", () => linked.pushes("task:from_pat").length === 1);
    } finally {
      await pat(home, ["stop"]);
    }
    const refused = await pat(home, ["start", "--nats", "localhost"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--nats must be nats://host:port or host:port");
  }, 30_000);

  it("losing nats-server for 5 s loses no local event, and the link comes back", async () => {
    const onA = await Subscriber.open(a, ["local:*", "task:*"]);
    const onB = await Subscriber.open(b, ["task:*"]);
    await nats.kill();
    await waitFor("A to see the link down", async () => (await health(clientA)).nats.connected === false);
    // Calls for other daemons' events fail at once while the link is down, saying why.
    expect((await failure(clientB.request("job:score", { n: 1 }))).message).toContain("NATS link to other daemons is down");
    let sent = 0;
    let slowest = 0;
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      const started = Date.now();
      await clientA.request("event:emit", { event: "local:tick", data: { i: sent } });
      await clientA.request("event:emit", { event: "task:tick", data: { i: sent } });
      slowest = Math.max(slowest, Date.now() - started);
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor("every local event on A's subscriber", () => onA.pushes("local:tick").length === sent && onA.pushes("task:tick").length === sent);
    expect(onA.pushes("local:tick").map((p) => (p.data as Msg).i)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(slowest).toBeLessThan(1_000);
    await nats.restart();
    for (const client of [clientA, clientB]) await waitFor("the link back", async () => (await health(client)).nats.connected === true, 15_000);
    let n = 0;
    await waitFor(
      "A's events on B again",
      async () => {
        await clientA.request("event:emit", { event: "task:after", data: { n: n++ } });
        return onB.pushes("task:after").length > 0;
      },
      15_000,
      100,
    );
    expect(onB.pushes("task:after")[0]!.origin).toBe((await health(clientA)).nats.daemon_id);
  }, 40_000);
});

describe("NATS settings", () => {
  afterAll(cleanup);

  it.each([
    [["--nats", "http://127.0.0.1:4222"], "--nats must be nats://host:port or host:port, e.g. nats://127.0.0.1:4222"],
    [["--nats", "127.0.0.1"], "--nats must be nats://host:port or host:port"],
    [["--nats", "127.0.0.1:4222", "--nats-export", "task::x"], '--nats-export: "task::x" matches no event name'],
    [["--nats-import", "task:*"], "--nats-export and --nats-import need --nats URL"],
  ])("%j is refused at start with the right form", async (args, message) => {
    const proc = spawnDaemon(await makeHome(), args);
    const exit = await proc.waitExit();
    expect(exit.code).toBe(2);
    expect(proc.stderr()).toContain(message);
  });
});
