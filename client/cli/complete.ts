/**
 * `pat __complete WORDS...` (hidden; the shell scripts call it): prints
 * the candidates for the last word, one per line. Names the daemon knows
 * (events, patterns, an event's parameters) come from the running daemon
 * of the home the words point at; when none answers, quickly, there are
 * simply none. Never an error: a completion that fails shows nothing.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { resolveConfig } from "../../daemon/config.js";
import { Client } from "../client.js";
import { listPages } from "../list-pages.js";
import { COMMANDS } from "./commands.js";
import { candidates, planCompletion, type DaemonLists, type Plan } from "./completion.js";

/** A completion waits this long for each answer at most: a hung daemon must not hang the shell. */
const DAEMON_WAIT_MS = 1_500;

export async function printCompletions(words: readonly string[]): Promise<number> {
  const plan = planCompletion(words, COMMANDS);
  const lists = await askDaemon(plan).catch((): DaemonLists => ({}));
  const found = candidates(plan, Object.keys(COMMANDS), lists);
  process.stdout.write(found.map((word) => `${word}\n`).join(""));
  return 0;
}

/** Every pattern's name, in pages of the most composition:list gives. */
async function patternNames(client: Client): Promise<string[]> {
  const names: string[] = [];
  for await (const page of listPages<{ name: string }>(client, { fields: ["name"], limit: 5_000 })) for (const entry of page.compositions) names.push(entry.name);
  return names;
}

async function askDaemon(plan: Plan): Promise<DaemonLists> {
  const kinds = new Set(plan.sources.map((source) => source.kind));
  const params = plan.sources.find((source) => source.kind === "params" || source.kind === "param-values");
  if (!kinds.has("events") && !kinds.has("namespaces") && !kinds.has("patterns") && params === undefined) return {};
  // The shell has not expanded ~ in words still being typed.
  const expand = (path: string | undefined) => (path?.startsWith("~/") === true ? homedir() + path.slice(1) : path);
  const config = resolveConfig({ home: expand(plan.home), socket: expand(plan.socket) }, process.env, process.cwd(), existsSync);
  // Connecting to a Unix socket never waits (no listener: ENOENT / ECONNREFUSED at once); each request is bounded.
  const client = await Client.connect({ socketPath: config.socketPath, timeoutMs: DAEMON_WAIT_MS });
  try {
    const [events, patterns, help] = await Promise.all([
      kinds.has("events") || kinds.has("namespaces")
        ? client.request<{ events: Record<string, { event: string }[]> }>("system:discover").then((d) => Object.values(d.events).flatMap((list) => list.map((e) => e.event)))
        : undefined,
      kinds.has("patterns") ? patternNames(client) : undefined,
      params !== undefined && "event" in params ? client.request<{ params?: unknown }>("system:help", { event: params.event }).catch(() => undefined) : undefined,
    ]);
    return { events, patterns, params: help?.params };
  } finally {
    void client.close();
  }
}
