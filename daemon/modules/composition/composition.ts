/**
 * composition:get / save / delete / validate / compose / history /
 * reload: thin handlers over the pattern store (fork / merge / diff /
 * lineage are in evolution-events.ts; discover / select / decisions in
 * discovery-events.ts; list in list-event.ts). Every successful mutation
 * is also published as composition:changed, and its reply names the
 * branch and the commit.
 *
 * The store is the truth (issue 24): the daemon commits only to its
 * branch (store-guard.ts answers store_busy otherwise), one daemon serves
 * a store (store-lock.ts), and a store removed while the daemon runs
 * answers store_missing until it is back, when it is taken in again
 * from disk without a restart (store-attachment.ts).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "../../core/atomic-file.js";
import { DaemonError } from "../../core/errors.js";
import { defineEvent, type EventDef, type HandlerContext } from "../../core/event.js";
import type { TimerHandle } from "../../core/clock.js";
import { isDaemonProcess } from "../../core/instance-lock.js";
import type { Log } from "../../core/log.js";
import type { Module, ModuleContext } from "../../core/module.js";
import { packageInfo } from "../../package-info.js";
import { compose, inherited, replacedDefinitions } from "./model/compose.js";
import { YamlDocument, type Issue } from "./model/document.js";
import { splitPatternText } from "./model/front-matter.js";
import { pathKeyedSchema } from "./model/modifications.js";
import { labelledRefSchema, nameSchema, parseRef } from "./model/ref.js";
import { validateComposition, type ValidationMode } from "./model/schema.js";
import { Catalog, type IgnoredPath } from "./store/catalog.js";
import { recordedHistory } from "./model/history-place.js";
import { LABELS_PATH } from "./model/labels.js";
import { StoreFiles } from "./store/files.js";
import { GitRepo } from "./store/git.js";
import { StoreDirs } from "./store/git-dirs.js";
import type { StoreSettings } from "./store/git-config.js";
import { activeHooks } from "./store/git-hooks.js";
import { readIndexCache, writeIndexCache } from "./store/index-cache.js";
import { PatternStore, type Mutation } from "./store/pattern-store.js";
import { seedStore } from "./store/seed.js";
import { recoverAtStart } from "./store/start-recovery.js";
import { StoreWatcher } from "./store/watcher.js";
import { OutsideChanges } from "./store/outside-changes.js";
import { PatternEvolution } from "./store/evolution.js";
import { evolutionEvents } from "./evolution-events.js";
import { syncEvents } from "./sync-events.js";
import { StoreSync } from "./store/store-sync.js";
import { SyncEvery } from "./sync-every.js";
import { labelEvents } from "./label-events.js";
import { StoreLabels } from "./store/store-labels.js";
import { discoveryEvents } from "./discovery-events.js";
import { compareEvent } from "./compare-event.js";
import { listEvent } from "./list-event.js";
import { DecisionLogs } from "./store/decision-log.js";
import { Finder } from "./store/finder.js";
import { loadMeanings, meaningsPath } from "./store/meanings-file.js";
import { Selector } from "./store/selector.js";
import { StoreGuard } from "./store/store-guard.js";
import { StoreLock, StoreTakenError } from "./store/store-lock.js";
import { StoreAttachment } from "./store-attachment.js";
import { composeResult, deleteResult, getResult, historyResult, reloadResult, saveResult, updateResult, validateResult } from "./results.js";

/** Paths one update may set and unset. */
const MAX_EDITS = 100;

/** How long after a start that could not use the index cache whole it is written (off the path to answering). */
const CACHE_DELAY_MS = 5_000;

/** What the store's own config makes of the daemon's commits, said once at start so nobody is surprised. */
function logStoreSettings(settings: StoreSettings, log: Log): void {
  const hooks = [...activeHooks(settings.hooksDir)];
  if (hooks.length > 0 || settings.signCommits) {
    log.info({ hooks, hooks_dir: settings.hooksDir, signed: settings.signCommits }, "the store's commit hooks run and its signing setting applies for the daemon's commits");
  }
  if (settings.signTagsAsked) {
    log.warn({ setting: "tag.gpgSign" }, "the store's tag.gpgSign is set, but version tags are lightweight (refs, no tag object to sign); the commits they name are signed when commit.gpgsign is true");
  }
}

