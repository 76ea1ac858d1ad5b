/**
 * What a walk over commits the daemon did not make (a person's `git
 * commit`, a `git pull`, a checkout) means for the patterns (pure): which
 * pattern each one changed, at which version, and which of those versions
 * it introduced (and so should carry the `name@version` tag, as the
 * daemon's own saves do).
 */
import { isPatternPath, stemOf } from "./store-layout.js";

/** One commit of a range, as git.ts reads it. */
export interface RangeCommit {
  commit: string;
  /** Made by the daemon itself (its saves are tagged and published when made). */
  own: boolean;
  /** Files it added, changed or deleted against its first parent. */
  paths: { path: string; deleted: boolean }[];
}

export interface ExternalChange {
  name: string;
  path: string;
  commit: string;
  /** The version the file has at the commit; for a deletion, the version it had before. */
  version: string;
  deleted: boolean;
  /** The commit is where this version first appears (new file, or a version other than the one before): it gets the tag. */
  introduced: boolean;
}

/**
 * The pattern a store-relative path holds by its file name: a `.yaml`,
 * `.yml` or `.md` file at any depth, not a decision log nor hidden;
 * undefined for every other file. (Its `name:` may differ: the versions
 * read say which name.)
 */
export function patternNameOf(path: string): string | undefined {
  return isPatternPath(path) ? stemOf(path) : undefined;
}

/** A valid pattern as a file holds it at some commit. */
export interface FileVersion {
  name: string;
  version: string;
}

/**
 * The changes to patterns made by the commits that are not the daemon's,
 * oldest first. `versionAt(commit, path)` is the version of a valid
 * pattern file at a commit (undefined: not there, or not a valid pattern);
 * `before(path)` the version at the start of the range. The daemon's own
 * commits in the range are not reported but do move a file's version on,
 * so a person's commit after one is compared with what that one made.
 */
export function externalChanges(
  commits: readonly RangeCommit[],
  versionAt: (commit: string, path: string) => FileVersion | undefined,
  before: (path: string) => FileVersion | undefined,
): ExternalChange[] {
  const current = new Map<string, FileVersion | undefined>();
  const versionBefore = (path: string) => (current.has(path) ? current.get(path) : before(path));
  const changes: ExternalChange[] = [];
  for (const { commit, own, paths } of commits) {
    for (const { path, deleted } of paths) {
      if (patternNameOf(path) === undefined) continue;
      const previous = versionBefore(path);
      const now = deleted ? undefined : versionAt(commit, path);
      current.set(path, now);
      if (own) continue;
      const held = now ?? previous;
      // A file that is not a valid pattern, before and after: no pattern changed.
      if (held === undefined) continue;
      const introduced = now !== undefined && (now.version !== previous?.version || now.name !== previous.name);
      changes.push({ name: held.name, path, commit, version: held.version, deleted, introduced });
    }
  }
  return changes;
}
