/**
 * The store's changes, for MCP hosts that keep the resource and prompt
 * lists or have a pattern attached: the bridge keeps one subscription to
 * composition:changed on the daemon (taken again after every reconnect) and
 * reports which patterns changed, a burst (a sync, a merge) coalesced into
 * one report.
 */
import { basename, extname } from "node:path";
import type { Client, Subscription } from "../client.js";
import type { DaemonLink } from "./daemon-link.js";

export interface StoreChange {
  /** The patterns changed, by name. */
  names: ReadonlySet<string>;
  /** Anything may have changed: the connection to the daemon was lost meanwhile. */
  everything: boolean;
}

export type StoreChangeListener = (change: StoreChange) => void;

/** Changes that come within this of the first are reported together. */
const COALESCE_MS = 50;

export class StoreWatch {
  private readonly listeners = new Set<StoreChangeListener>();
  private names = new Set<string>();
  private everything = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(link: DaemonLink) {
    link.onConnect((client, reconnected) => this.subscribe(client, reconnected));
  }

  /** Calls `listener` with each change from now on; returns what stops it. */
  listen(listener: StoreChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `everything`: what changed before this subscription is not known (a reconnect, a dropped subscription). */
  private async subscribe(client: Client, everything: boolean): Promise<void> {
    const subscription = await client.subscribe(["composition:changed"]);
    if (everything) this.note([], true);
    void this.follow(client, subscription);
  }

  private async follow(client: Client, subscription: Subscription): Promise<void> {
    for await (const push of subscription) {
      if (push.event === "composition:changed") this.note(namesOf(push.data), false);
    }
    // Ended with the connection still up: the daemon dropped the subscription (the bridge fell behind). Take it again.
    if (!client.isClosed) await this.subscribe(client, true).catch(() => undefined);
  }

  private note(names: readonly string[], everything: boolean): void {
    for (const name of names) this.names.add(name);
    this.everything ||= everything;
    this.timer ??= setTimeout(() => this.report(), COALESCE_MS).unref();
  }

  private report(): void {
    const change: StoreChange = { names: this.names, everything: this.everything };
    this.names = new Set();
    this.everything = false;
    this.timer = undefined;
    for (const listener of this.listeners) listener(change);
  }
}

/** A change names its pattern; a sync names the files it wrote, each a pattern's file name (or a decision log's: harmless). */
export function namesOf(data: unknown): string[] {
  const { name, files } = (data ?? {}) as { name?: unknown; files?: unknown };
  if (typeof name === "string") return [name];
  if (!Array.isArray(files)) return [];
  return files.filter((file): file is string => typeof file === "string").map((file) => basename(file, extname(file)));
}
