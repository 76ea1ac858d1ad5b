import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { Bus, type RoutedEvent } from "./bus.js";
import { manualClock } from "./clock.js";
import { DaemonError } from "./errors.js";
import { defineEvent, type HandlerContext } from "./event.js";
import { silentLog } from "./log.js";
import { Registry } from "./registry.js";
import { Router, type Outcome } from "./router.js";
import type { Session } from "./session.js";

interface Deferred {
  promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (value: unknown) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup() {
  const clock = manualClock(1_700_000_000_000);
  const bus = new Bus((err) => {
    throw err;
  });
  const registry = new Registry();
  const log = silentLog();
  const published: RoutedEvent[] = [];
  bus.subscribe((event) => published.push({ ...event }));
  const pending: Deferred[] = [];
  const seen: HandlerContext[] = [];

  const events = [
    defineEvent({
      name: "test:echo",
      summary: "echo",
      params: z.strictObject({
        n: z.number().int(),
        tags: z.array(z.string()).optional(),
        nested: z.strictObject({ deep: z.string() }).optional(),
      }),
      handler: (data, ctx) => {
        seen.push(ctx);
        return { n: data.n };
      },
    }),
    defineEvent({
      name: "test:slow",
      summary: "resolves when the test says so",
      params: z.strictObject({}),
      handler: () => {
        const d = deferred();
        pending.push(d);
        return d.promise;
      },
    }),
    defineEvent({
      name: "test:missing",
      summary: "throws a DaemonError",
      params: z.strictObject({}),
      handler: () => {
        throw new DaemonError("not_found", "no pattern named x", { name: "x" });
      },
    }),
    defineEvent({
      name: "test:bug",
      summary: "throws unexpectedly",
      params: z.strictObject({}),
      handler: () => {
        throw new Error("SECRET-DETAIL at /home/user/file.ts:12");
      },
    }),
    defineEvent({
      name: "test:defaults",
      summary: "fills a default",
      params: z.strictObject({ limit: z.number().default(100) }),
      handler: (data) => data,
    }),
  ];
  for (const def of events) registry.add(def);
  const router = new Router(registry, bus, clock, log);
  return { clock, bus, registry, log, router, published, pending, seen };
}

function session(agentId?: string): Session {
  return { id: 1, agentId, nesting: 0, push: () => true, onClose: () => undefined, onInputEnd: () => undefined };
}

function sync(outcome: Outcome | Promise<Outcome>): Outcome {
  if (outcome instanceof Promise) throw new Error("expected a synchronous outcome");
  return outcome;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Router.dispatch", () => {
  it("answers an unknown event with unknown_event and suggestions", () => {
    const { router } = setup();
    const outcome = sync(router.dispatch({ event: "test:echoo", data: {} }));
    expect(outcome).toMatchObject({ ok: false, error: { code: "unknown_event", details: { suggestions: ["test:echo"] } } });
    if (!outcome.ok) expect(outcome.error.message).toContain("test:echo");
  });

  it("answers a name outside every namespace of built-in events with no_handler: how to publish it, system:discover when nothing is close, no empty suggestions", () => {
    const { router } = setup();
    const outcome = sync(router.dispatch({ event: "zzzzzz:qqqqqqqq", data: {} }));
    if (outcome.ok) throw new Error("expected no_handler");
    expect(outcome.error.code).toBe("no_handler");
    expect(outcome.error).not.toHaveProperty("details");
    expect(outcome.error.message).toContain("to publish your own event, use event:emit");
    expect(outcome.error.message).toContain("system:discover");
  });

  it("a missing field is '<path> is required', with the event's example value", () => {
    const { router, registry } = setup();
    registry.add(defineEvent({ name: "test:named", summary: "needs a name", params: z.strictObject({ name: z.string() }), example: { name: "tournament" }, handler: () => null }));
    const outcome = sync(router.dispatch({ event: "test:named", data: {} }));
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: "invalid_params", message: 'invalid data for test:named: name is required (e.g. "tournament")', details: { issues: [{ path: "name", message: 'name is required (e.g. "tournament")' }] } },
    });
  });

  it.each<[string, Record<string, unknown>, { path: string; messageContains?: string }[]]>([
    ["wrong type at the top", { n: "one" }, [{ path: "n" }]],
    ["missing required field", {}, [{ path: "n" }]],
    ["nested path", { n: 1, nested: { deep: 5 } }, [{ path: "nested.deep" }]],
    ["array index in the path", { n: 1, tags: ["a", 2] }, [{ path: "tags.1" }]],
    ["unknown key of a strict object", { n: 1, extra: true }, [{ path: "", messageContains: "extra" }]],
    ["several issues", { n: 1.5, nested: {} }, [{ path: "n" }, { path: "nested.deep" }]],
  ])("answers invalid data with invalid_params: %s", (_name, data, expected) => {
    const { router, seen } = setup();
    const outcome = sync(router.dispatch({ event: "test:echo", data }));
    if (outcome.ok) throw new Error("expected invalid_params");
    expect(outcome.error.code).toBe("invalid_params");
    const issues = (outcome.error.details as { issues: { path: string; message: string }[] }).issues;
    expect(issues.map((issue) => issue.path)).toEqual(expected.map((e) => e.path));
    for (const [i, e] of expected.entries()) {
      expect(issues[i]!.message.length).toBeGreaterThan(0);
      if (e.messageContains !== undefined) expect(issues[i]!.message).toContain(e.messageContains);
    }
    expect(outcome.error.message).toContain("test:echo");
    if (expected.length > 1) expect(outcome.error.message).toContain(`and ${expected.length - 1} more`);
    expect(seen).toHaveLength(0); // the handler never ran
  });

  it("runs a synchronous handler synchronously with its context", () => {
    const { router, seen } = setup();
    const outcome = router.dispatch({ event: "test:echo", data: { n: 3 }, id: "r1", agentId: "a1", depth: 2 });
    expect(outcome).toMatchObject({ ok: true, data: { n: 3 } });
    expect(seen).toEqual([{ agentId: "a1", requestId: "r1", depth: 2, session: null }]);
    // The outcome carries the record its dispatch published (event:emit reads `delivered` from it).
    expect((outcome as Outcome).routed).toMatchObject({ event: "test:echo", id: "r1", agentId: "a1", ok: true });
  });

  it("takes the agent_id from the session when the request has none", () => {
    const { router, seen, published } = setup();
    const s = session("from-hello");
    sync(router.dispatch({ event: "test:echo", data: { n: 1 }, session: s }));
    sync(router.dispatch({ event: "test:echo", data: { n: 2 }, session: s, agentId: "explicit" }));
    expect(seen.map((ctx) => ctx.agentId)).toEqual(["from-hello", "explicit"]);
    expect(seen[0]!.session).toBe(s);
    expect(seen[0]!.requestId).toBeNull();
    expect(seen[0]!.depth).toBe(0);
    expect(published.map((e) => e.agentId)).toEqual(["from-hello", "explicit"]);
  });

  it("hands the handler the parsed data, defaults applied", () => {
    const { router } = setup();
    expect(router.dispatch({ event: "test:defaults", data: {} })).toMatchObject({ ok: true, data: { limit: 100 } });
  });

  it("awaits an asynchronous handler", async () => {
    const { router, pending } = setup();
    const outcome = router.dispatch({ event: "test:slow", data: {} });
    expect(outcome).toBeInstanceOf(Promise);
    pending[0]!.resolve({ done: true });
    await expect(outcome).resolves.toMatchObject({ ok: true, data: { done: true } });
  });

  it("turns a DaemonError into its code, message and details", () => {
    const { router } = setup();
    expect(router.dispatch({ event: "test:missing", data: {} })).toMatchObject({
      ok: false,
      error: { code: "not_found", message: "no pattern named x", details: { name: "x" } },
    });
  });

  it("turns a rejected DaemonError into its code", async () => {
    const { router, pending } = setup();
    const outcome = router.dispatch({ event: "test:slow", data: {} });
    pending[0]!.reject(new DaemonError("conflict", "version not newer"));
    await expect(outcome).resolves.toMatchObject({ ok: false, error: { code: "conflict", message: "version not newer" } });
  });

  it.each<[string, (router: Router, pending: Deferred[]) => Promise<Outcome>]>([
    ["thrown", (router) => Promise.resolve(router.dispatch({ event: "test:bug", data: {} }))],
    [
      "rejected",
      async (router, pending) => {
        const outcome = router.dispatch({ event: "test:slow", data: {} });
        pending[0]!.reject(new TypeError("SECRET-DETAIL: cannot read x of undefined"));
        return outcome;
      },
    ],
    [
      "rejected with a non-Error",
      async (router, pending) => {
        const outcome = router.dispatch({ event: "test:slow", data: {} });
        pending[0]!.reject("SECRET-DETAIL");
        return outcome;
      },
    ],
  ])("turns an unexpected error (%s) into internal, logged but not on the wire", async (_name, run) => {
    const { router, pending, log } = setup();
    const logged = vi.spyOn(log, "error");
    const outcome = await run(router, pending);
    if (outcome.ok) throw new Error("expected an error");
    expect(outcome.error.code).toBe("internal");
    expect(outcome.error.message).not.toContain("SECRET-DETAIL");
    expect(outcome.error.message).not.toMatch(/\bat\s|\.ts:\d/);
    expect(outcome.error.details).toBeUndefined();
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it("does not log an expected DaemonError as a failure", () => {
    const { router, log } = setup();
    const logged = vi.spyOn(log, "error");
    sync(router.dispatch({ event: "test:missing", data: {} }));
    expect(logged).not.toHaveBeenCalled();
  });
});

