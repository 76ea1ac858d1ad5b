/**
 * The invariants of SPEC §6 checked against what the soak's clients were
 * told (the ledger): git fsck, nothing left uncommitted, every YAML file
 * parses, every tag and every acknowledged mutation is in git as
 * answered, every acknowledged schedule fired exactly once (cancelled and
 * replaced ones never, unknown ones at most once), no decision record lost
 * or duplicated, and the index matches the files.
 */
import { basename, isAbsolute, relative } from "node:path";
import type { Incarnation } from "./daemon.js";
import { compareVersions, isRecord, str, type EmitRecord, type Ledger } from "./ledger.js";
import { catFiles, decisionRecords, eventLog, git, gitRun, isDecisionLog, lines, parseYaml, yamlFiles, type StoreFile } from "./store.js";

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** How many things were checked. */
  checked: number;
  /** One line on what was checked (and counts worth knowing). */
  detail: string;
  /** Evidence for a failure: the first few offending items. */
  failures: string[];
  skipped?: boolean;
}

const MAX_EVIDENCE = 12;

export function invariant(name: string, checked: number, detail: string, failures: string[], skipped = false): InvariantResult {
  return { name, ok: failures.length === 0, checked, detail, failures: failures.slice(0, MAX_EVIDENCE).concat(failures.length > MAX_EVIDENCE ? [`… and ${failures.length - MAX_EVIDENCE} more`] : []), ...(skipped ? { skipped } : {}) };
}

// ------------------------------------------------------------------ git and files

export async function checkFsck(store: string): Promise<InvariantResult> {
  const fsck = await gitRun(store, ["fsck", "--full", "--no-progress", "--strict"]);
  const output = `${fsck.stdout}${fsck.stderr}`;
  const bad = lines(output).filter((line) => /error|missing|broken|corrupt|bad |invalid/i.test(line));
  const counts = await git(store, "count-objects", "-v");
  const objects = Number(/^count: (\d+)/m.exec(counts)?.[1] ?? 0) + Number(/^in-pack: (\d+)/m.exec(counts)?.[1] ?? 0);
  const failures = fsck.code !== 0 ? [`git fsck exited ${fsck.code}`, ...lines(output).slice(0, 10)] : bad;
  return invariant("git fsck --full clean", objects, `${objects} objects`, failures);
}

/** `git status --porcelain`: after a clean stop nothing may be uncommitted (pattern files and decision logs). */
export async function checkCommitted(store: string, ledger: Ledger): Promise<InvariantResult> {
  const status = lines(await git(store, "status", "--porcelain=v1", "--untracked-files=all"));
  const tracked = lines(await git(store, "ls-files")).length;
  const failures = status.map((line) => {
    const name = basename(line.slice(3).trim(), ".yaml").replace(/_decisions$/, "");
    const cut = ledger.lostMutations.filter((m) => m.what.split(/[ @]/).includes(name)).map((m) => m.what);
    return `uncommitted: ${line}${cut.length > 0 ? ` — left by a request cut by a kill (no reply): ${cut.join("; ")}` : ""}`;
  });
  return invariant("working tree fully committed (git status clean)", tracked, `${tracked} tracked files`, failures);
}

export function checkYaml(files: readonly StoreFile[]): InvariantResult {
  const failures: string[] = [];
  let logs = 0;
  for (const file of files) {
    if (isDecisionLog(file.path)) {
      logs++;
      const { error } = decisionRecords(file.text);
      if (error !== undefined) failures.push(`${file.path}: ${error}`);
      if (file.text.length > 0 && !file.text.endsWith("\n")) failures.push(`${file.path}: does not end with a newline (torn append)`);
      continue;
    }
    const parsed = parseYaml(file.text);
    if (!parsed.ok) {
      failures.push(`${file.path}: ${parsed.error}`);
      continue;
    }
    const doc = parsed.value;
    const stem = basename(file.path, ".yaml");
    if (!isRecord(doc)) failures.push(`${file.path}: not a map`);
    else if (doc.name !== stem || typeof doc.version !== "string") failures.push(`${file.path}: name ${JSON.stringify(doc.name)}, version ${JSON.stringify(doc.version)}`);
  }
  return invariant("every YAML file parses", files.length, `${files.length - logs} patterns, ${logs} decision logs`, failures);
}

