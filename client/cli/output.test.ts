import { describe, expect, it } from "vitest";
import { resolveOutput, serialize, type Surroundings } from "./output.js";
import { COLOURED, PLAIN } from "./paint.js";

const terminal: Surroundings = { stdoutIsTty: true, stderrIsTty: true, columns: 120, env: {} };
const pipe: Surroundings = { stdoutIsTty: false, stderrIsTty: false, columns: undefined, env: {} };

describe("resolveOutput", () => {
  it.each<[string, Parameters<typeof resolveOutput>[0], boolean, Surroundings, string]>([
    ["a named command on a terminal: text", {}, false, terminal, "text"],
    ["a named command piped: still text", {}, false, pipe, "text"],
    ["pat send on a terminal: text", {}, true, terminal, "text"],
    ["pat send piped: JSON", {}, true, pipe, "json"],
    ["-o json on a terminal", { output: "json" }, false, terminal, "json"],
    ["-o yaml piped", { output: "yaml" }, false, pipe, "yaml"],
    ["pat send -o text piped", { output: "text" }, true, pipe, "text"],
    ["pat send -o yaml piped", { output: "yaml" }, true, pipe, "yaml"],
  ])("%s", (_label, globals, jsonWhenPiped, where, format) => {
    expect(resolveOutput(globals, jsonWhenPiped, where).format).toBe(format);
  });

  it.each<[string, Surroundings, boolean, typeof COLOURED]>([
    ["colour on a terminal", terminal, false, COLOURED],
    ["none piped", pipe, false, PLAIN],
    ["none with --no-color", terminal, true, PLAIN],
    ["none with NO_COLOR=1", { ...terminal, env: { NO_COLOR: "1" } }, false, PLAIN],
    ["colour with NO_COLOR empty (no-color.org: any non-empty value)", { ...terminal, env: { NO_COLOR: "" } }, false, COLOURED],
  ])("%s", (_label, where, noColor, paint) => {
    expect(resolveOutput(noColor ? { noColor: true } : {}, false, where).paint).toBe(paint);
  });

  it("stdout and stderr each get colour by whether they are a terminal", () => {
    const output = resolveOutput({}, false, { ...terminal, stdoutIsTty: false });
    expect(output.paint).toBe(PLAIN);
    expect(output.errPaint).toBe(COLOURED);
  });

  it.each<[string, Surroundings, number | undefined]>([
    ["the terminal's width", terminal, 120],
    ["$COLUMNS first", { ...terminal, env: { COLUMNS: "60" } }, 60],
    ["80 when the terminal does not say", { ...terminal, columns: 0 }, 80],
    ["a bad $COLUMNS is ignored", { ...terminal, env: { COLUMNS: "wide" } }, 120],
    ["no width when piped (nothing is cut)", { ...pipe, env: { COLUMNS: "60" } }, undefined],
  ])("width: %s", (_label, where, width) => {
    expect(resolveOutput({}, false, where).width).toBe(width);
  });
});

describe("serialize", () => {
  it("JSON indented, YAML as a document; neither with a final newline", () => {
    const data = { name: "tournament", tags: ["a", "b"], text: "line one\nline two\n" };
    expect(serialize(data, "json")).toBe(JSON.stringify(data, null, 2));
    expect(serialize(data, "yaml")).toBe("name: tournament\ntags:\n  - a\n  - b\ntext: |\n  line one\n  line two");
  });
});
