/**
 * The MCP tools: a curated set over the daemon's most used events, plus
 * patternd_call/patternd_help that reach every event (those of connected
 * handlers too). A curated tool's input schema and its read/write effect
 * come from the daemon's own system:discover; what a tool adds here is only
 * what MCP needs and the daemon does not say: when to use it and what it
 * returns. Order is the order of this list.
 */
import type { EventInfo } from "./daemon-link.js";

export type Effect = EventInfo["effect"];

export interface CuratedTool {
  /** The daemon event it calls; the tool is named after it, `:` → `_`. */
  readonly event: string;
  readonly title: string;
  /** When to use it and what comes back, after the daemon's own summary. */
  readonly guide: string;
}

export const CURATED: readonly CuratedTool[] = [
  {
    event: "composition:select",
    title: "Pick a pattern for a task",
    guide:
      "Use first when you have a task and need an orchestration pattern. Returns selected (the best name, or null with an explanation), " +
      "and candidates [{name, version, score, breakdown {relevance, evidence, requirements}, reasons}].",
  },
  {
    event: "composition:discover",
    title: "Find patterns",
    guide:
      "Use to browse or filter the store by type, tags, words or metadata (select ranks for a task; this filters). " +
      "Returns compositions [{name, type, version, ...fields}], total, and paging (limit/offset).",
  },
  {
    event: "composition:get",
    title: "Read a pattern",
    guide:
      "Use to read one pattern (name, or name@version for a tagged version). With variables (or strict) it is composed instead: extends, mixins and " +
      "{{variables}} resolved into one document, unresolved placeholders listed. Returns {name, version, composition | yaml, commit}.",
  },
  {
    event: "composition:fork",
    title: "Fork a pattern",
    guide:
      "Use to adapt a pattern without touching the original: a new pattern with recorded lineage, optionally modified by dotted paths. " +
      "Returns {name, version, parent, commit, new_paths}.",
  },
  {
    event: "composition:update",
    title: "Change values of a pattern",
    guide: "Use to change a few values by dotted path (set/unset); everything else in the file stays. Returns {name, version, commit, new_paths}.",
  },
  {
    event: "composition:save",
    title: "Create or replace a pattern",
    guide: "Use to create a new pattern or replace a whole document (to change some values, use composition_update). Returns {name, version, commit}.",
  },
  {
    event: "composition:merge",
    title: "Merge a fork back",
    guide:
      "Use after a fork proved better, to bring its changes into its parent with a 3-way merge; run with dry_run: true first (nothing is written). " +
      "Returns {name, version, from, base, changes, conflicts [{path, base, ours, theirs}], commit} (dry_run: the merged composition instead of a commit); " +
      "settle conflicts with resolve or strategy.",
  },
  {
    event: "composition:diff",
    title: "Compare two versions",
    guide: "Use to see what changed between two refs (name or name@version). Returns changes [{path, kind, before, after}], or a unified diff.",
  },
  {
    event: "composition:lineage",
    title: "Show a pattern's family",
    guide: "Use to see where a pattern came from and what was forked from it. Returns ancestors and descendants (JSON), or a tree/Mermaid/DOT text.",
  },
  {
    event: "composition:track_decision",
    title: "Record a decision and its outcome",
    guide:
      "Use after running a pattern, to record what you decided and how it went (outcome success/failure, confidence 0..1): select ranks patterns by " +
      "this evidence. Returns {tracked: record, warnings?}.",
  },
  {
    event: "composition:decisions",
    title: "Read a pattern's decision log",
    guide: "Use to learn from earlier runs of a pattern. Returns decisions (newest first) and stats {by_decision, by_outcome, mean_confidence, last_seen}.",
  },
  {
    event: "event:emit",
    title: "Emit an event",
    guide:
      "Use to send an event now, after a delay, at a time, or only if a JSON Logic condition holds then (e.g. a timeout unless the run is done). " +
      "Returns the target's result now, or {schedule_id, fire_at} for a delayed emit (durable, cancellable with event_cancel).",
  },
  {
    event: "event:cancel",
    title: "Cancel a delayed emit",
    guide: "Use to cancel a pending delayed emit by schedule_id or key. Returns {cancelled}.",
  },
  {
    event: "state:get",
    title: "Read a state key",
    guide: "Use to read shared run state (dotted keys). Returns {key, value, version}; a missing key is not_found.",
  },
  {
    event: "state:set",
    title: "Write a state key",
    guide: "Use to record shared run state; with expect, only if the key still holds what you read (compare-and-set). Returns {key, value, version}.",
  },
];

/** Never callable through MCP, even with patternd_call: they stop the daemon or remove what cannot be restored. */
export const NEVER_EXPOSED: ReadonlySet<string> = new Set(["system:shutdown", "composition:delete", "state:delete"]);

export function toolName(event: string): string {
  return event.replace(/:/g, "_");
}

/** MCP's hints from an event's effect: a host may auto-approve read-only tools and confirm destructive ones. */
export function annotationsFor(effect: Effect): { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint?: boolean; openWorldHint: boolean } {
  return { readOnlyHint: effect === "read", destructiveHint: effect === "destroy", openWorldHint: false };
}

/**
 * composition_get's input: get's parameters with compose's variables and
 * strict beside them (both from the daemon's schemas).
 */
export function composeGetSchema(get: Record<string, unknown>, compose: Record<string, unknown>): Record<string, unknown> {
  const getProps = (get.properties ?? {}) as Record<string, unknown>;
  const composeProps = (compose.properties ?? {}) as Record<string, Record<string, unknown>>;
  const extra: Record<string, unknown> = {};
  for (const key of ["variables", "strict"]) {
    const property = composeProps[key];
    if (property !== undefined) {
      const said = key === "variables" ? "values for the pattern's {{variables}}" : typeof property.description === "string" ? property.description : key;
      extra[key] = { ...property, description: `${said}; given, the pattern is composed (extends and mixins resolved)` };
    }
  }
  return { ...get, properties: { ...getProps, ...extra } };
}
