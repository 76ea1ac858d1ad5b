/**
 * What the store's own git config means for the daemon (pure: the text of
 * `git config --list -z` in, decisions out). The daemon writes commits,
 * refs and tags into .git itself (git-commit.ts), so a repository format
 * it does not implement is refused, never written wrongly; and what the
 * store's owner asked of commits — hooks, signing — is honoured (the
 * user's own git config never is: SPEC §4.2).
 */
import { isAbsolute, join, resolve } from "node:path";

/**
 * The `extensions.*` the writer is right for. objectFormat: it hashes
 * with sha1 or sha256. refStorage=files: loose refs and packed-refs, what
 * it reads and writes. preciousObjects: it never deletes an object (git's
 * own maintenance honours the setting). partialClone: objects it writes
 * are local; a missing one is fetched by git when read. worktreeConfig and
 * relativeWorktrees: where worktrees keep their config and paths, nothing
 * the writer touches. noop: git's test extensions. Anything else changes
 * what a correct write is in a way the writer does not know.
 */
const KNOWN_EXTENSIONS: Record<string, (value: string | null) => boolean> = {
  objectformat: (value) => value === "sha1" || value === "sha256",
  refstorage: (value) => value === "files",
  preciousobjects: () => true,
  partialclone: () => true,
  worktreeconfig: () => true,
  relativeworktrees: () => true,
  noop: () => true,
  "noop-v1": () => true,
};

/** How the known extensions are spelled for people. */
const SUPPORTED = "extensions.objectFormat (sha1, sha256), refStorage=files, preciousObjects, partialClone, worktreeConfig, relativeWorktrees, noop";

/** A repository's config: key (section and name in lower case, as git lists them) → its values in order; null for a key without `=`. */
export class StoreConfig {
  private constructor(private readonly entries: ReadonlyMap<string, readonly (string | null)[]>) {}

  static empty(): StoreConfig {
    return new StoreConfig(new Map());
  }

  /** From `git config --list -z`: `key\nvalue\0` per entry, `key\0` for a key without a value. */
  static parse(...lists: string[]): StoreConfig {
    const entries = new Map<string, (string | null)[]>();
    for (const list of lists) {
      for (const record of list.split("\0")) {
        if (record === "") continue;
        const nl = record.indexOf("\n");
        const key = nl === -1 ? record : record.slice(0, nl);
        const value = nl === -1 ? null : record.slice(nl + 1);
        entries.set(key, [...(entries.get(key) ?? []), value]);
      }
    }
    return new StoreConfig(entries);
  }

  /** The value that counts (the last one); null for a key written without `=`. */
  get(key: string): string | null | undefined {
    return this.entries.get(key)?.at(-1);
  }

  /** git's boolean: true/yes/on/non-zero or no value; false/no/off/0/empty; undefined when unset; "invalid" otherwise. */
  bool(key: string): boolean | undefined | "invalid" {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (value === null) return true;
    const word = value.trim().toLowerCase();
    if (["true", "yes", "on"].includes(word)) return true;
    if (["false", "no", "off", ""].includes(word)) return false;
    return /^-?\d+$/.test(word) ? Number(word) !== 0 : "invalid";
  }

  keys(prefix: string): string[] {
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix));
  }
}

/**
 * Why the daemon must not write this repository (a format version or an
 * extension it does not implement), naming the setting; null when it may.
 * Checked whatever the format version: a v0 repository carrying such a
 * setting is refused too (newer git refuses some of those itself).
 */
export function formatProblem(config: StoreConfig, store: string): string | null {
  const version = config.get("core.repositoryformatversion") ?? "0";
  if (version === null || !/^\d+$/.test(version.trim())) return `core.repositoryformatversion=${version} in ${store} is not a repository format version`;
  if (Number(version) > 1) {
    return `${store} has core.repositoryformatversion=${version}, a repository format patternd does not write (it writes versions 0 and 1); use a store made by \`git init\``;
  }
  const unknown = config.keys("extensions.").filter((key) => {
    const value = config.get(key);
    const known = KNOWN_EXTENSIONS[key.slice("extensions.".length)];
    return known === undefined || !known(value === null || value === undefined ? null : value.trim().toLowerCase());
  });
  if (unknown.length === 0) return null;
  const named = unknown.map((key) => `${key}=${config.get(key) ?? "true"}`).join(", ");
  const refs = unknown.includes("extensions.refstorage") ? " (to go back to refs as files: `git refs migrate --ref-format=files`)" : "";
  return (
    `${store} declares ${named} (core.repositoryformatversion=${version}): a repository format patternd does not write. ` +
    `patternd writes commits, refs and tags into .git itself and would write them wrongly, so it does not start on this store. ` +
    `It writes ${SUPPORTED}. Use a store without ${unknown.length === 1 ? "that setting" : "those settings"}${refs}`
  );
}

