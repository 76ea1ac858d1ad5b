/**
 * `pat remote` and `pat sync` (issue 19): the git remotes the store syncs
 * with, and a sync (pull, merge, push) with one of them.
 */
import { unknownOption, UsageError } from "../args.js";
import { EXIT, type Cli } from "../context.js";
import { table } from "../table.js";
import type { Command } from "./command.js";

interface Remotes {
  action: string;
  remotes: { name: string; url: string }[];
}

interface SyncReply {
  remote: string;
  dry_run: boolean;
  applied: boolean;
  fast_forward: boolean;
  pulled: string[];
  merged: { file: string; name?: string; version?: string; records_added?: number }[];
  pushed: string[];
  pushed_branch: boolean;
  renamed_tags: { from: string; to: string }[];
  imported_tags: number;
  conflicts: { file: string; path: string; base: unknown; ours: unknown; theirs: unknown }[];
  head: string | null;
}

export const SYNC_COMMANDS: Readonly<Record<string, Command>> = {
  remote: {
    usage: "pat remote [list] | pat remote add NAME URL | pat remote remove NAME",
    summary: "the git remotes the store syncs with (kept in the store's git config)",
    details: ["URL is a path, file://, ssh://host/path, user@host:path or https://host/path; ext:: and fd:: urls are refused."],
    examples: ["pat remote add origin /srv/patterns.git", "pat remote add team git@example.org:team/patterns.git", "pat remote", "pat remote remove origin"],
    run: remote,
  },
  sync: {
    usage: "pat sync [REMOTE] [--pull | --push] [--dry-run]",
    summary: "sync the store with a git remote (default origin): fetch, merge what both sides changed, push; exit 1 when conflicts leave it unsynced",
    flags: ["pull", "push", "dry-run"],
    options: [
      ["--pull", "only take in what the remote has"],
      ["--push", "only push (refused when the remote has what this store lacks)"],
      ["--dry-run", "fetch and say what would happen; nothing else changes"],
    ],
    details: [
      "A pattern both sides changed is merged field by field; a conflict leaves the store as it was and is listed (path, base, ours, theirs):",
      "settle it with pat send composition:sync remote=origin 'resolve={\"PATTERN\": {\"PATH\": VALUE}}' and sync again.",
    ],
    examples: ["pat sync", "pat sync team --dry-run", "pat sync origin --pull"],
    run: sync,
  },
};

async function remote(cli: Cli): Promise<number> {
  for (const { key } of cli.argv.pairs) throw unknownOption(key, []);
  const [action = "list", name, url, extra] = cli.argv.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  if (!["add", "remove", "list"].includes(action)) throw new UsageError(`pat remote ${action}: the actions are add NAME URL, remove NAME and list`);
  if (action === "add" && (name === undefined || url === undefined)) throw new UsageError("pat remote add needs a name and a url, e.g. pat remote add origin /srv/patterns.git");
  if (action === "remove" && name === undefined) throw new UsageError("pat remote remove needs a name, e.g. pat remote remove origin");
  const data: Record<string, unknown> = { action, ...(name === undefined ? {} : { name }), ...(url === undefined ? {} : { url }) };
  const client = await cli.connect();
  try {
    const reply = await client.request<Remotes>("composition:remote", data);
    cli.print(reply, (d: Remotes) =>
      d.remotes.length === 0 ? "no remotes (pat remote add NAME URL adds one)" : table(["NAME", "URL"], d.remotes.map((r) => [r.name, r.url]), cli.layout),
    );
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

async function sync(cli: Cli): Promise<number> {
  const flags = new Set<string>();
  for (const { key, value } of cli.argv.pairs) {
    if (!["pull", "push", "dry-run"].includes(key)) throw unknownOption(key, ["pull", "push", "dry-run"]);
    if (value !== true && value !== "true" && value !== "false") throw new UsageError(`--${key} takes no value (got ${value})`);
    if (value !== "false") flags.add(key);
  }
  if (flags.has("pull") && flags.has("push")) throw new UsageError("give --pull or --push, not both (neither: both ways)");
  const [name = "origin", extra] = cli.argv.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
  const direction = flags.has("pull") ? "pull" : flags.has("push") ? "push" : "both";
  const client = await cli.connect();
  try {
    const reply = await client.request<SyncReply>("composition:sync", { remote: name, direction, dry_run: flags.has("dry-run") });
    cli.print(reply, render);
    return reply.conflicts.length > 0 ? EXIT.remote : EXIT.ok;
  } finally {
    await client.close();
  }
}

function render(d: SyncReply): string {
  const out: string[] = [];
  const would = d.dry_run ? "would " : "";
  if (d.conflicts.length > 0) {
    out.push(`${d.conflicts.length} conflict(s) with ${d.remote}: nothing was changed or pushed`);
    for (const c of d.conflicts) out.push(`  ${c.file}${c.path === "" ? "" : `  ${c.path}`}: ours ${JSON.stringify(c.ours)}, theirs ${JSON.stringify(c.theirs)}, base ${JSON.stringify(c.base)}`);
    out.push('settle each with resolve: {"PATTERN": {"PATH": VALUE}} (pat send composition:sync ...), then sync again');
    return out.join("\n");
  }
  for (const file of d.pulled) out.push(`${would}take   ${file}`);
  for (const m of d.merged) out.push(`${would}merge  ${m.file}${m.version === undefined ? "" : ` -> ${m.name}@${m.version}`}${m.records_added === undefined ? "" : ` (+${m.records_added} records)`}`);
  for (const r of d.renamed_tags) out.push(`${would}rename ${r.from} -> ${r.to} (the remote made ${r.from} with other content)`);
  if (d.pushed_branch || d.pushed.length > 0) out.push(`${would}push   ${d.pushed_branch ? "the branch" : ""}${d.pushed_branch && d.pushed.length > 0 ? " and " : ""}${d.pushed.length > 0 ? `${d.pushed.length} tag(s)` : ""}`);
  if (out.length === 0) out.push(`in sync with ${d.remote}`);
  else if (!d.dry_run) out.push(`head ${d.head?.slice(0, 12) ?? "-"}${d.fast_forward ? " (fast-forward)" : ""}`);
  return out.join("\n");
}
