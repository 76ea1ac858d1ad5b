import { constants, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfinedDir, isUnsafePath } from "./confined-path.js";

let base: string;
let root: string;
let outside: string;
let dir: ConfinedDir;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "patternd-confined-"));
  root = join(base, "store");
  outside = join(base, "outside");
  mkdirSync(join(root, "orchestrations"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.yaml"), "TOKEN=abc\n");
  writeFileSync(join(root, "orchestrations", "x.yaml"), "name: x\n");
  dir = new ConfinedDir(root);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

function refusal(run: () => unknown): { path: string; target: string; message: string } {
  try {
    run();
  } catch (err) {
    if (!isUnsafePath(err)) throw err;
    return { ...(err.details as { path: string; target: string }), message: err.message };
  }
  throw new Error("not refused");
}

describe("ConfinedDir.path", () => {
  it.each(["orchestrations/x.yaml", "orchestrations/missing.yaml", "new-folder/deeper/x.yaml", "orchestrations/../profiles/p.yaml"])("%s resolves inside the root", (path) => {
    expect(dir.path(path).startsWith(`${root}/`)).toBe(true);
  });

  it.each(["../outside/secret.yaml", "/etc/passwd", "", ".", "orchestrations/../..", "a/../../outside"])("refuses %j as outside the root", (path) => {
    expect(() => dir.path(path)).toThrow(/outside/);
  });

  it.each([
    ["a link as the file", "orchestrations/s.yaml", "orchestrations/s.yaml", () => symlinkSync(join(outside, "secret.yaml"), join(root, "orchestrations", "s.yaml"))],
    ["a link as the folder", "gadgets/w1.yaml", "gadgets", () => symlinkSync(outside, join(root, "gadgets"))],
    ["a link as a parent folder further up", "deep/er/w1.yaml", "deep", () => symlinkSync(outside, join(root, "deep"))],
    ["a relative link", "rel/secret.yaml", "rel", () => symlinkSync("../outside", join(root, "rel"))],
    ["a link that points inside the root", "orchestrations/alias.yaml", "orchestrations/alias.yaml", () => symlinkSync("x.yaml", join(root, "orchestrations", "alias.yaml"))],
    ["a dangling link", "orchestrations/gone.yaml", "orchestrations/gone.yaml", () => symlinkSync(join(outside, "nothing"), join(root, "orchestrations", "gone.yaml"))],
  ])("refuses %s, naming the link and where it points", (_what, path, link, plant) => {
    plant();
    const refused = refusal(() => dir.path(path));
    expect(refused.path).toBe(link);
    expect(refused.target.startsWith("/")).toBe(true);
    expect(refused.message).toContain(link);
    expect(refused.message).toContain(refused.target);
  });
});

describe("ConfinedDir open / read / write", () => {
  it("reads a regular file; undefined when it is missing; refuses a folder and a file over the limit", () => {
    expect(dir.read("orchestrations/x.yaml")?.toString()).toBe("name: x\n");
    expect(dir.read("orchestrations/none.yaml")).toBeUndefined();
    expect(dir.read("nothing/here.yaml")).toBeUndefined();
    expect(() => dir.read("orchestrations")).toThrow(/not a regular file/);
    expect(() => dir.read("orchestrations/x.yaml", 3)).toThrow(/limit is 3/);
  });

  it("never reads, writes or appends through a link, and the outside file stays as it was", () => {
    symlinkSync(join(outside, "secret.yaml"), join(root, "orchestrations", "s.yaml"));
    symlinkSync(outside, join(root, "gadgets"));
    expect(refusal(() => dir.read("orchestrations/s.yaml")).path).toBe("orchestrations/s.yaml");
    expect(refusal(() => dir.write("orchestrations/s.yaml", "x", constants.O_WRONLY | constants.O_APPEND)).path).toBe("orchestrations/s.yaml");
    expect(refusal(() => dir.write("gadgets/secret.yaml", "x", constants.O_WRONLY | constants.O_TRUNC)).path).toBe("gadgets");
    expect(refusal(() => dir.open("gadgets/new.yaml", constants.O_WRONLY | constants.O_CREAT)).path).toBe("gadgets");
    expect(readFileSync(join(outside, "secret.yaml"), "utf8")).toBe("TOKEN=abc\n");
  });

  it("writes and appends to a regular file", () => {
    dir.write("orchestrations/log.yaml", "a\n", constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND);
    dir.write("orchestrations/log.yaml", "b\n", constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND);
    expect(readFileSync(join(root, "orchestrations", "log.yaml"), "utf8")).toBe("a\nb\n");
  });
});

describe("a labelled folder", () => {
  it("names paths from its label, as people see them from the store", () => {
    mkdirSync(join(root, ".git"));
    symlinkSync(outside, join(root, ".git", "patternd-tmp"));
    const git = new ConfinedDir(join(root, ".git"), ".git");
    const refused = refusal(() => git.path("patternd-tmp/x.tmp"));
    expect(refused.path).toBe(".git/patternd-tmp");
    expect(refused.message).toMatch(/^\.git\/patternd-tmp\/x\.tmp leads through \.git\/patternd-tmp, a symbolic link to /);
  });
});