export interface StoreSettings {
  /** Where the commit hooks are looked for: core.hooksPath, or the repository's hooks folder. */
  hooksDir: string;
  /** commit.gpgsign: every commit is signed as the store's config says. */
  signCommits: boolean;
  /** tag.gpgSign: set, but the daemon's version tags are lightweight (refs): there is nothing to sign. */
  signTagsAsked: boolean;
  /** Why git must stage the daemon's changes (a setting that changes what `git add` stages, or how the index is written); null: the daemon stages them itself (index-stager.ts). */
  gitStages: string | null;
  /** core.fileMode: a file's exec bit is staged (git's default). */
  fileMode: boolean;
}

/**
 * The settings the daemon acts on. core.hooksPath as git reads it: `~/`
 * is the user's home, a relative path is taken from the work tree (where
 * hooks run). `gitDir` is the repository's folder (its `hooks` is the default).
 */
export function storeSettings(config: StoreConfig, where: { workTree: string; gitDir: string; home: string }): StoreSettings {
  const hooksPath = config.get("core.hookspath");
  let hooksDir = join(where.gitDir, "hooks");
  if (typeof hooksPath === "string" && hooksPath !== "") {
    const expanded = hooksPath === "~" ? where.home : hooksPath.startsWith("~/") ? join(where.home, hooksPath.slice(2)) : hooksPath;
    hooksDir = isAbsolute(expanded) ? expanded : resolve(where.workTree, expanded);
  }
  return {
    hooksDir,
    signCommits: config.bool("commit.gpgsign") === true,
    signTagsAsked: config.bool("tag.gpgsign") === true,
    gitStages: stagingSetting(config),
    fileMode: config.bool("core.filemode") !== false,
  };
}

/**
 * A setting under which `git add` may stage other bytes than the file's
 * (line endings, an attributes file outside the store) or write the index
 * in a form the daemon does not (version 4, or not split): named, so git
 * stages instead. Attributes files inside the store are looked for per
 * path (index-stager.ts).
 */
function stagingSetting(config: StoreConfig): string | null {
  const autocrlf = config.get("core.autocrlf");
  if (autocrlf !== undefined && config.bool("core.autocrlf") !== false) return `core.autocrlf=${autocrlf ?? "true"}`;
  if (config.get("core.attributesfile") !== undefined) return "core.attributesFile";
  if (config.get("index.version") !== undefined && config.get("index.version")?.trim() !== "2" && config.get("index.version")?.trim() !== "3") return `index.version=${config.get("index.version") ?? ""}`;
  if (config.bool("feature.manyfiles") === true) return "feature.manyFiles (index version 4)";
  if (config.bool("core.splitindex") === false) return "core.splitIndex=false";
  if (config.bool("index.sparse") === true) return "index.sparse";
  return null;
}

/**
 * Why commits cannot be signed as the store's config asks, naming the
 * setting and how to turn signing off; null when they can be (or are not
 * to be). The user's global config is never read, so the key must be set
 * in the store: without one git would look for a key of the committer,
 * patternd <patternd@patternd>, which nobody has.
 */
export function signingProblem(config: StoreConfig, store: string): string | null {
  const off = `or turn signing off for this store: git -C ${store} config commit.gpgsign false`;
  const sign = config.bool("commit.gpgsign");
  if (sign === "invalid") return `commit.gpgsign=${config.get("commit.gpgsign")} in ${store} is not a boolean; set it to true or false`;
  if (sign !== true) return null;
  const format = (config.get("gpg.format") ?? "openpgp").toLowerCase();
  if (!["openpgp", "x509", "ssh"].includes(format)) return `gpg.format=${format} in ${store} is not a signing format git knows (openpgp, x509, ssh); fix it, ${off}`;
  const key = config.get("user.signingkey");
  if (typeof key === "string" && key.trim() !== "") return null;
  if (format === "ssh" && typeof config.get("gpg.ssh.defaultkeycommand") === "string") return null;
  const example = format === "ssh" ? "~/.ssh/id_ed25519.pub" : "<key id>";
  return (
    `${store} has commit.gpgsign=true but no user.signingkey in its own config (patternd reads the store's config, never your global one, ` +
    `and its committer patternd <patternd@patternd> has no key): set the key in the store, git -C ${store} config user.signingkey ${example}, ${off}`
  );
}
