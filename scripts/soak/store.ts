/**
 * Reading the daemon's files after a run, the way a person would: plain
 * git (no user config, no ambient GIT_*), the YAML files of the store, and
 * the event log's JSON lines.
 */
import { execFile, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseDocument } from "yaml";
import { isRecord } from "./ledger.js";

const GIT_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function gitRun(store: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile("git", ["-C", store, ...args], { env: GIT_ENV, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      if (typeof err.code === "number") return resolve({ code: err.code, stdout, stderr });
      reject(new Error(`git ${args.join(" ")} could not run: ${err.message}`));
    });
  });
}

export async function git(store: string, ...args: string[]): Promise<string> {
  const result = await gitRun(store, args);
  if (result.code !== 0) throw new Error(`git ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** Many `<rev>:<path>` blobs through one `git cat-file --batch`; null for those that do not exist. */
export function catFiles(store: string, specs: readonly string[]): Promise<Map<string, string | null>> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", store, "cat-file", "--batch"], { env: GIT_ENV, stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited ${code}: ${stderr.trim()}`));
      const out = Buffer.concat(chunks);
      const found = new Map<string, string | null>();
      let at = 0;
      for (const spec of specs) {
        const nl = out.indexOf(0x0a, at);
        if (nl === -1) return reject(new Error(`git cat-file --batch: output ended before ${spec}`));
        const header = out.toString("utf8", at, nl);
        at = nl + 1;
        const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
        if (match === null) {
          found.set(spec, null); // "<spec> missing" (or ambiguous)
          continue;
        }
        const size = Number(match[2]);
        found.set(spec, match[1] === "blob" ? out.toString("utf8", at, at + size) : null);
        at += size + 1;
      }
      resolve(found);
    });
    child.stdin.end(specs.map((s) => `${s}\n`).join(""));
  });
}

export interface StoreFile {
  /** Store-relative path. */
  path: string;
  text: string;
}

/** Every *.yaml in the store's working tree (not under .git). */
export async function yamlFiles(store: string): Promise<StoreFile[]> {
  const out: StoreFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === ".git") continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.endsWith(".yaml")) out.push({ path: relative(store, full), text: await readFile(full, "utf8") });
    }
  };
  await walk(store);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** Strict YAML parse: duplicate keys and any other error refuse the file. */
export function parseYaml(text: string): Parsed {
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) return { ok: false, error: doc.errors.map((e) => e.message).join("; ") };
    return { ok: true, value: doc.toJS({ maxAliasCount: 1000 }) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function isDecisionLog(path: string): boolean {
  return path.endsWith("_decisions.yaml");
}

/** Records of a decision log's text (a YAML sequence of maps). */
export function decisionRecords(text: string): { records: Record<string, unknown>[]; error?: string } {
  const parsed = parseYaml(text);
  if (!parsed.ok) return { records: [], error: parsed.error };
  if (parsed.value === null || parsed.value === undefined) return { records: [] };
  if (!Array.isArray(parsed.value)) return { records: [], error: "not a YAML sequence" };
  const records = parsed.value.filter(isRecord);
  if (records.length !== parsed.value.length) return { records, error: `${parsed.value.length - records.length} items are not maps` };
  return { records };
}

export interface LogRecord {
  ts: string;
  seq: number;
  event: string;
  ok: boolean;
  schedule_id?: string;
  data: unknown;
}

/** Every record of the event log (var/log/events/*.ndjson); torn lines are counted, not parsed. */
export async function eventLog(home: string): Promise<{ records: LogRecord[]; torn: number; files: number }> {
  const dir = join(home, "var", "log", "events");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".ndjson")).sort();
  const records: LogRecord[] = [];
  let torn = 0;
  for (const name of names) {
    for (const line of (await readFile(join(dir, name), "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      try {
        const value: unknown = JSON.parse(line);
        if (isRecord(value) && typeof value.event === "string") records.push(value as unknown as LogRecord);
        else torn++;
      } catch {
        torn++;
      }
    }
  }
  return { records, torn, files: names.length };
}

/** Messages of daemon.log at warn (40) and error (50) level and above, counted. */
export async function daemonLogProblems(home: string): Promise<{ errors: Record<string, number>; warnings: Record<string, number> }> {
  const errors: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  const text = await readFile(join(home, "var", "log", "daemon.log"), "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (!line.includes('"level":4') && !line.includes('"level":5') && !line.includes('"level":6')) continue;
    try {
      const record: unknown = JSON.parse(line);
      if (!isRecord(record) || typeof record.level !== "number") continue;
      const msg = typeof record.msg === "string" ? record.msg : "(no msg)";
      const err = isRecord(record.err) && typeof record.err.message === "string" ? `: ${record.err.message.split("\n")[0]!.slice(0, 160)}` : "";
      const counts = record.level >= 50 ? errors : record.level >= 40 ? warnings : null;
      if (counts !== null) counts[`${msg}${err}`] = (counts[`${msg}${err}`] ?? 0) + 1;
    } catch {
      // a torn last line
    }
  }
  return { errors, warnings };
}