const compositionObject = z.record(z.string(), z.unknown()).describe("the whole document as JSON");
const yamlText = z.string().max(2 * 1024 * 1024).describe("the whole document as YAML text");

export function compositionModule(ctx: ModuleContext): Module {
  const log = ctx.log.child({ module: "composition" });
  // Where the store's repository is, whatever its layout (a plain clone, a submodule, a linked worktree, a separate git dir): resolved at start, and again when a store that vanished is back.
  const dirs = new StoreDirs(ctx.config.storeDir);
  const files = new StoreFiles(ctx.config.storeDir, dirs);
  const git = new GitRepo(ctx.config.storeDir, log, dirs);
  const catalog = new Catalog(files, log);
  const store = new PatternStore(git, files, catalog, log);
  const evolution = new PatternEvolution(store, () => ctx.clock.now());
  const labels = new StoreLabels(store);
  // name@label is resolved wherever the store reads a ref (get, compose, fork's parent, diff).
  store.exact = (ref) => labels.exact(ref);
  const decisions = new DecisionLogs(files, git, ctx.clock, log);
  const selector = new Selector(catalog, decisions, loadMeanings(meaningsPath(packageInfo().root)));
  const guard = new StoreGuard(dirs, ctx.config.branch, log);
  git.writable = () => guard.requireWritable();
  let watcher: StoreWatcher | null = null;
  let lock: StoreLock | null = null;
  let head: string | null = null;

  // The index cache (and select's saved index): written at stop, and once a while after a start (or a store
  // taken in again) that could not use it whole. Not after changes: a write is the whole store (at 100 000
  // patterns ~20 s of CPU, which saves then queued behind), while a cache older than the files costs only
  // the files that moved since (the cache is checked file by file), so a start after a crash reads those again.
  const storeKey = createHash("sha1").update(ctx.config.storeDir).digest("hex").slice(0, 12);
  const cachePath = join(ctx.config.libDir, `index-${storeKey}.ndjson`);
  // select's ranking index, saved with the index cache: a start then analyses only the patterns whose text moved.
  const selectPath = join(ctx.config.libDir, `select-${storeKey}.v8`);
  let cachedRevision = -1;
  /** The revision the last write queued will save (a stop during that write waits for it instead of queueing the same again). */
  let queuedRevision = -1;
  let cacheTimer: TimerHandle | null = null;
  let cacheWrite: Promise<void> = Promise.resolve();
  const saveCache = () => {
    if (cacheTimer !== null) ctx.clock.clearTimer(cacheTimer);
    cacheTimer = null;
    if (catalog.revision === cachedRevision || catalog.revision === queuedRevision) return cacheWrite;
    queuedRevision = catalog.revision;
    cacheWrite = cacheWrite.then(async () => {
      const revision = catalog.revision;
      try {
        await writeIndexCache(cachePath, ctx.config.storeDir, catalog.snapshot());
        await writeAtomic(selectPath, selector.image(ctx.config.storeDir));
        cachedRevision = revision;
      } catch (err) {
        log.warn({ err, path: cachePath }, "index cache not written; the next start reads every file");
      }
    });
    return cacheWrite;
  };
  const cacheSoon = () => {
    if (cacheTimer === null) cacheTimer = ctx.clock.setTimer(() => void saveCache(), CACHE_DELAY_MS);
  };

  const changed = (mutation: Mutation, agentId: string | undefined) => {
    head = mutation.commit;
    ctx.bus.publish({ ts: ctx.clock.now(), event: "composition:changed", id: null, agentId, ok: true, code: undefined, ms: 0, data: mutation, meta: undefined });
  };
  // A version committed outside the daemon is published like the daemon's own, with op "external" and no agent.
  const outside = new OutsideChanges(store, log, (change) => changed(change, undefined), () => guard.writable());
  /** Takes in what HEAD and the files picked up say (the caller holds git.exclusive). */
  const takeIn = async (paths: readonly string[]) => {
    await outside.takeIn();
    head = git.takenHead ?? null;
    await outside.report(paths);
  };

  const list = listEvent(store);
  const sync = new StoreSync(store, () => guard.branch, (work) => decisions.holdingAppends(work), (path) => decisions.changed(path), log);
  const synced = (reply: { head: string | null; remote: string; pulled: string[]; merged: { file: string }[] }, agentId: string | undefined) => {
    head = reply.head;
    const files = [...reply.pulled, ...reply.merged.map((m) => m.file)];
    ctx.bus.publish({ ts: ctx.clock.now(), event: "composition:changed", id: null, agentId, ok: true, code: undefined, ms: 0, data: { op: "sync", commit: reply.head, remote: reply.remote, files }, meta: undefined });
  };
  const every = ctx.config.syncEverySeconds === undefined ? null : new SyncEvery(sync, ctx.config.syncEverySeconds, ctx.clock, log, (reply) => synced(reply, "patternd-sync"));

  const get = defineEvent({
    name: "composition:get",
    effect: "read",
    summary: "One composition, current or a tagged version (name@version), or what a label points at (name@label)",
    params: z.strictObject({ name: labelledRefSchema, format: z.enum(["json", "yaml"]).default("json") }),
    result: getResult,
    example: { name: "tournament@1.0.0" },
    description:
      "commit: the commit that holds what is served. dirty: true when the file differs from HEAD (an edit not committed yet): " +
      "what is served is the file, and commit is null, since no commit holds it. A tagged version is never dirty. " +
      "yaml: the document's YAML (a markdown file's front matter; its body stays in the file). " +
      "warnings: [{path, message}] for data faults of the current file that do not stop it being served (a missing parent, a name other than its file name, no description).",
    handler: async (data) => {
      const ref = store.exact(parseRef(data.name));
      const found = await store.read(ref);
      const { name, version, path, commit, dirty } = found;
      const current = ref.version === undefined ? catalog.get(ref.name) : undefined;
      const warnings = current === undefined ? [] : catalog.warningsOf(current);
      const said = warnings.length > 0 ? { warnings } : {};
      return data.format === "yaml"
        ? { name, version, path, commit, dirty, yaml: splitPatternText(path, found.text)?.yaml ?? found.text, ...said }
        : { name, version, path, commit, dirty, composition: found.data, ...said };
    },
  });

  const save = defineEvent({
    name: "composition:save",
    summary: "Create a composition, or replace one with a whole new document: one commit, tagged name@version",
    description:
      "Give the whole document as `composition` (JSON; applied onto the current file so comments and the order of kept keys stay) or as `yaml` text. " +
      "Sections the document leaves out are removed: to change some values, use composition:update. A save that would drop lineage, forks or merges, " +
      "or more than half of the top-level sections, is a conflict naming them unless replace: true. " +
      "An update with an unchanged version gets its patch bumped; an older version is a conflict; identical content commits nothing. " +
      "warnings: [{path, message}] for what is saved but probably not meant (a variable definition inherited through extends or mixins replaced by a plain value).",
    params: z
      .strictObject({
        composition: compositionObject.optional(),
        yaml: yamlText.optional(),
        message: z.string().min(1).max(500).optional(),
        create_only: z.boolean().optional(),
        replace: z.boolean().optional().describe("replace the whole document even if that drops its history or most of its sections"),
      })
      .refine((d) => (d.composition === undefined) !== (d.yaml === undefined), { message: "give composition or yaml (one of them)" }),
    result: saveResult,
    example: { composition: { name: "my_pattern", type: "orchestration", version: "0.1.0", description: "What it is for" }, message: "first draft" },
    handler: async (data, call) => {
      const result = await store.save(data, call.agentId);
      if (result.unchanged !== true) changed(result, call.agentId);
      const reply =
        result.unchanged === true
          ? { name: result.name, version: result.version, commit: result.commit, branch: guard.branch, unchanged: true }
          : { name: result.name, version: result.version, commit: result.commit, branch: guard.branch };
      return withWarnings(reply, result.name);
    },
  });

  /** A save's or update's reply, with the warnings its pattern as now stored earns (none: no key). */
  async function withWarnings<R extends object>(reply: R, name: string): Promise<R | (R & { warnings: Issue[] })> {
    const stored = catalog.get(name);
    const warnings = stored === undefined ? [] : await definitionWarnings(stored.data);
    return warnings.length === 0 ? reply : { ...reply, warnings };
  }

  const update = defineEvent({
    name: "composition:update",
    summary: "Change values of a composition by dotted path (a patch): one commit, lossless, patch version bumped",
    description:
      "set: {dotted.path: value}; unset: [dotted.path]. Only the touched lines change; comments, key order and every other section stay. " +
      "A map given for a path that holds a map is merged into it key by key (replace_maps: true replaces it whole); lists are replaced whole; " +
      "a path never turns a scalar or list into a map. The patch is bumped unless set gives a newer version. " +
      "new_paths lists the paths that did not exist before (a typo shows up there).",
    params: z
      .strictObject({
        name: nameSchema,
        set: pathKeyedSchema(MAX_EDITS).optional().describe("dotted path → new value"),
        unset: z.array(z.string().min(1).max(200)).max(MAX_EDITS).optional().describe("dotted paths to remove"),
        replace_maps: z.boolean().optional().describe("a map given for a map replaces it whole instead of merging key by key"),
        message: z.string().min(1).max(500).optional(),
      })
      .refine((d) => Object.keys(d.set ?? {}).length + (d.unset ?? []).length > 0, { message: "give set: {dotted.path: value} and/or unset: [dotted.path]" }),
    result: updateResult,
    example: { name: "tournament", set: { "variables.rounds.default": 4, "metadata.tags": ["tournament", "swiss"] }, message: "four rounds" },
    handler: async (data, call) => {
      const result = await store.update(data, call.agentId);
      if (result.unchanged !== true) changed(result, call.agentId);
      const reply = {
        name: result.name,
        version: result.version,
        commit: result.commit,
        branch: guard.branch,
        ...(result.unchanged === true ? { unchanged: true } : {}),
        new_paths: result.new_paths,
      };
      return withWarnings(reply, result.name);
    },
  });

  const remove = defineEvent({
    name: "composition:delete",
    effect: "destroy",
    summary: "Delete a composition (its history and tags stay)",
    params: z.strictObject({ name: nameSchema, message: z.string().min(1).max(500).optional() }),
    result: deleteResult,
    example: { name: "my_pattern" },
    handler: async (data, call) => {
      const result = await store.remove(data.name, data.message, call.agentId);
      changed(result, call.agentId);
      return { deleted: true, commit: result.commit, branch: guard.branch };
    },
  });

  const validate = defineEvent({
    name: "composition:validate",
    effect: "read",
    summary: "Check a composition (object, YAML or stored name) without saving it",
    description:
      "issues: [{path, message}] that make it invalid (schema, missing parents, cycles). " +
      "warnings: [{path, message}] for what is valid but probably not meant: a variable whose definition ({type, default, description}) inherited through extends or mixins is replaced by a plain value, losing its type and description.",
    params: z
      .strictObject({ composition: compositionObject.optional(), yaml: yamlText.optional(), name: nameSchema.optional() })
      .refine((d) => [d.composition, d.yaml, d.name].filter((v) => v !== undefined).length === 1, {
        message: "give one of composition, yaml or name",
      }),
    result: validateResult,
    example: { name: "tournament" },
    handler: async (data) => {
      let doc: Record<string, unknown>;
      if (data.name !== undefined) {
        const entry = store.require(data.name);
        const broken = catalog.invalid().find((f) => f.path === entry.path);
        if (broken !== undefined) return { valid: false, issues: broken.issues, serving: entry.version };
        // A stored file is held to what it may keep (KSI's data faults are its warnings, not issues).
        const issues = await check(entry.data, "stored");
        const warnings = [...catalog.warningsOf(entry), ...(await definitionWarnings(entry.data))];
        if (issues.length > 0) return { valid: false, issues, ...(warnings.length > 0 ? { warnings } : {}) };
        return warnings.length === 0 ? { valid: true, issues } : { valid: true, issues, warnings };
      } else if (data.yaml !== undefined) {
        const parsed = YamlDocument.parse(data.yaml);
        if (!parsed.ok) return { valid: false, issues: parsed.issues };
        doc = parsed.document.data;
      } else {
        doc = data.composition!;
      }
      const issues = await check(doc);
      if (issues.length > 0) return { valid: false, issues };
      const warnings = await definitionWarnings(doc);
      return warnings.length === 0 ? { valid: true, issues } : { valid: true, issues, warnings };
    },
  });

  /** The pattern a ref names, once it is known to resolve (a label that is there, a version that exists). */
  async function patternOf(text: string): Promise<string> {
    const ref = store.exact(parseRef(text));
    if (ref.version !== undefined) await store.read(ref);
    return ref.name;
  }

  /** Variables whose inherited definition the document replaces by a plain value (valid, but the type and description are silently lost). */
  async function definitionWarnings(doc: Record<string, unknown>): Promise<Issue[]> {
    const self = doc.name;
    try {
      return replacedDefinitions(doc, await inherited(doc, (ref) => (ref.name === self && ref.version === undefined ? Promise.resolve(doc) : store.load(ref))));
    } catch (err) {
      // Inheritance that does not resolve is an issue check() reports (or save refused); no warning to add.
      if (err instanceof DaemonError) return [];
      throw err;
    }
  }

  /** Schema issues, then whether its inheritance resolves (missing parents, cycles); a stored file's missing parent is a warning instead. */
  async function check(doc: Record<string, unknown>, mode: ValidationMode = "new"): Promise<Issue[]> {
    const valid = validateComposition(doc, mode);
    if (!valid.ok) return valid.issues;
    try {
      await store.checkInheritance(doc);
      return [];
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err;
      if (mode === "stored" && err.code === "not_found") return [];
      const path = typeof err.details?.path === "string" ? err.details.path : "extends";
      return [{ path, message: err.message }];
    }
  }

  const composeEvent = defineEvent({
    name: "composition:compose",
    effect: "read",
    summary: "Resolve extends, mixins and variables into one document (profiles also get their prompt)",
    description:
      "{{name}} placeholders take the caller's variables, else the declared defaults ({{a.b}}: a path into a variable's value). " +
      "One nobody supplied stays as written, for the agent to fill at run time ({{agent_id}}, as in KSI), and is listed in " +
      "unresolved: [{name, paths}]; with strict: true that is an invalid_params error naming them. Other {{...}} text " +
      "(KSI's run-time expressions such as {{len(x)}}) is left alone.",
    params: z.strictObject({
      name: labelledRefSchema,
      variables: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().optional().describe("fail (invalid_params) when a placeholder is left unresolved, instead of listing it in unresolved"),
    }),
    result: composeResult,
    example: { name: "base_orchestrator", variables: { agent_role: "planner" } },
    handler: (data) => compose(store.exact(parseRef(data.name)), store.load, data.variables, data.strict),
  });

  const history = defineEvent({
    name: "composition:history",
    effect: "read",
    summary: "Versions of a composition from git: commit, date, author, op, message",
    description:
      "recorded: {lineage?, forks?, merges?}, what the file itself records of its history, at the top level or under metadata " +
      "as KSI keeps it (KSI's forks and merges are in the files, not in commit trailers); absent when it records none. " +
      "name may be a ref (name@version, name@label): it must resolve, and the history is its pattern's.",
    params: z.strictObject({ name: labelledRefSchema }),
    result: historyResult,
    example: { name: "tournament" },
    handler: async (asked) => {
      const data = { name: await patternOf(asked.name) };
      const versions = await store.history(data.name);
      const entry = catalog.get(data.name);
      const recorded = entry === undefined ? {} : recordedHistory(entry.data);
      return Object.keys(recorded).length === 0 ? { versions } : { versions, recorded };
    },
  });

  const reload = defineEvent({
    name: "composition:reload",
    summary: "Rebuild the index from the store's files now, accounting for every file: indexed, invalid, ignored (and why), warnings",
    description:
      "A rebuild from disk: every folder is listed and every file's lstat compared with what was read (inode, size, mtime, ctime), " +
      "so any file changed since, even by an edit that kept its size and mtime, is read again (as is one changed too recently to tell), " +
      "and nothing is served whose file is gone; a store with nothing changed costs the listing alone. " +
      "Every file of the store is accounted for once: indexed (a count), invalid: [{path, issues}] for files that do not parse or validate " +
      "(their last good version keeps serving; labels.yaml too, whose labels are refused until it is fixed), ignored: [{path, reason, message}] for what is not indexed and why (reason decision_log, hidden, " +
      "other_file: not .yaml/.yml/.md, no_front_matter: markdown that is a document, not_a_composition: no type or component_type, " +
      "unsafe_path: a symbolic link, which the store never follows, with its target), and warnings: [{path, message}] for indexed files " +
      "with data faults that do not stop them being served (a missing parent, a name other than the file name, no description).",
    params: z.strictObject({}),
    result: reloadResult,
    example: {},
    handler: () =>
      git.exclusive(async () => {
        const { indexed, invalid, ignored, warnings, changed: paths } = catalog.reconcile();
        store.forgetLastCommits();
        await takeIn(paths);
        const labelIssues = labels.problems();
        return { indexed, invalid: labelIssues.length === 0 ? invalid : [...invalid, { path: LABELS_PATH, issues: labelIssues }], ignored, warnings };
      }),
  });

  /**
   * The decision logs of the patterns indexed (the store's listing found
   * them: a pattern without a log costs nothing) are indexed in the
   * background, a slice per turn, so the first query after a start finds
   * its log indexed.
   */
  const warmDecisionLogs = (ignored: readonly IgnoredPath[]) => {
    const logs = new Set(ignored.filter((file) => file.reason === "decision_log").map((file) => file.path));
    decisions.warm(
      [...logs].filter((path) => {
        const entry = catalog.get(DecisionLogs.patternOf(path));
        return entry !== undefined && DecisionLogs.pathFor(entry.path) === path;
      }),
    );
    const absent: string[] = [];
    for (const entry of catalog.entries()) {
      const path = DecisionLogs.pathFor(entry.path);
      if (!logs.has(path)) absent.push(path);
    }
    decisions.absent(absent);
  };

  /** Starts the watcher (before the scan, so that nothing changed meanwhile goes unseen). */
  const watch = () => {
    watcher = StoreWatcher.start(ctx.config.storeDir, catalog, ctx.clock, log, {
      onChange: (paths) => takeIn(paths),
      headMoved: () => outside.moved(),
      onDecisionLog: (path) => decisions.changed(path),
      whenIdle: (settle) => void git.exclusive(settle),
    }, dirs);
  };

  /** The store's lock (one daemon per store), unless this daemon holds it already. */
  const takeLock = async () => {
    if (lock?.held() === true) return;
    lock = await StoreLock.acquire(ctx.config.storeDir, dirs.gitDir, { pid: process.pid, socket: ctx.config.socketPath, home: ctx.config.home }, isDaemonProcess);
  };

  const attachment = new StoreAttachment(guard, ctx.clock, log, {
    detach: () => {
      watcher?.close();
      watcher = null;
      catalog.clear();
      head = null;
    },
    attach: async () => {
      // The store may be back in another layout, or be another repository altogether.
      await dirs.resolve();
      try {
        await takeLock();
      } catch (err) {
        if (!(err instanceof StoreTakenError)) throw err;
        throw new DaemonError("store_busy", err.message, { state: "other_daemon", branch: guard.branch, hint: `pat stop --home ${err.holder.home}` });
      }
      guard.learn();
      // Whatever was known of the old store's HEAD, files and tree is dropped: the store may be another repository now.
      git.takenHead = undefined;
      store.forgetLastCommits();
      decisions.forget();
      catalog.clear();
      watch();
      const { indexed, invalid, ignored } = catalog.reconcile();
      warmDecisionLogs(ignored);
      cacheSoon();
      await outside.start();
      head = git.takenHead ?? null;
      log.info({ store: ctx.config.storeDir, indexed, invalid: invalid.length, branch: guard.branch, head }, "the store is back: taken in again from disk");
    },
    exclusive: (work) => git.exclusive(work),
  });

  const events: EventDef[] = [
    list,
    get,
    save,
    update,
    remove,
    validate,
    composeEvent,
    history,
    reload,
    ...evolutionEvents(evolution, changed, () => guard.branch, patternOf),
    ...labelEvents(labels, () => guard.branch),
    ...syncEvents(sync, synced),
    ...discoveryEvents({ finder: new Finder(catalog), store, selector, decisions, labels, clock: ctx.clock, types: () => catalog.types() }),
    compareEvent(store, decisions),
  ];

  return {
    name: "composition",
    // Every composition request touches the store: store_missing while it is gone, and a store that is back is taken in first.
    events: events.map((def) => ({
      ...def,
      handler: async (data: unknown, call: HandlerContext) => {
        await attachment.require();
        return def.handler(data, call);
      },
    })),
    async start() {
      const { root } = packageInfo();
      // Where the repository is: a .git planted as a link, or a .git file git does not follow, refused before anything is read.
      await dirs.resolve();
      // A repository format the writer does not implement, or signing that cannot work: refused before anything is written.
      await git.storeSettings();
      // One daemon per store, before anything in it is touched (a store not made yet is locked once seeded).
      if (guard.state().state !== "missing") await takeLock();
      const storeDir = ctx.config.storeDir;
      await recoverAtStart(
        [
          {
            what: "the removal of lock files a killed writer left",
            run: () => {
              const locks = git.clearStaleLocks();
              if (locks.length > 0) log.warn({ store: storeDir, locks }, "removed lock files a killed writer left in the store (no process works in it)");
            },
            hint: () => `Once no git runs in the store, remove its stale lock files by hand (\`ls ${dirs.gitDir}/*.lock ${dirs.commonDir}/refs/heads/*.lock\`).`,
          },
        ],
        log,
      );
      await seedStore(git, files, [join(root, "compositions"), join(root, "profiles")], log);
      // A store the seed just made a repository is resolved as such (a plain one: its own .git).
      await dirs.resolve();
      await takeLock();
      guard.learn();
      if (dirs.layout !== "plain") log.info({ store: storeDir, layout: dirs.layout, git_dir: dirs.gitDir, common_dir: dirs.commonDir }, "the store's .git is a file: its repository is elsewhere, and the daemon keeps its own files in the git dir");
      logStoreSettings(await git.storeSettings(), log);
      await recoverAtStart(
        [
          {
            what: "a store change a stop cut short",
            run: async () => {
              if (guard.writable()) await store.recover();
              else if (git.readOwnFile("patternd-intent.json") !== undefined) log.warn({ store: storeDir }, "a store change cut short by a stop is finished at the next start on the store's branch");
            },
            hint: () => `Look at \`git -C ${storeDir} status\`: commit what should be kept, \`git -C ${storeDir} restore --staged --worktree <path>\` what should not.`,
          },
          {
            what: "decision logs left uncommitted",
            run: () => decisions.recover(),
            hint: () => `Commit them by hand: \`git -C ${storeDir} add -- '*_decisions.yaml' && git -C ${storeDir} commit -m "decisions"\`.`,
          },
        ],
        log,
      );
      const started = performance.now();
      const cached = await readIndexCache(cachePath, ctx.config.storeDir);
      catalog.restore(cached);
      const selectRestored = cached.length > 0 && selector.restore(await readFile(selectPath).catch(() => Buffer.alloc(0)), ctx.config.storeDir);
      const restored = catalog.revision;
      watch();
      const { indexed, invalid, ignored, warnings } = catalog.reconcile();
      const reconciled = performance.now();
      selector.build();
      const selectMs = Math.round(performance.now() - reconciled);
      warmDecisionLogs(ignored);
      // A new or changed index is cached after start-up, off the path to answering.
      if (catalog.revision !== restored || cached.length === 0 || !selectRestored) cacheSoon();
      else cachedRevision = catalog.revision;
      // Commits made while the daemon was stopped (or never tagged) are taken in before the first request.
      await git.exclusive(() => outside.start());
      head = git.takenHead ?? null;
      attachment.start();
      every?.start();
      const counts = { indexed, invalid: invalid.length, ignored: ignored.length, warnings: warnings.length, from_cache: cached.length, select_from_cache: selectRestored, select_ms: selectMs, ms: Math.round(performance.now() - started) };
      // Nothing left out silently: files not indexed are said where an operator looks (pat reload lists them).
      // Decision logs are read by their own module: not indexing them is no news.
      const unread = ignored.filter((file) => file.reason !== "decision_log" && file.reason !== "labels");
      const labelIssues = labels.problems();
      if (labelIssues.length > 0) log.warn({ path: LABELS_PATH, issues: labelIssues }, "labels.yaml is not valid: name@label refs and label moves are refused until it is fixed (pat reload shows why)");
      if (invalid.length > 0 || unread.length > 0) log.warn({ ...counts, reasons: countBy(ignored.map((i) => i.reason)) }, "pattern store indexed; some files are invalid or not indexed (pat reload lists them)");
      else log.info(counts, "pattern store indexed");
    },
    async stop() {
      await every?.stop();
      attachment.stop();
      guard.close();
      watcher?.close();
      outside.stop();
      await decisions.flush();
      await saveCache();
      lock?.release();
    },
    health: () => {
      attachment.check();
      const syncs = every === null ? {} : { sync: every.health() };
      return { store: Object.assign({ path: ctx.config.storeDir, head, patterns: catalog.size }, guard.state(), syncs) };
    },
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
