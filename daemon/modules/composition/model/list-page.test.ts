import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, fieldsAsked, listQuerySchema, MAX_LIMIT } from "./list-page.js";

describe("cursors", () => {
  it.each(["tournament", "a", "ksi/agent_x", "é-ü", "x".repeat(200)])("%s round-trips", (name) => {
    const cursor = encodeCursor(name);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe(name);
  });

  it.each([
    ["empty", ""],
    ["not base64url", "abc$%"],
    ["padding", `${encodeCursor("tournament")}=`],
    ["a plain name", "tournament"],
    ["a number (an offset)", "500"],
    ["cut short", encodeCursor("tournament").slice(0, -2)],
    ["a prefix only", Buffer.from("after1:").toString("base64url")],
    ["another form", Buffer.from("after9:tournament").toString("base64url")],
    ["too long", encodeCursor("x".repeat(2_000))],
  ])("%s is not a cursor", (_what, text) => {
    expect(decodeCursor(text)).toBeUndefined();
  });
});

describe("listQuerySchema", () => {
  it("defaults to a page of 500, all fields", () => {
    expect(listQuerySchema.parse({})).toEqual({ limit: 500 });
    expect([...fieldsAsked(undefined)]).toEqual(["name", "type", "version", "description", "path", "dirty", "warnings"]);
  });

  it.each([
    [{ limit: 0 }, "limit", "limit is at least 1"],
    [{ limit: MAX_LIMIT + 1 }, "limit", `limit is at most ${MAX_LIMIT}; page with cursor`],
    [{ limit: 2.5 }, "limit", "limit is a whole number"],
    [{ cursor: "garbled!" }, "cursor", "pass next_cursor from the previous composition:list reply"],
    [{ fields: ["name", "colour"] }, "fields.1", "a field is one of name, type, version, description, path, dirty, warnings"],
    [{ fields: [] }, "fields", "name at least"],
    [{ offset: 10 }, "", "offset"],
  ])("%j is refused at %s", (data, path, message) => {
    const parsed = listQuerySchema.safeParse(data);
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues[0]!;
    expect(issue.path.join(".")).toBe(path);
    expect(issue.message).toContain(message);
  });

  it("accepts a cursor it gave, and fields in any order", () => {
    expect(listQuerySchema.parse({ cursor: encodeCursor("b"), fields: ["version", "name"], limit: MAX_LIMIT })).toMatchObject({ limit: MAX_LIMIT });
  });
});

describe("fieldsAsked", () => {
  it.each([
    [["version"], ["name", "version"]],
    [["warnings", "name", "type"], ["name", "type", "warnings"]],
    [["name"], ["name"]],
  ] as const)("%j → %j (name first, reply order)", (fields, given) => {
    expect([...fieldsAsked(fields)]).toEqual(given);
  });
});
