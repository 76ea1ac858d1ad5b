/**
 * Keeps the catalog current with what happens to the store behind the
 * daemon's back (a hand edit, git pull, git checkout): any file event
 * schedules one debounced reconcile from the files themselves.
 *
 * One `fs.watch` per folder (the store and every folder in it, any depth:
 * KSI nests components several folders down), not chokidar: chokidar watches every file on its own (10 000 patterns
 * were 10 000 inotify watches, more than many systems allow a user) and
 * re-reads a whole folder on each event in it, so every atomic save on a
 * large store cost a directory scan. The events are only a hint here —
 * the reconcile reads the files — so the folder-level events are enough.
 *
 * HEAD is watched too, for a commit that changes no file (one the daemon
 * served dirty until then): git appends to logs/HEAD whenever HEAD moves
 * (commit, pull, checkout, reset) and rewrites HEAD on a branch switch,
 * both in the work tree's git dir (git-dirs.ts: `.git` in a plain clone),
 * so those two names in those two folders are the trigger. So is the
 * branch's own file in the common dir: a linked worktree shares its
 * branches with the repository's other worktrees, and a `git update-ref`
 * (or a commit, with --ignore-other-worktrees) made in another one moves
 * the branch without touching this worktree's HEAD or reflog. Each check
 * compares HEAD, read from two small files, with the HEAD taken in; the
 * daemon's own commits have moved that along already, so they cost a
 * timer and two reads. A slow poll of the same check covers a store
 * without a reflog, a branch packed away, and a switch to another branch
 * (whose file is not watched).
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Clock, TimerHandle } from "../../../core/clock.js";
import type { Log } from "../../../core/log.js";
import { isDecisionLogPath, isPatternPath } from "../model/store-layout.js";
import type { Catalog } from "./catalog.js";
import type { StoreDirs } from "./git-dirs.js";
import { listFolders } from "./listing.js";

const DEBOUNCE_MS = 100;
/** How often HEAD is looked at when nothing was heard from the repository (a store without a reflog). */
const HEAD_POLL_MS = 5_000;

export interface WatcherHooks {
  /**
   * After a reconcile that was needed, or HEAD moved: `paths` are the
   * pattern files read again or gone (none when only HEAD moved).
   */
  onChange(paths: readonly string[]): Promise<void>;
  /** True when HEAD is not the commit the daemon has taken in (cheap: asked on every event of the repository's that matters). */
  headMoved(): boolean;
  /** A decision log changed (store-relative path): not a pattern, so no reconcile. */
  onDecisionLog(path: string): void;
  /**
   * Runs `settle` when no store operation is half done (between the file
   * write of a save and its entry in the catalog, the file would look like
   * a change made behind the daemon's back and cost a full reconcile).
   */
  whenIdle(settle: () => Promise<void>): void;
}

export class StoreWatcher {
  private timer: TimerHandle | null = null;
  private poll: TimerHandle | null = null;
  /** Store-relative paths of the events since the last reconcile; null when a folder changed. */
  private changed: Set<string> | null = new Set();
  private readonly folders = new Map<string, FSWatcher>();
  /** The repository's folders watched for HEAD moving (absolute). */
  private readonly gitFolders: FSWatcher[] = [];
  private closed = false;

  private constructor(
    private readonly root: string,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly hooks: WatcherHooks,
  ) {}

  static start(root: string, catalog: Catalog, clock: Clock, log: Log, hooks: WatcherHooks, dirs: StoreDirs): StoreWatcher {
    const watcher = new StoreWatcher(root, catalog, clock, log, hooks);
    watcher.watchFolders(listFolders(root));
    for (const { folder, name } of headFiles(dirs)) watcher.watchGitFolder(folder, name);
    watcher.pollHead();
    return watcher;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    if (this.poll !== null) this.clock.clearTimer(this.poll);
    for (const handle of this.folders.values()) handle.close();
    this.folders.clear();
    for (const handle of this.gitFolders.splice(0)) handle.close();
  }

