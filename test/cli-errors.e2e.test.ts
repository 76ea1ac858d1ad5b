/**
 * Issue 16, item 8: error messages that say what to do. A real daemon in a
 * temporary home, asked over its socket (what agents read) and through the
 * compiled `pat` on pipes and on a pseudo-terminal (script(1)): a missing
 * field is "<path> is required" with an example (pat: `--name tournament`),
 * a wrong type says what was expected and what came, a bare word where the
 * JSON data goes suggests `--name WORD`, an event outside the daemon's
 * namespaces says to publish it with event:emit, and no error carries an
 * empty suggestion list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { RemoteError } from "../client/index.js";
import { cleanup, startDaemon, type Daemon } from "./harness.js";
import { hasScript, json, pat, patOnTerminal } from "./pat-process.js";

afterAll(cleanup);

interface WireError {
  code: string;
  message: string;
  details?: { issues?: { path: string; message: string }[]; suggestions?: string[] };
}

async function failure(request: Promise<unknown>): Promise<WireError> {
  const err = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RemoteError)) throw new Error(`expected the daemon to answer an error, got ${String(err)}`);
  return { code: err.code, message: err.message, details: err.details as WireError["details"] };
}

describe("error messages that say what to do", () => {
  let d: Daemon;
  let client: Client;

  beforeAll(async () => {
    d = await startDaemon();
    client = await d.client();
  });

  it("a missing field: '<path> is required' with the event's example, in the message and in each issue (the socket, as agents read it)", async () => {
    const error = await failure(client.request("composition:fork", { parent: "tournament" }));
    expect(error.code).toBe("invalid_params");
    expect(error.message).toBe('invalid data for composition:fork: name is required (e.g. "tournament_swiss") (and 1 more: reason)');
    expect(error.details!.issues).toEqual([
      { path: "name", message: 'name is required (e.g. "tournament_swiss")' },
      { path: "reason", message: 'reason is required (e.g. "Swiss pairing for 5-10 participants")' },
    ]);
    expect(JSON.stringify(error)).not.toContain("Invalid input");
  });

  it("pat send with a missing field: each as the option that gives it, on stderr; the daemon's error as JSON on stdout when piped", async () => {
    const run = await pat(d.home, ["send", "composition:fork", "--parent", "tournament"]);
    expect(run.code).toBe(1);
    expect(json<{ error: WireError }>(run).error.details!.issues![0]).toEqual({ path: "name", message: 'name is required (e.g. "tournament_swiss")' });
    expect(run.stderr).toContain("error [invalid_params]: invalid data for composition:fork: name is required");
    expect(run.stderr).toContain("\n  name is required (e.g. --name tournament_swiss)\n");
    expect(run.stderr).toContain("\n  reason is required (e.g. --reason 'Swiss pairing for 5-10 participants')");
    expect(run.stderr).not.toContain("Invalid input");
  });

  it.skipIf(!hasScript)("the same on a terminal", () => {
    const run = patOnTerminal(d.home, ["send", "composition:fork", "--parent", "tournament"], { NO_COLOR: "1" });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ {2}name is required \(e\.g\. --name tournament_swiss\)$/m);
  });

  it("a wrong type says what was expected and what came", async () => {
    const run = await pat(d.home, ["send", "composition:get", '{"name": 5}']);
    expect(run.code).toBe(1);
    const { error } = json<{ error: WireError }>(run);
    expect(error.message).toBe('invalid data for composition:get at "name": expected string, received number');
    expect(run.stderr).toContain("\n  name: expected string, received number");
  });

  it("a bare word where the JSON data goes: a usage error suggesting --name WORD, and that form works", async () => {
    const run = await pat(d.home, ["send", "composition:get", "tournament"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`pat: the data argument "tournament" is not JSON; did you mean --name tournament? (or the object '{"name":"tournament"}')`);
    expect(run.stderr).not.toContain("Unexpected token");
    const followed = await pat(d.home, ["send", "composition:get", "--name", "tournament"]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(json(followed)).toMatchObject({ name: "tournament" });
    // key=value is taken for --key value.
    const assigned = await pat(d.home, ["send", "composition:get", "name=tournament"]);
    expect(assigned.code).toBe(2);
    expect(assigned.stderr).toContain("did you mean --name tournament?");
  });

  it("an event outside the daemon's namespaces that nobody handles: how to publish it (event:emit); no empty suggestion list", async () => {
    const error = await failure(client.request("myapp:ready", {}));
    expect(error.code).toBe("no_handler");
    expect(error.message).toContain("to publish your own event, use event:emit");
    expect(error).not.toHaveProperty("details", expect.anything());
    const run = await pat(d.home, ["send", "myapp:ready"]);
    expect(run.code).toBe(1);
    expect(json<{ error: WireError }>(run).error).not.toHaveProperty("details");
    expect(run.stderr).toContain("to publish your own event, use event:emit");
    expect(run.stderr).not.toContain("suggestions");
    // Doing what it says publishes it.
    const emitted = await pat(d.home, ["send", "event:emit", "--event", "myapp:ready"]);
    expect(emitted.code, emitted.stderr).toBe(0);
    expect(json(emitted)).toMatchObject({ emitted: true });
  });

  it("unknown events: suggestions when some are close, no details when none are (router, system:help, event:emit)", async () => {
    expect((await failure(client.request("system:helth", {}))).details).toEqual({ suggestions: expect.arrayContaining(["system:health"]) as unknown });
    for (const [event, data] of [
      ["system:zzzzzzzzzz", {}],
      ["system:help", { event: "system:zzzzzzzzzz" }],
      ["event:emit", { event: "state:zzzzzzzzzz" }],
    ] as const) {
      const error = await failure(client.request(event, data));
      expect(error.code, event).toBe("unknown_event");
      expect(error.details, event).toBeUndefined();
    }
    const help = await pat(d.home, ["help", "system:zzzzzzzzzz"]);
    expect(help.code).toBe(2); // neither a command nor an event: a usage error
    expect(help.stderr).not.toContain("suggestions");
  });

  it("the daemon still serves", async () => {
    expect(await client.request("system:health", {})).toMatchObject({ status: "ok" });
  });
});
