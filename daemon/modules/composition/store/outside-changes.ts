/**
 * Changes made to the store outside the daemon, taken in as first-class.
 * Every pattern file the watcher picks up is logged (its version, and its
 * commit or that it is dirty). Commits the daemon did not make — a
 * person's `git commit`, a `git pull`, a `git checkout` — are versions: each
 * version such a commit introduces gets its `name@version` tag (when the
 * tag is free; one already on another commit is left where it is, with a
 * warning), is logged, and is published as composition:changed with op
 * `external`.
 *
 * The daemon keeps the HEAD it has taken in (git.takenHead; its own commits
 * move it along) and walks from there to HEAD when HEAD moves otherwise:
 * one `git log` for the range and one `git cat-file --batch` for the
 * versions, however many patterns the store has. The HEAD taken in is kept
 * in .git/patternd-head, so commits made while the daemon was stopped are
 * taken in at the next start the same way.
 *
 * While the store cannot be written (off its branch, a person's rebase
 * under way: store-guard.ts) nothing is taken in: the commits HEAD holds
 * then may never reach the branch, and a tag on one would outlive it.
 * The walk is made from the same place once the store is back.
 */
import type { Log } from "../../../core/log.js";
import { externalChanges, patternNameOf, type ExternalChange, type FileVersion, type RangeCommit } from "../model/external-changes.js";
import { Catalog } from "./catalog.js";
import type { PatternStore } from "./pattern-store.js";

const RECORD_FILE = "patternd-head";
const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export interface ExternalVersion {
  name: string;
  version: string;
  op: "external";
  commit: string;
}

export class OutsideChanges {
  /** What .git/patternd-head holds (so it is rewritten only when the HEAD taken in moved). */
  private recorded: string | null | undefined;

  /** `writable()`: the store is on its branch, with no operation of a person's under way. */
  constructor(
    private readonly store: PatternStore,
    private readonly log: Log,
    private readonly publish: (change: ExternalVersion) => void,
    private readonly writable: () => boolean = () => true,
  ) {}

  private get git() {
    return this.store.git;
  }

  /**
   * At start, after the index is built: what was committed since the HEAD
   * the last run took in is taken in now. A store without that record (one
   * from before this was kept, or a record naming a commit that is gone)
   * is checked once against its tags instead: each pattern whose file is
   * as HEAD has it and whose version has no tag gets one, on the last
   * commit that touched the file.
   */
  async start(): Promise<void> {
    const head = await this.git.head();
    const text = this.git.readOwnFile(RECORD_FILE)?.trim();
    this.recorded = text !== undefined && COMMIT_ID.test(text) ? text : undefined;
    const known = this.recorded !== undefined && (await this.git.resolve(this.recorded)) === this.recorded;
    if (!this.writable()) {
      // Taken in once the store is back on its branch (takeIn), from what the last run took in when that is known.
      this.git.takenHead = known ? this.recorded : head;
      return;
    }
    if (known) {
      this.git.takenHead = this.recorded;
      await this.takeIn();
      return;
    }
    this.git.takenHead = head;
    if (head !== null) await this.tagUntagged(head);
    this.remember();
  }

  /** At stop: the HEAD taken in is remembered for the next start. */
  stop(): void {
    this.remember();
  }

  /** True when HEAD is not the commit taken in (read from .git's files: no process). */
  moved(): boolean {
    const now = this.git.headFromFiles();
    return now === undefined || now !== this.git.takenHead;
  }

  /**
   * Takes in every commit between the HEAD taken in and HEAD: tags the
   * versions people's commits introduced, logs and publishes each change.
   * The caller holds `git.exclusive`, so no save runs meanwhile.
   */
  async takeIn(): Promise<void> {
    // Before start() there is nothing to walk from (a walk from nothing would be the whole history).
    if (this.git.takenHead === undefined || !this.writable()) return;
    const base = this.git.takenHead;
    const head = this.git.headFromFiles() === base ? base : await this.git.head();
    if (head === base) return this.remember();
    let commits: RangeCommit[];
    try {
      // Back to an ancestor (a reset, a checkout of an older branch): an empty range; the files' changes are the reconcile's.
      commits = head === null ? [] : await this.git.commitsBetween(base, head);
    } catch (err) {
      this.log.warn({ err, base, head }, "the HEAD taken in before is not in the store any more; untagged versions at HEAD are tagged instead");
      commits = [];
      this.git.takenHead = head;
      if (head !== null) await this.tagUntagged(head);
    }
    const changes = await this.changesIn(commits, base);
    for (const change of changes) await this.announce(change);
    this.git.takenHead = head;
    // Commits made by hand can change which commit last touched a file without changing its text.
    this.store.forgetLastCommits();
    this.remember();
  }