describe("Router publishes every dispatch on the bus", () => {
  it("records ok, code, ms, id, agent and data for each outcome, in order", async () => {
    const { router, published, pending, clock } = setup();
    const t0 = clock.now();
    sync(router.dispatch({ event: "test:echo", data: { n: 1 }, id: 1, agentId: "a" }));
    sync(router.dispatch({ event: "test:nope", data: { q: 1 }, id: 2 }));
    sync(router.dispatch({ event: "test:echo", data: { n: "x" }, id: 3 }));
    sync(router.dispatch({ event: "test:missing", data: {}, id: 4 }));
    sync(router.dispatch({ event: "test:bug", data: {}, id: 5 }));
    const slow = router.dispatch({ event: "test:slow", data: {}, id: 6, meta: { schedule_id: "sch_1" } });
    expect(published).toHaveLength(5); // the slow one is published when it finishes
    clock.advance(250);
    pending[0]!.resolve("late");
    await slow;

    expect(published.map((e) => [e.seq, e.event, e.id, e.ok, e.code])).toEqual([
      [1, "test:echo", 1, true, undefined],
      [2, "test:nope", 2, false, "unknown_event"],
      [3, "test:echo", 3, false, "invalid_params"],
      [4, "test:missing", 4, false, "not_found"],
      [5, "test:bug", 5, false, "internal"],
      [6, "test:slow", 6, true, undefined],
    ]);
    expect(published[0]).toMatchObject({ agentId: "a", data: { n: 1 }, ts: t0 });
    expect(published[1]).toMatchObject({ agentId: undefined, data: { q: 1 } });
    expect(published[0]!.code).toBeUndefined();
    expect(published[5]).toMatchObject({ ts: t0 + 250, meta: { schedule_id: "sch_1" } });
    expect(published[0]!.meta).toBeUndefined();
    for (const event of published) {
      expect(typeof event.ms).toBe("number");
      expect(event.ms).toBeGreaterThanOrEqual(0);
    }
  });

  it("measures ms from lookup to outcome", () => {
    const { router, published } = setup();
    vi.spyOn(performance, "now").mockReturnValueOnce(1_000).mockReturnValueOnce(1_042.5);
    sync(router.dispatch({ event: "test:echo", data: { n: 1 } }));
    expect(published[0]!.ms).toBe(42.5);
  });

  it("records a missing id as null", () => {
    const { router, published } = setup();
    sync(router.dispatch({ event: "test:echo", data: { n: 1 } }));
    expect(published[0]!.id).toBeNull();
  });
});

