/**
 * What a walk over commits the daemon did not make (a person's `git
 * commit`, a `git pull`, a checkout) means for the patterns (pure): which
 * pattern each one changed, at which version, and which of those versions
 * it introduced (and so should carry the `name@version` tag, as the
 * daemon's own saves do).
 */
import { DECISIONS_SUFFIX, NAME_PATTERN } from "./ref.js";

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
 * The pattern a store-relative path holds: `<folder>/<name>.yaml` one level
 * down, not a decision log; undefined for every other file.
 */
export function patternNameOf(path: string): string | undefined {
  const match = /^[^/.][^/]*\/([^/]+)\.yaml$/.exec(path);
  const name = match?.[1];
  return name !== undefined && NAME_PATTERN.test(name) && !name.endsWith(DECISIONS_SUFFIX) ? name : undefined;
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
  versionAt: (commit: string, path: string) => string | undefined,
  before: (path: string) => string | undefined,
): ExternalChange[] {
  const current = new Map<string, string | undefined>();
  const versionBefore = (path: string) => (current.has(path) ? current.get(path) : before(path));
  const changes: ExternalChange[] = [];
  for (const { commit, own, paths } of commits) {
    for (const { path, deleted } of paths) {
      const name = patternNameOf(path);
      if (name === undefined) continue;
      const previous = versionBefore(path);
      const now = deleted ? undefined : versionAt(commit, path);
      current.set(path, now);
      if (own) continue;
      const version = now ?? previous;
      // A file that is not a valid pattern, before and after: no pattern changed.
      if (version === undefined) continue;
      changes.push({ name, path, commit, version, deleted, introduced: now !== undefined && now !== previous });
    }
  }
  return changes;
}
