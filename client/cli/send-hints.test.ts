import { describe, expect, it } from "vitest";
import { z } from "zod";
import { UsageError } from "./args.js";
import type { HelpResult } from "./render-help.js";
import { dataArgument, renderSendError } from "./send-hints.js";

describe("renderSendError", () => {
  it("a missing field as the option that gives it, the daemon's example as its value", () => {
    const error = {
      code: "invalid_params",
      message: 'invalid data for composition:fork: parent is required (e.g. "tournament") (and 2 more: name, reason)',
      details: {
        issues: [
          { path: "parent", message: 'parent is required (e.g. "tournament")' },
          { path: "reason", message: 'reason is required (e.g. "swiss pairing for large fields")' },
          { path: "modifications", message: 'modifications is required (e.g. {"variables.rounds.default":5})' },
          { path: "limit", message: "limit is required" },
          { path: "name", message: "expected string, received number" },
          { path: "", message: 'Unrecognized key: "bogus"' },
        ],
      },
    };
    expect(renderSendError(error).split("\n")).toEqual([
      'error [invalid_params]: invalid data for composition:fork: parent is required (e.g. "tournament") (and 2 more: name, reason)',
      "  parent is required (e.g. --parent tournament)",
      "  reason is required (e.g. --reason 'swiss pairing for large fields')",
      `  modifications is required (e.g. --modifications '{"variables.rounds.default":5}')`,
      "  limit is required (e.g. --limit VALUE)",
      "  name: expected string, received number",
      '  Unrecognized key: "bogus"',
    ]);
  });

  it("other errors as renderError prints them", () => {
    expect(renderSendError({ code: "not_found", message: "no composition x", details: { name: "x" } })).toBe("error [not_found]: no composition x\n  name: x");
  });
});

const GET_HELP: HelpResult = {
  event: "composition:get",
  summary: "A pattern",
  description: "A pattern",
  params: z.toJSONSchema(z.strictObject({ format: z.enum(["json", "yaml"]).optional(), name: z.string(), version: z.string().optional() }), { io: "input" }) as HelpResult["params"],
  example: { event: "composition:get", data: { name: "tournament" } },
};

async function refusal(text: string, help: HelpResult | undefined): Promise<string> {
  const failed = await dataArgument(text, "composition:get", () => Promise.resolve(help)).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failed).toBeInstanceOf(UsageError);
  return (failed as UsageError).message;
}

describe("dataArgument", () => {
  it("a JSON object is the data", async () => {
    expect(await dataArgument(' {"name": "tournament"}', "composition:get", () => Promise.reject(new Error("not asked")))).toEqual({ name: "tournament" });
  });

  it.each([
    ['{"name": ', /the data argument is not JSON: /],
    ["[1, 2]", /the data argument must be a JSON object/],
  ])("%s: JSON that is wrong is said so", async (text, message) => {
    expect(await refusal(text, GET_HELP)).toMatch(message);
  });

  it("a bare word suggests --FIELD WORD, the first required field that takes text", async () => {
    expect(await refusal("tournament", GET_HELP)).toBe(`the data argument "tournament" is not JSON; did you mean --name tournament? (or the object '{"name":"tournament"}')`);
  });

  it("key=value suggests --key value, without asking the daemon", async () => {
    expect(await refusal("name=tournament swiss", undefined)).toBe(`the data argument "name=tournament swiss" is not JSON; did you mean --name 'tournament swiss'?`);
  });

  it("without the event's params (the daemon does not answer): --name WORD as the form, and where the keys are listed", async () => {
    expect(await refusal("tournament", undefined)).toBe(
      'the data argument "tournament" is not JSON: pass one JSON object or --key value pairs, e.g. --name tournament (pat help composition:get lists the keys)',
    );
  });
});