describe("Bus", () => {
  it("reports a throwing listener and still runs the others", () => {
    const failures: unknown[] = [];
    const bus = new Bus((err) => failures.push(err));
    const seen: number[] = [];
    bus.subscribe(() => {
      throw new Error("listener broke");
    });
    bus.subscribe((event) => seen.push(event.seq));
    bus.publish({ ts: 0, event: "x:y", id: null, agentId: undefined, ok: true, ms: 0, data: {} });
    expect(seen).toEqual([1]);
    expect(failures).toHaveLength(1);
  });
});

describe("Router with checkResults (PATTERND_CHECK_RESULTS=1)", () => {
  const counted = defineEvent({
    name: "test:counted",
    summary: "answers {count}",
    params: z.strictObject({ count: z.unknown() }),
    result: z.object({ count: z.number().int() }),
    handler: (data) => ({ count: data.count }),
  });

  function routerFor(checkResults: boolean): Router {
    const registry = new Registry();
    registry.add(counted);
    return new Router(registry, new Bus(() => undefined), manualClock(0), silentLog(), checkResults);
  }

  it("passes a reply that matches the event's result schema", () => {
    expect(sync(routerFor(true).dispatch({ event: "test:counted", data: { count: 3 } }))).toMatchObject({ ok: true, data: { count: 3 } });
  });

  it("turns a reply that drifts from its result schema into an internal error naming the field", () => {
    const outcome = sync(routerFor(true).dispatch({ event: "test:counted", data: { count: "three" } }));
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: "internal", message: expect.stringContaining('the reply of test:counted does not match its result schema at "count"') as unknown },
    });
  });

  it("leaves replies alone when not asked to check (the default)", () => {
    expect(sync(routerFor(false).dispatch({ event: "test:counted", data: { count: "three" } }))).toMatchObject({ ok: true, data: { count: "three" } });
  });
});