  /** The changes people's commits in the range made, with the versions read from git in one batch. */
  private async changesIn(commits: readonly RangeCommit[], base: string | null): Promise<ExternalChange[]> {
    const theirs = commits.filter((c) => !c.own && c.paths.some((p) => patternNameOf(p.path) !== undefined));
    if (theirs.length === 0) return [];
    const specs = new Set<string>();
    for (const { commit, paths } of commits) {
      for (const { path, deleted } of paths) {
        if (patternNameOf(path) === undefined) continue;
        if (!deleted) specs.add(`${commit}:${path}`);
        if (base !== null) specs.add(`${base}:${path}`);
      }
    }
    const texts = await this.git.blobs([...specs]);
    const versionOf = (revision: string, path: string): FileVersion | undefined => {
      const text = texts.get(`${revision}:${path}`);
      if (text === undefined) return undefined;
      const read = Catalog.read(path, text);
      return read.ok ? { name: read.entry.name, version: read.entry.version } : undefined;
    };
    return externalChanges(commits, versionOf, (path) => (base === null ? undefined : versionOf(base, path)));
  }

  /** Tags a version the change introduced (when its tag is free), logs the change and publishes it. */
  private async announce(change: ExternalChange): Promise<void> {
    const { name, version, path, commit, deleted } = change;
    let tag: string | undefined;
    if (change.introduced) {
      const wanted = `${name}@${version}`;
      const taggedAt = await this.git.resolve(wanted);
      if (taggedAt === null) {
        await this.git.tag(wanted, commit);
        tag = wanted;
      } else if (taggedAt !== commit) {
        this.log.warn({ path, name, version, commit, tag: wanted, tagged_commit: taggedAt }, "a commit made outside the daemon reuses a version whose tag is on another commit; the tag stays where it is");
      }
    }
    this.log.info({ path, name, version, commit, ...(tag === undefined ? {} : { tag }), ...(deleted ? { deleted } : {}) }, "picked up a commit made outside the daemon");
    this.publish({ name, version, op: "external", commit });
  }

  /**
   * The one-off check of a store without a record: patterns served as HEAD
   * has them whose `name@version` tag does not exist get it on the last
   * commit that touched their file. One `git tag --list`, one `git log`.
   */
  private async tagUntagged(head: string): Promise<void> {
    const tags = new Set(await this.git.tags("*@*"));
    const dirty = await this.store.dirtyCheck();
    const untagged = [...this.store.catalog.entries()].filter((e) => !tags.has(`${e.name}@${e.version}`) && !dirty(e));
    if (untagged.length === 0) return;
    const last = await this.git.lastCommitsOf(
      untagged.map((e) => e.path),
      head,
    );
    for (const entry of untagged) {
      const commit = last.get(entry.path);
      if (commit === undefined) continue;
      const tag = `${entry.name}@${entry.version}`;
      await this.git.tag(tag, commit);
      this.log.info({ path: entry.path, name: entry.name, version: entry.version, commit, tag }, "tagged a version committed without its tag");
    }
  }

  /**
   * Logs each pattern file a reconcile picked up (store-relative paths) as
   * it is now served: dirty (differs from HEAD), as HEAD has it (the HEAD
   * named; a commit that made it was logged when taken in), invalid (the
   * catalog logged why) or gone. No process: HEAD's tree is known.
   */
  async report(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const dirty = await this.store.dirtyCheck();
    const head = this.git.takenHead ?? null;
    const invalid = new Set(this.store.catalog.invalid().map((f) => f.path));
    const ignored = new Set(this.store.catalog.ignored().map((f) => f.path));
    // By path, once: a checkout can change thousands of files, and a look-up by path walks the index.
    const served = new Map([...this.store.catalog.entries()].map((entry) => [entry.path, entry]));
    for (const path of paths) {
      const name = patternNameOf(path);
      // Not a pattern file, or one the catalog has just reported as invalid or not a composition.
      if (name === undefined || invalid.has(path) || ignored.has(path)) continue;
      const entry = served.get(path);
      if (entry === undefined) {
        this.log.info({ path, name, removed: true }, "picked up a pattern file removed outside the daemon");
        continue;
      }
      const state = dirty(entry) ? { dirty: true } : { dirty: false, head };
      this.log.info({ path, name: entry.name, version: entry.version, ...state }, "picked up a pattern file changed outside the daemon");
    }
  }

  private remember(): void {
    const taken = this.git.takenHead;
    if (taken === undefined || taken === null || taken === this.recorded) return;
    try {
      this.git.writeOwnFile(RECORD_FILE, `${taken}\n`);
      this.recorded = taken;
    } catch (err) {
      this.log.warn({ err }, "the HEAD taken in is not recorded; the next start checks the store's tags instead");
    }
  }
}