/** Pattern name → version, from the working tree. */
export function filesIndex(files: readonly StoreFile[]): Map<string, { version: string; type: unknown }> {
  const index = new Map<string, { version: string; type: unknown }>();
  for (const file of files) {
    if (isDecisionLog(file.path)) continue;
    const parsed = parseYaml(file.text);
    if (parsed.ok && isRecord(parsed.value) && typeof parsed.value.name === "string") {
      index.set(parsed.value.name, { version: String(parsed.value.version), type: parsed.value.type });
    }
  }
  return index;
}

export function checkIndex(what: string, listed: unknown, files: readonly StoreFile[], invalid?: unknown): InvariantResult {
  const failures: string[] = [];
  const onDisk = filesIndex(files);
  const served = new Map<string, string>();
  const compositions = isRecord(listed) && Array.isArray(listed.compositions) ? listed.compositions.filter(isRecord) : [];
  for (const c of compositions) served.set(String(c.name), String(c.version));
  for (const [name, { version }] of onDisk) {
    const v = served.get(name);
    if (v === undefined) failures.push(`${name}@${version} is a file but not listed`);
    else if (v !== version) failures.push(`${name}: file says ${version}, composition:list says ${v}`);
  }
  for (const [name, version] of served) if (!onDisk.has(name)) failures.push(`${name}@${version} is listed but has no file`);
  if (invalid !== undefined && (!Array.isArray(invalid) || invalid.length > 0)) failures.push(`composition:reload reports invalid files: ${JSON.stringify(invalid).slice(0, 500)}`);
  return invariant(what, onDisk.size, `${onDisk.size} patterns, ${served.size} listed`, failures);
}

/** Where each pattern name has lived in the history (its tags name files by name only). */
async function pathsByName(store: string): Promise<Map<string, string[]>> {
  const all = new Set(lines(await git(store, "log", "--all", "--format=", "--name-only")));
  const byName = new Map<string, string[]>();
  for (const path of all) {
    if (!path.endsWith(".yaml") || isDecisionLog(path)) continue;
    const name = basename(path, ".yaml");
    byName.set(name, [...(byName.get(name) ?? []), path]);
  }
  return byName;
}

export async function checkTags(store: string): Promise<InvariantResult> {
  const tags = lines(await git(store, "for-each-ref", "--format=%(refname:short) %(objectname) %(objecttype)", "refs/tags"));
  const byName = await pathsByName(store);
  const specs: string[] = [];
  const failures: string[] = [];
  const wanted: { tag: string; name: string; version: string; specs: string[] }[] = [];
  for (const line of tags) {
    const [tag, , type] = line.split(" ");
    const at = tag!.lastIndexOf("@");
    if (at <= 0) continue;
    if (type !== "commit") failures.push(`${tag} points at a ${type}`);
    const name = tag!.slice(0, at);
    const candidates = (byName.get(name) ?? []).map((path) => `refs/tags/${tag}:${path}`);
    specs.push(...candidates);
    wanted.push({ tag: tag!, name, version: tag!.slice(at + 1), specs: candidates });
  }
  const blobs = await catFiles(store, specs);
  for (const { tag, name, version, specs: candidates } of wanted) {
    const text = candidates.map((s) => blobs.get(s)).find((t) => typeof t === "string");
    if (text === undefined || text === null) {
      failures.push(`${tag}: no file for ${name} in the tagged commit`);
      continue;
    }
    const parsed = parseYaml(text);
    const doc = parsed.ok && isRecord(parsed.value) ? parsed.value : null;
    if (doc === null || doc.name !== name || String(doc.version) !== version) {
      failures.push(`${tag}: the file at the tag has name ${JSON.stringify(doc?.name)} version ${JSON.stringify(doc?.version)}`);
    }
  }
  return invariant("every tag name@version holds that version", wanted.length, `${wanted.length} tags`, failures);
}

const OPS: Record<string, string[]> = { save: ["create", "update"], fork: ["fork"], merge: ["merge"] };