  /** Watches a folder of the repository's (absolute) for events on `name` only: everything else there (the index, objects, locks) is git's own business. */
  private watchGitFolder(folder: string, name: string): void {
    try {
      const handle = watch(folder, { persistent: false }, (_event, file) => {
        if (file !== null && String(file) === name) this.schedule();
      });
      // The poll covers a folder that goes away.
      handle.on("error", () => handle.close());
      this.gitFolders.push(handle);
    } catch {
      // Not there (yet): the poll covers it.
    }
  }

  /** Watches `folder` (store-relative, "" for the store itself) unless already watched. */
  private watchFolder(folder: string): void {
    if (this.closed || this.folders.has(folder)) return;
    let handle: FSWatcher;
    try {
      handle = watch(join(this.root, folder), { persistent: false }, (_event, file) => this.onEvent(folder, file));
    } catch (err) {
      // Gone already (or never a folder): the reconcile sees what is there.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" && (err as NodeJS.ErrnoException).code !== "ENOTDIR") this.log.warn({ err, folder }, "store folder not watched");
      return;
    }
    handle.on("error", () => {
      handle.close();
      this.folders.delete(folder);
      this.changed = null;
      this.schedule();
    });
    this.folders.set(folder, handle);
  }

  /** Watches exactly these store folders (a reconcile's listing): new ones start being watched, gone ones stop. */
  private watchFolders(folders: readonly string[]): void {
    const wanted = new Set(folders);
    for (const [folder, handle] of this.folders) {
      if (wanted.has(folder)) continue;
      handle.close();
      this.folders.delete(folder);
    }
    for (const folder of folders) this.watchFolder(folder);
  }

  private pollHead(): void {
    if (this.closed) return;
    this.poll = this.clock.setTimer(() => {
      if (this.hooks.headMoved()) this.schedule();
      this.pollHead();
    }, HEAD_POLL_MS);
  }

  private onEvent(folder: string, file: string | Buffer | null): void {
    const name = file === null ? null : String(file);
    // .git, and the temp files of atomic writes.
    if (name?.startsWith(".") === true) return;
    const path = name === null ? null : folder === "" ? name : `${folder}/${name}`;
    if (path !== null && isDecisionLogPath(path)) {
      this.hooks.onDecisionLog(path);
      return;
    }
    // A pattern file is checked on its own; anything else may be a folder that appeared or went (its files
    // count from now on, and it is watched after the reconcile), so the whole store is listed again.
    if (path !== null && isPatternPath(path)) this.changed?.add(path);
    else this.changed = null;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.hooks.whenIdle(() => {
        if (this.closed) return Promise.resolve();
        const changed = this.changed;
        this.changed = new Set();
        return this.settle(changed);
      });
    }, DEBOUNCE_MS);
  }

  /**
   * The daemon's own saves are already in the catalog, and its own commits
   * taken in: only a change it does not hold costs a full reconcile, and
   * only a HEAD it has not taken in a walk of the new commits.
   */
  private async settle(changed: Set<string> | null): Promise<void> {
    try {
      const held = changed !== null && this.catalog.holds([...changed]);
      if (held && !this.hooks.headMoved()) return;
      const paths = held ? [] : this.catalog.reconcile().changed;
      if (!held) this.watchFolders(this.catalog.folders());
      await this.hooks.onChange(paths);
    } catch (err) {
      this.log.error({ err }, "store reconcile failed");
    }
  }
}

/**
 * The files whose change says HEAD may have moved, each with its folder:
 * HEAD and logs/HEAD in the git dir, and the branch HEAD names now in the
 * common dir (when HEAD names one that can be read).
 */
function headFiles(dirs: StoreDirs): { folder: string; name: string }[] {
  const files = [
    { folder: dirs.gitDir, name: "HEAD" },
    { folder: join(dirs.gitDir, "logs"), name: "HEAD" },
  ];
  let head = "";
  try {
    head = dirs.gitFiles.readText("HEAD") ?? "";
  } catch {
    // a link planted as HEAD: the commit path refuses it
  }
  const branch = /^ref: (refs\/heads\/[^\s]+)\s*$/.exec(head)?.[1];
  if (branch !== undefined && !branch.includes("..")) files.push({ folder: dirname(join(dirs.commonDir, branch)), name: basename(branch) });
  return files;
}
