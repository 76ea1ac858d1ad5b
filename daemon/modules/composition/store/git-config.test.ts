import { describe, expect, it } from "vitest";
import { formatProblem, signingProblem, StoreConfig, storeSettings } from "./git-config.js";

/** `git config --list -z` text from key=value pairs (a pair without a value: a key written without `=`). */
function list(...entries: [string, string?][]): string {
  return entries.map(([key, value]) => (value === undefined ? `${key}\0` : `${key}\n${value}\0`)).join("");
}

const config = (...entries: [string, string?][]) => StoreConfig.parse(list(...entries));

describe("StoreConfig", () => {
  it("keeps the last value of a key, null for one without a value, and values with newlines whole", () => {
    const c = StoreConfig.parse(list(["a.b", "1"], ["a.b", "2"], ["x.flag"], ["m.text", "two\nlines"]));
    expect(c.get("a.b")).toBe("2");
    expect(c.get("x.flag")).toBeNull();
    expect(c.get("m.text")).toBe("two\nlines");
    expect(c.get("none")).toBeUndefined();
  });

  it.each([
    [undefined, undefined],
    [null, true],
    ["true", true],
    ["Yes", true],
    ["on", true],
    ["1", true],
    ["-3", true],
    ["false", false],
    ["no", false],
    ["off", false],
    ["0", false],
    ["", false],
    ["maybe", "invalid"],
  ])("bool of %j is %j, as git reads it", (value, expected) => {
    const c = value === undefined ? StoreConfig.empty() : value === null ? config(["k.v"]) : config(["k.v", value]);
    expect(c.bool("k.v")).toBe(expected);
  });
});

describe("formatProblem", () => {
  it.each([
    ["a plain repository", [], null],
    ["version 0", [["core.repositoryformatversion", "0"]], null],
    ["sha256", [["core.repositoryformatversion", "1"], ["extensions.objectformat", "sha256"]], null],
    ["sha1 spelled out", [["core.repositoryformatversion", "1"], ["extensions.objectformat", "SHA1"]], null],
    ["refs as files", [["core.repositoryformatversion", "1"], ["extensions.refstorage", "files"]], null],
    [
      "the extensions that change nothing the writer does",
      [["core.repositoryformatversion", "1"], ["extensions.preciousobjects", "true"], ["extensions.partialclone", "origin"], ["extensions.worktreeconfig", "true"], ["extensions.noop"]],
      null,
    ],
    ["a newer format version", [["core.repositoryformatversion", "2"]], /core\.repositoryformatversion=2/],
    ["a version that is no number", [["core.repositoryformatversion", "one"]], /core\.repositoryformatversion=one/],
    ["an unknown extension", [["core.repositoryformatversion", "1"], ["extensions.fancything", "true"]], /extensions\.fancything=true .*core\.repositoryformatversion=1/],
    ["an unknown extension in a version 0 repository", [["extensions.fancything"]], /extensions\.fancything=true/],
    ["reftable", [["core.repositoryformatversion", "1"], ["extensions.refstorage", "reftable"]], /extensions\.refstorage=reftable.*git refs migrate --ref-format=files/],
    ["an object format the writer does not hash", [["core.repositoryformatversion", "1"], ["extensions.objectformat", "blake3"]], /extensions\.objectformat=blake3/],
    ["sha1/sha256 interoperability", [["core.repositoryformatversion", "1"], ["extensions.compatobjectformat", "sha256"]], /extensions\.compatobjectformat=sha256/],
  ] as [string, [string, string?][], RegExp | null][])("%s", (_what, entries, expected) => {
    const problem = formatProblem(config(...entries), "/s");
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it("names every setting it refuses and what it does write", () => {
    const problem = formatProblem(config(["core.repositoryformatversion", "1"], ["extensions.one", "x"], ["extensions.two", "y"]), "/s");
    expect(problem).toContain("extensions.one=x, extensions.two=y");
    expect(problem).toContain("objectFormat (sha1, sha256)");
  });
});

describe("signingProblem", () => {
  it.each([
    ["signing not asked", [], null],
    ["signing off", [["commit.gpgsign", "false"]], null],
    ["an openpgp key", [["commit.gpgsign", "true"], ["user.signingkey", "ABCD1234"]], null],
    ["an ssh key", [["commit.gpgsign", "true"], ["gpg.format", "ssh"], ["user.signingkey", "/k.pub"]], null],
    ["an ssh key command", [["commit.gpgsign", "true"], ["gpg.format", "ssh"], ["gpg.ssh.defaultkeycommand", "ssh-add -L"]], null],
    ["no key", [["commit.gpgsign", "true"]], /commit\.gpgsign=true but no user\.signingkey.*git -C \/s config commit\.gpgsign false/],
    ["no ssh key", [["commit.gpgsign", "true"], ["gpg.format", "ssh"]], /user\.signingkey ~\/\.ssh\/id_ed25519\.pub/],
    ["an unknown format", [["commit.gpgsign", "true"], ["gpg.format", "pgp2"], ["user.signingkey", "k"]], /gpg\.format=pgp2/],
    ["not a boolean", [["commit.gpgsign", "sometimes"]], /commit\.gpgsign=sometimes .*not a boolean/],
  ] as [string, [string, string?][], RegExp | null][])("%s", (_what, entries, expected) => {
    const problem = signingProblem(config(...entries), "/s");
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe("storeSettings", () => {
  const where = { workTree: "/store", gitDir: "/store/.git", home: "/home/me" };
  it.each([
    [[], "/store/.git/hooks"],
    [[["core.hookspath", "/etc/hooks"]], "/etc/hooks"],
    [[["core.hookspath", "tools/hooks"]], "/store/tools/hooks"],
    [[["core.hookspath", "~/hooks"]], "/home/me/hooks"],
    [[["core.hookspath", ""]], "/store/.git/hooks"],
  ] as [[string, string?][], string][])("hooks of %j are looked for in %s", (entries, hooksDir) => {
    expect(storeSettings(config(...entries), where).hooksDir).toBe(hooksDir);
  });

  it("signs commits when commit.gpgsign is true; notes tag.gpgSign", () => {
    expect(storeSettings(config(["commit.gpgsign", "true"], ["tag.gpgsign", "true"]), where)).toMatchObject({ signCommits: true, signTagsAsked: true });
    expect(storeSettings(config(), where)).toMatchObject({ signCommits: false, signTagsAsked: false });
  });
});