export async function checkMutations(store: string, ledger: Ledger, files: readonly StoreFile[]): Promise<InvariantResult> {
  const failures: string[] = [];
  const history = new Map<string, string>();
  for (const line of lines(await git(store, "log", "--format=%H %(trailers:key=Op,valueonly,separator=%x2C)", "HEAD"))) {
    const [commit, op] = line.split(" ");
    history.set(commit!, op ?? "");
  }
  const tagTargets = new Map<string, string>();
  for (const line of lines(await git(store, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/tags"))) {
    const [tag, commit] = line.split(" ");
    tagTargets.set(tag!, commit!);
  }
  const blobs = await catFiles(store, ledger.mutations.map((m) => `${m.commit}:${m.path}`));
  for (const m of ledger.mutations) {
    const what = `${m.kind} ${m.name}@${m.version} (worker ${m.worker}, commit ${m.commit.slice(0, 10)})`;
    const tagged = tagTargets.get(`${m.name}@${m.version}`);
    if (tagged === undefined) failures.push(`${what}: tag ${m.name}@${m.version} missing`);
    else if (tagged !== m.commit) failures.push(`${what}: tag points at ${tagged.slice(0, 10)}, not the acknowledged commit`);
    const op = history.get(m.commit);
    if (op === undefined) failures.push(`${what}: commit not in HEAD's history`);
    else if (!OPS[m.kind]!.includes(op)) failures.push(`${what}: commit has Op: ${op}`);
    const text = blobs.get(`${m.commit}:${m.path}`);
    if (typeof text !== "string") {
      failures.push(`${what}: ${m.path} not in the commit`);
      continue;
    }
    const parsed = parseYaml(text);
    const doc = parsed.ok && isRecord(parsed.value) ? parsed.value : {};
    if (String(doc.version) !== m.version) failures.push(`${what}: file in the commit has version ${String(doc.version)}`);
    const meta = isRecord(doc.metadata) ? doc.metadata : {};
    const logic = isRecord(doc.orchestration_logic) ? doc.orchestration_logic : {};
    const lineage = isRecord(doc.lineage) ? doc.lineage : {};
    if (m.expect.token !== undefined && meta.soak_token !== m.expect.token) failures.push(`${what}: soak_token ${String(meta.soak_token)}, expected ${m.expect.token}`);
    if (m.expect.line !== undefined && !(str(logic.strategy) ?? "").split("\n").includes(m.expect.line)) failures.push(`${what}: strategy lacks "${m.expect.line}"`);
    if (m.expect.parent !== undefined && lineage.parent !== m.expect.parent) failures.push(`${what}: lineage.parent ${String(lineage.parent)}, expected ${m.expect.parent}`);
  }
  // No acknowledged version is rolled back: each pattern's file is at least at its newest acknowledged version.
  const current = filesIndex(files);
  const newest = new Map<string, string>();
  for (const m of ledger.mutations) {
    const seen = newest.get(m.name);
    if (seen === undefined || compareVersions(m.version, seen) > 0) newest.set(m.name, m.version);
  }
  for (const [name, version] of newest) {
    const file = current.get(name);
    if (file === undefined) failures.push(`${name}: file missing (newest acknowledged version ${version})`);
    else if (compareVersions(file.version, version) < 0) failures.push(`${name}: file at ${file.version}, older than acknowledged ${version}`);
  }
  // Exactly one commit per mutation: per pattern and kind, every acknowledged one has its commit, an unknown one at most one.
  const made = new Map<string, number>();
  for (const line of lines(await git(store, "log", "--format=%(trailers:key=Op,valueonly,separator=%x2C)%x1f%(trailers:key=Pattern,valueonly,separator=%x2C)", "HEAD"))) {
    const [op, pattern] = line.split("\x1f");
    const kind = Object.keys(OPS).find((k) => OPS[k]!.includes(op ?? ""));
    if (kind !== undefined && pattern !== undefined) made.set(`${kind} ${pattern}`, (made.get(`${kind} ${pattern}`) ?? 0) + 1);
  }
  const expected = new Map<string, { acked: number; unknown: number }>();
  const entry = (key: string) => expected.get(key) ?? (expected.set(key, { acked: 0, unknown: 0 }), expected.get(key)!);
  for (const m of ledger.mutations) entry(`${m.kind} ${m.name}`).acked++;
  for (const m of ledger.lostMutations) entry(`${m.kind} ${m.name}`).unknown++;
  for (const [key, { acked, unknown }] of expected) {
    const commits = made.get(key) ?? 0;
    if (commits < acked || commits > acked + unknown) failures.push(`${key}: ${commits} commits for ${acked} acknowledged and ${unknown} unknown requests`);
  }
  const kinds = ["save", "fork", "merge"].map((k) => `${ledger.mutations.filter((m) => m.kind === k).length} ${k}s`).join(", ");
  return invariant("every acknowledged save/fork/merge is one commit, tagged in git as answered", ledger.mutations.length, `${kinds}; commits per pattern and kind counted`, failures);
}

// ------------------------------------------------------------------ schedules

export interface ScheduleStats {
  firings: number;
  unverifiable: number;
  latenessP50Ms: number | null;
  latenessMaxMs: number | null;
}

/** The first daemon alive after `at`: the one that had to fire a schedule due then. */
/** How soon after a schedule's due time a SIGKILL can take its firing's record with it (see checkSchedules). */
const KILL_WINDOW_MS = 250;

function firstAliveAfter(incarnations: readonly Incarnation[], at: number): Incarnation | undefined {
  return incarnations.find((inc) => (inc.endedAt ?? Infinity) > at);
}

export async function checkSchedules(
  home: string,
  ledger: Ledger,
  incarnations: readonly Incarnation[],
): Promise<{ results: InvariantResult[]; stats: ScheduleStats }> {
  const failures: string[] = [];
  const log = await eventLog(home);
  const fromLog = new Map<string, { key: string; scheduleId: string | undefined; ts: string }[]>();
  for (const record of log.records) {
    if (!record.event.startsWith("soak:") || !record.ok) continue;
    const pid = isRecord(record.data) ? str(record.data.pid) : undefined;
    if (pid === undefined) {
      failures.push(`event log record seq ${record.seq} of ${record.event} has no payload id`);
      continue;
    }
    const list = fromLog.get(pid) ?? [];
    list.push({ key: `${record.seq}|${record.ts}`, scheduleId: record.schedule_id, ts: record.ts });
    fromLog.set(pid, list);
  }
  for (const pid of fromLog.keys()) if (!ledger.emits.has(pid)) failures.push(`the event log has a firing of ${pid}, which no emit of the soak sent`);

  let unverifiable = 0;
  let firings = 0;
  const lateness: number[] = [];
  for (const e of ledger.emits.values()) {
    const logged = fromLog.get(e.pid) ?? [];
    const keys = new Set([...logged.map((l) => l.key), ...(ledger.pushes.get(e.pid)?.keys() ?? [])]);
    firings += keys.size;
    const what = `${e.delayed ? "delayed" : "immediate"} emit ${e.pid}${e.scheduleId === undefined ? "" : ` (${e.scheduleId})`}`;
    const expected = expectedFirings(e);
    if (expected === "never" && keys.size > 0) failures.push(`${what}: ${describe(e)} but fired ${keys.size}× (${[...keys].join(", ")})`);
    if (expected !== "never" && keys.size > 1) failures.push(`${what}: fired ${keys.size} times (${[...keys].join(", ")})`);
    if (expected === "once" && keys.size === 0) {
      const due = e.fireAt ?? e.sentAt;
      const daemon = firstAliveAfter(incarnations, due);
      // Killed just after the due time: the firing may have happened with its event-log record still in the
      // log's write buffer (flushed every 20 ms, later under load) and its push still in the daemon's socket queue.
      const killedSoonAfter = daemon?.endedBy === "kill" && daemon.endedAt !== null && daemon.endedAt - due <= KILL_WINDOW_MS;
      // Journaled done by the daemon then killed: it fired late (a loaded daemon), and the kill took its log record.
      const firedThenKilled = e.scheduleId !== undefined && daemon?.journaledDone?.has(e.scheduleId) === true;
      if (daemon?.endedBy === "startup-kill" || killedSoonAfter || firedThenKilled) unverifiable++;
      else failures.push(`${what}: acknowledged, due ${new Date(due).toISOString()}, never fired (no event log record, no push); daemon alive then: pid ${daemon?.pid} (${daemon?.endedBy ?? "running"})`);
    }
    for (const l of logged) {
      if (e.delayed && e.scheduleId !== undefined && l.scheduleId !== e.scheduleId) failures.push(`${what}: logged firing carries schedule_id ${String(l.scheduleId)}`);
      if (!e.delayed && l.scheduleId !== undefined) failures.push(`${what}: immediate emit logged with schedule_id ${l.scheduleId}`);
    }
    if (e.delayed && e.status === "acked" && e.fireAt !== undefined && keys.size === 1) {
      const ts = Date.parse(logged[0]?.ts ?? [...(ledger.pushes.get(e.pid)?.values() ?? [])][0]?.ts ?? "");
      if (Number.isFinite(ts)) {
        if (ts < e.fireAt) failures.push(`${what}: fired at ${new Date(ts).toISOString()}, before its fire_at ${new Date(e.fireAt).toISOString()}`);
        lateness.push(ts - e.fireAt);
      }
    }
  }
  // A keyed emit must replace the pending schedule with the same key (also across restarts).
  const byKey = new Map<string, EmitRecord[]>();
  for (const e of ledger.emits.values()) if (e.key !== undefined) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  for (const [key, group] of byKey) {
    if (group.length < 2) continue;
    const [first, second] = group as [EmitRecord, EmitRecord];
    if (second.status === "acked" && second.replacedId === undefined && first.status === "acked" && first.cancel === "none" && (first.fireAt ?? 0) > second.sentAt + 50) {
      failures.push(`key ${key}: ${second.pid} did not replace ${first.pid} (${first.scheduleId}), still pending until ${new Date(first.fireAt!).toISOString()}`);
    }
  }
  lateness.sort((a, b) => a - b);
  const stats: ScheduleStats = {
    firings,
    unverifiable,
    latenessP50Ms: lateness.length === 0 ? null : lateness[Math.floor(lateness.length / 2)]!,
    latenessMaxMs: lateness.length === 0 ? null : lateness[lateness.length - 1]!,
  };
  const counts = countEmits(ledger);
  const detail =
    `${counts.once} must fire once, ${counts.never} never (cancelled/replaced/rejected), ${counts.atMostOnce} at most once (unknown); ` +
    `${firings} firings in ${log.records.length} event-log records` +
    (unverifiable > 0
      ? `; ${unverifiable} unverifiable (due while a daemon was killed during its start-up, within ${KILL_WINDOW_MS} ms before a kill, or journaled done by a daemon then killed: before its event log was flushed)`
      : "");
  const pushFailures = [...ledger.badPushes];
  if (log.torn > 0) pushFailures.push(`${log.torn} event-log lines do not parse`);
  return {
    results: [
      invariant("every acknowledged schedule fired exactly once (cancelled never, unknown at most once)", ledger.emits.size, detail, failures),
      invariant("subscriber pushes: none twice, none foreign, none dropped", ledger.pushCount, `${ledger.pushCount} pushes, event log ${log.files} file(s)`, pushFailures),
    ],
    stats,
  };
}

function expectedFirings(e: EmitRecord): "once" | "never" | "atMostOnce" {
  if (e.status === "rejected" || e.cancel === "acked" || e.replaced === "acked") return "never";
  if (e.status !== "acked" || e.cancel === "unknown" || e.replaced === "unknown") return "atMostOnce";
  return "once";
}

function describe(e: EmitRecord): string {
  if (e.status === "rejected") return "rejected";
  if (e.cancel === "acked") return "cancel acknowledged";
  return "replaced by a later emit with its key";
}

function countEmits(ledger: Ledger): { once: number; never: number; atMostOnce: number } {
  const counts = { once: 0, never: 0, atMostOnce: 0 };
  for (const e of ledger.emits.values()) counts[expectedFirings(e)]++;
  return counts;
}

// ------------------------------------------------------------------ decisions

export async function checkDecisions(store: string, ledger: Ledger, files: readonly StoreFile[], enabled: boolean): Promise<InvariantResult> {
  const name = "every acknowledged decision record is in its log and in git exactly once, none duplicated";
  if (!enabled) return invariant(name, 0, "composition:track_decision is not available in this daemon: not checked", [], true);
  const failures: string[] = [];
  const logs = files.filter((f) => isDecisionLog(f.path));
  const head = await catFiles(store, logs.map((f) => `HEAD:${f.path}`));
  const ids = new Map<string, number>();
  const byFile = new Map<string, Record<string, unknown>[]>();
  const headByFile = new Map<string, Record<string, unknown>[]>();
  const byToken = new Map<string, number>();
  let records = 0;
  for (const file of logs) {
    const parsed = decisionRecords(file.text);
    byFile.set(file.path, parsed.records);
    records += parsed.records.length;
    for (const r of parsed.records) {
      const id = str(r.id);
      if (id === undefined) failures.push(`${file.path}: a record without id`);
      else ids.set(id, (ids.get(id) ?? 0) + 1);
      const token = /^soak decision (\S+)$/.exec(str(r.decision) ?? "")?.[1];
      if (token !== undefined) byToken.set(token, (byToken.get(token) ?? 0) + 1);
    }
    const committed = head.get(`HEAD:${file.path}`);
    headByFile.set(file.path, typeof committed === "string" ? decisionRecords(committed).records : []);
  }
  for (const [id, count] of ids) if (count > 1) failures.push(`record id ${id} appears ${count} times`);
  const sent = new Map(ledger.decisions.map((d) => [d.token, d]));
  for (const [token, count] of byToken) {
    const d = sent.get(token);
    if (d === undefined) failures.push(`a record "soak decision ${token}" that no request of the soak sent`);
    else if (count > 1) failures.push(`"soak decision ${token}" (${d.status}) is recorded ${count} times`);
  }
  for (const d of ledger.decisions) {
    if (d.status !== "acked") continue;
    const what = `decision ${d.id ?? "(no id)"} on ${d.pattern} (worker ${d.worker})`;
    const file = d.file === undefined ? `orchestrations/${d.pattern}_decisions.yaml` : isAbsolute(d.file) ? relative(store, d.file) : d.file;
    const inFile = (byFile.get(file) ?? []).filter((r) => r.id === d.id);
    const inHead = (headByFile.get(file) ?? []).filter((r) => r.id === d.id);
    if (d.id === undefined) failures.push(`${what}: the reply had no record id`);
    else if (inFile.length !== 1) failures.push(`${what}: ${inFile.length} times in ${file}`);
    else if (inFile[0]!.decision !== `soak decision ${d.token}` || inFile[0]!.pattern !== d.pattern) failures.push(`${what}: the record in ${file} holds ${JSON.stringify(inFile[0]).slice(0, 200)}`);
    if (d.id !== undefined && inHead.length !== 1) failures.push(`${what}: ${inHead.length} times in HEAD:${file}`);
  }
  const acked = ledger.decisions.filter((d) => d.status === "acked").length;
  return invariant(name, acked + records, `${acked} acknowledged, ${ledger.decisions.length - acked} unknown; ${records} records in ${logs.length} logs`, failures);
}

export async function storeFiles(store: string): Promise<StoreFile[]> {
  return yamlFiles(store);
}

/** composition:decisions (after a restart) against the log files: the same total, ids that are in the file, no issues. */
export function checkDecisionQueries(answers: readonly { pattern: string; file: string; reply: unknown }[], files: readonly StoreFile[], enabled: boolean): InvariantResult {
  const name = "composition:decisions agrees with the log files";
  if (!enabled) return invariant(name, 0, "composition:decisions is not available: not checked", [], true);
  const failures: string[] = [];
  let records = 0;
  for (const { pattern, file, reply } of answers) {
    const text = files.find((f) => f.path === file)?.text ?? "";
    const ids = new Set(decisionRecords(text).records.map((r) => str(r.id)));
    records += ids.size;
    const data = isRecord(reply) ? reply : {};
    const stats = isRecord(data.stats) ? data.stats : {};
    const returned = Array.isArray(data.decisions) ? data.decisions.filter(isRecord) : [];
    if (data.issues !== undefined) failures.push(`${pattern}: issues ${JSON.stringify(data.issues).slice(0, 300)}`);
    if (stats.total !== ids.size) failures.push(`${pattern}: stats.total ${String(stats.total)}, the file has ${ids.size} records`);
    const foreign = returned.filter((r) => !ids.has(str(r.id)));
    if (foreign.length > 0) failures.push(`${pattern}: ${foreign.length} returned records are not in ${file}, e.g. ${String(foreign[0]!.id)}`);
    if (returned.length !== Math.min(ids.size, 1000)) failures.push(`${pattern}: ${returned.length} records returned with limit 1000, the file has ${ids.size}`);
  }
  return invariant(name, records, `${answers.length} logs, ${records} records`, failures);
}
