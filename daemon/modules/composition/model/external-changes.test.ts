import { describe, expect, it } from "vitest";
import { externalChanges, patternNameOf, type RangeCommit } from "./external-changes.js";
import { stemOf } from "./store-layout.js";

describe("patternNameOf", () => {
  it.each([
    ["orchestrations/tournament.yaml", "tournament"],
    ["prompts/a-b_1.yaml", "a-b_1"],
    ["orchestrations/tournament_decisions.yaml", undefined],
    ["tournament.yaml", "tournament"],
    ["orchestrations/deeper/x.yaml", "x"],
    ["components/agents/x.md", "x"],
    ["profiles/p.yml", "p"],
    [".git/x.yaml", undefined],
    ["components/.hidden/x.yaml", undefined],
    ["orchestrations/Upper.yaml", "Upper"],
    ["orchestrations/notes.txt", undefined],
    ["orchestrations/.x.yaml.123.tmp", undefined],
  ])("%s → %s", (path, name) => {
    expect(patternNameOf(path)).toBe(name);
  });
});

const A = "orchestrations/a.yaml";
const B = "orchestrations/b.yaml";

/** `commit: path=version ...`; a version "-" is a deletion, "?" a file that is not a valid pattern. */
function range(...specs: string[]): { commits: RangeCommit[]; versions: Map<string, string> } {
  const versions = new Map<string, string>();
  const commits = specs.map((spec) => {
    const [id, ...changes] = spec.split(" ");
    const own = id!.startsWith("own:");
    const commit = own ? id!.slice(4) : id!;
    const paths = changes.map((change) => {
      const [path, version] = change.split("=") as [string, string];
      if (version !== "-" && version !== "?") versions.set(`${commit}:${path}`, version);
      return { path, deleted: version === "-" };
    });
    return { commit, own, paths };
  });
  return { commits, versions };
}

describe("externalChanges", () => {
  const named = (versions: Map<string, string>) => (commit: string, path: string) => {
    const version = versions.get(`${commit}:${path}`);
    return version === undefined ? undefined : { name: stemOf(path), version };
  };
  const cases: { title: string; before?: Record<string, string>; specs: string[]; expected: [string, string, string, boolean][] }[] = [
    { title: "a new pattern introduces its version", specs: [`c1 ${A}=1.0.0`], expected: [["c1", "a", "1.0.0", true]] },
    { title: "a bump introduces the new version", before: { [A]: "1.0.0" }, specs: [`c1 ${A}=1.1.0`], expected: [["c1", "a", "1.1.0", true]] },
    { title: "an edit keeping the version is a change, not a version", before: { [A]: "1.0.0" }, specs: [`c1 ${A}=1.0.0`], expected: [["c1", "a", "1.0.0", false]] },
    { title: "a deletion reports the version it had", before: { [A]: "1.2.0" }, specs: [`c1 ${A}=-`], expected: [["c1", "a", "1.2.0", false]] },
    {
      title: "each commit of a pull is its own change; each version is introduced once",
      before: { [A]: "1.0.0" },
      specs: [`c1 ${A}=1.1.0 ${B}=0.1.0`, `c2 ${A}=1.1.0`, `c3 ${A}=1.2.0`],
      expected: [
        ["c1", "a", "1.1.0", true],
        ["c1", "b", "0.1.0", true],
        ["c2", "a", "1.1.0", false],
        ["c3", "a", "1.2.0", true],
      ],
    },
    {
      title: "the daemon's own commits are not reported, but a person's next commit is compared with them",
      before: { [A]: "1.0.0" },
      specs: [`own:d1 ${A}=1.0.1`, `c1 ${A}=1.0.1`, `own:d2 ${A}=1.0.2`],
      expected: [["c1", "a", "1.0.1", false]],
    },
    { title: "a file that is not a valid pattern before or after changes no pattern", specs: [`c1 ${A}=?`], expected: [] },
    { title: "a pattern made invalid reports the version it had, introducing none", before: { [A]: "1.0.0" }, specs: [`c1 ${A}=?`], expected: [["c1", "a", "1.0.0", false]] },
    { title: "decision logs and other files are not patterns", specs: ["c1 orchestrations/a_decisions.yaml=1.0.0 notes.txt=1.0.0 orchestrations/.a.yaml=1.0.0"], expected: [] },
    { title: "a commit that touches nothing (a merge) adds nothing", specs: ["c1"], expected: [] },
  ];
  it.each(cases)("$title", ({ before = {}, specs, expected }) => {
    const { commits, versions } = range(...specs);
    const changes = externalChanges(
      commits,
      named(versions),
      (path) => (before[path] === undefined ? undefined : { name: stemOf(path), version: before[path] }),
    );
    expect(changes.map((c) => [c.commit, c.name, c.version, c.introduced])).toEqual(expected);
  });

  it("names the path and whether the file was deleted", () => {
    const { commits, versions } = range(`c1 ${A}=-`);
    expect(externalChanges(commits, named(versions), () => ({ name: "a", version: "1.0.0" }))).toEqual([
      { name: "a", path: A, commit: "c1", version: "1.0.0", deleted: true, introduced: false },
    ]);
  });

  it("names a change by the name its file holds, not its file name (KSI's files may differ)", () => {
    const { commits } = range(`c1 components/agents/x.md=1.0.0`);
    expect(externalChanges(commits, () => ({ name: "x_agent", version: "1.0.0" }), () => undefined)).toEqual([
      { name: "x_agent", path: "components/agents/x.md", commit: "c1", version: "1.0.0", deleted: false, introduced: true },
    ]);
  });
});
