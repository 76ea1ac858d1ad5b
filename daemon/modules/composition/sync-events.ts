/**
 * composition:remote / sync (issue 19): the store's patterns through git
 * remotes, thin handlers over StoreSync. Remotes are kept in the store's
 * own git config (`git remote -v` shows them).
 */
import { z } from "zod";
import { defineEvent, type EventDef } from "../../core/event.js";
import type { StoreSync, SyncReply } from "./store/store-sync.js";

/** A remote's name: a git config subsection and a ref folder, nothing more. */
export const remoteNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a remote name is letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit), like origin or team.share")
  .refine((name) => !name.endsWith(".lock") && !name.includes(".."), "a remote name may not end in .lock or hold '..'");

/**
 * A url git reaches without running anything of the url's choosing: a
 * local path, file://, ssh://, git://, http(s)://, or scp-like
 * user@host:path. ext:: and fd:: (git runs a command for them) and
 * anything starting with '-' (an option to git) are refused.
 */
export const remoteUrlSchema = z
  .string()
  .min(1)
  .max(2000)
  .refine((url) => !/[\0\n\r]/.test(url) && !url.startsWith("-") && !/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url), {
    message: "a remote url is a path (/srv/patterns.git), file://, ssh://host/path, user@host:path or https://host/path; ext::, fd:: and a leading '-' are refused (they run commands)",
  })
  .refine((url) => /^(\/|\.{0,2}\/|~|file:\/\/|ssh:\/\/|git:\/\/|https?:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:|[A-Za-z0-9._-]+:(?!\/\/))/.test(url), {
    message: "a remote url is a path (/srv/patterns.git), file://, ssh://host/path, user@host:path or https://host/path",
  });

const conflict = z.object({
  file: z.string().describe("the file in the store (refs/tags/NAME for a tag that cannot be renamed)"),
  path: z.string().describe('the field in it, as merge_conflict names it ("" for the whole file; name.label in labels.yaml)'),
  base: z.unknown(),
  ours: z.unknown(),
  theirs: z.unknown(),
});

const syncResult = z.object({
  remote: z.string(),
  direction: z.enum(["pull", "push", "both"]),
  dry_run: z.boolean(),
  applied: z.boolean().describe("true when the store took what the remote had"),
  fast_forward: z.boolean().describe("only the remote had moved: the branch now is the remote's, no merge commit"),
  pulled: z.array(z.string()).describe("files taken whole from the remote (only it changed them)"),
  merged: z.array(z.object({ file: z.string(), name: z.string().optional(), version: z.string().optional(), records_added: z.number().optional() })),
  pushed: z.array(z.string()).describe("version tags pushed"),
  pushed_branch: z.boolean(),
  renamed_tags: z.array(z.object({ from: z.string(), to: z.string() })).describe("local versions renumbered because the remote made the same version with other content"),
  imported_tags: z.number().describe("the remote's version tags made here"),
  conflicts: z.array(conflict).describe("when not empty nothing was written or pushed: settle them with resolve, then sync again"),
  head: z.string().nullable(),
});

const remoteResult = z.object({
  action: z.enum(["add", "remove", "list"]),
  remotes: z.array(z.object({ name: z.string(), url: z.string() })),
});

/** `changed(reply)`: a sync that took something in is published as composition:changed. */
export function syncEvents(sync: StoreSync, changed: (reply: SyncReply, agentId: string | undefined) => void): EventDef[] {
  const remote = defineEvent({
    name: "composition:remote",
    summary: "Add, remove or list the git remotes the store syncs with (kept in the store's git config)",
    description:
      "add: name and url (a path, file://, ssh://, user@host:path or https://; ext:: and fd:: are refused), which re-points a remote of that name; " +
      "remove: name (what was fetched from it goes too); list. The reply lists the remotes after the change.",
    params: z
      .strictObject({ action: z.enum(["add", "remove", "list"]).default("list"), name: remoteNameSchema.optional(), url: remoteUrlSchema.optional() })
      .superRefine((d, ctx) => {
        if (d.action !== "list" && d.name === undefined) ctx.addIssue({ code: "custom", path: ["name"], message: `${d.action} needs a name, like {action: "${d.action}", name: "origin"${d.action === "add" ? ', url: "/srv/patterns.git"' : ""}}` });
        if (d.action === "add" && d.url === undefined) ctx.addIssue({ code: "custom", path: ["url"], message: 'add needs a url, like {action: "add", name: "origin", url: "/srv/patterns.git"}' });
        if (d.action !== "add" && d.url !== undefined) ctx.addIssue({ code: "custom", path: ["url"], message: `url is only for add, not ${d.action}` });
      }),
    result: remoteResult,
    example: { action: "add", name: "origin", url: "/srv/patterns.git" },
    handler: async (data) => {
      if (data.action === "add") await sync.addRemote(data.name!, data.url!);
      if (data.action === "remove") await sync.removeRemote(data.name!);
      const remotes = [...(await sync.remotes())].map(([name, url]) => ({ name, url }));
      return { action: data.action, remotes };
    },
  });

  const syncEvent = defineEvent({
    name: "composition:sync",
    summary: "Sync the store's patterns with a git remote: fetch, merge every pattern changed on both sides with patternd's own merge, push",
    description:
      "pull: one merge commit (Op: sync, Remote:) or a fast-forward; a pattern changed on both sides is 3-way merged (as composition:merge) and gets the next free version above both; " +
      "decision logs merge as a union of records by id; labels by pattern and label. Same tag with the same file content is the same version; a local, unpublished version the remote made too " +
      "with other content is renumbered to the next free patch (renamed_tags, and a Renamed-Tag trailer); a pushed tag is never moved. " +
      "Conflicts (path, base, ours, theirs, as merge_conflict) leave the store exactly as it was and push nothing: settle them with resolve: {pattern: {\"conflict.path\": value}} and sync again. " +
      "push: the branch and the version tags the remote lacks, never forced; refused because the remote moved, it pulls again and retries (direction both). " +
      "dry_run: fetches (into patternd's own refs only) and says what would happen. An unreachable remote is unavailable; local work is never blocked.",
    params: z.strictObject({
      remote: remoteNameSchema,
      direction: z.enum(["pull", "push", "both"]).default("both"),
      dry_run: z.boolean().default(false),
      resolve: z
        .record(z.string().min(1).max(200), z.record(z.string().min(1).max(500), z.unknown()))
        .optional()
        .describe("pattern name → {conflict path (as conflicts lists it) → the value to keep there; null leaves it out}"),
    }),
    result: syncResult,
    example: { remote: "origin" },
    handler: async (data, call) => {
      const reply = await sync.sync(data, call.agentId);
      if (reply.applied) changed(reply, call.agentId);
      return reply;
    },
  });

  return [remote, syncEvent] as EventDef[];
}
