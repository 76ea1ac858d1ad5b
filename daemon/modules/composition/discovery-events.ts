/**
 * composition:discover / select / track_decision / decisions: how agents
 * find a pattern and record what they learned with it. Thin handlers: the
 * thinking is in model/discover.ts, model/select.ts and model/decisions.ts,
 * the files in store/decision-log.ts.
 */
import { z } from "zod";
import { MAX_DOCUMENT_BYTES, readData } from "./model/document.js";
import { lintPattern } from "./model/pattern-lint.js";
import { decisionsResult, discoverResult, lintResult, selectResult, trackDecisionResult } from "./results.js";
import type { Clock } from "../../core/clock.js";
import { DaemonError } from "../../core/errors.js";
import { defineEvent, type EventDef } from "../../core/event.js";
import { decisionsQuerySchema, formatRecord, makeRecord, outcomeWarning, trackDecisionSchema } from "./model/decisions.js";
import { discoverQuerySchema } from "./model/discover.js";
import { checkTypeAsked } from "./model/schema.js";
import { exploreTrials } from "./model/select-trial.js";
import { DecisionLogs } from "./store/decision-log.js";
import type { Finder } from "./store/finder.js";
import type { PatternStore } from "./store/pattern-store.js";
import type { Selector } from "./store/selector.js";
import type { StoreLabels } from "./store/store-labels.js";

export interface DiscoveryDeps {
  finder: Finder;
  store: PatternStore;
  selector: Selector;
  decisions: DecisionLogs;
  /** The labels: explore reads the split ones. */
  labels: StoreLabels;
  clock: Clock;
  /** The types patterns have: a type asked for that is close to one of them but has none is a typo (checkTypeAsked). */
  types: () => ReadonlySet<string>;
}

export function discoveryEvents(deps: DiscoveryDeps): EventDef[] {
  const { finder, store, selector, decisions, labels, clock, types } = deps;
  let sequence = 0;

  const discoverEvent = defineEvent({
    name: "composition:discover",
    effect: "read",
    summary: "Find patterns by type, tags, words, metadata filters or a JSON Logic rule; projected, sorted, paged",
    description:
      "metadata_filter: {dotted.path: value} (equality, or membership for a list field; a list value needs all its items) or " +
      "{dotted.path: {op: value}} with ops > >= < <= == != in contains exists; paths are looked up under metadata, then at the top level. " +
      "where: a JSON Logic rule over the whole document. fields: dotted paths to return; sort: a dotted path, - for descending. " +
      "An entry whose file differs from HEAD (an edit not committed yet) also has dirty: true.",
    params: discoverQuerySchema,
    result: discoverResult,
    example: { type: "orchestration", metadata_filter: { tags: ["tournament"], "performance.avg_score": { ">": 0.7 } } },
    handler: async (data) => {
      checkTypeAsked(data.type, types());
      const result = finder.discover(data);
      const dirty = await store.dirtyCheck();
      for (const found of result.compositions) {
        const entry = store.catalog.get(String(found.name));
        if (entry !== undefined && dirty(entry)) found.dirty = true;
      }
      return result;
    },
  });

  const select = defineEvent({
    name: "composition:select",
    effect: "read",
    summary: "Rank patterns for a task: text relevance, requirements, and evidence from performance and decision logs",
    description:
      "Each candidate has a numeric breakdown (relevance + evidence + similar_tasks + requirements = score) and reasons. " +
      "The task is also searched by the everyday phrases it uses (\"knock-out rounds\" ≈ tournament; reasons say which meaning matched), " +
      "and similar_tasks weighs how the pattern went on past tasks like it (track_decision's task, or context.task, with an outcome). " +
      "A candidate that misses a requirement ranks below every one that meets them all; selected is null, with an explanation, when nothing fits. " +
      "explore: true takes part in trials: a candidate whose version is an arm of a split label says so in its reasons (under trial: …), and when it is the best, " +
      "selected is the arm the key picks (the same key, the same arm), perhaps another pattern or version, with trial: {label, arm, name, version, key, split}. Without explore, no trial changes the answer.",
    params: z.strictObject({
      task: z.string().trim().min(1, "say what the task is").max(2_000),
      requirements: z.record(z.string().min(1).max(100), z.json()).optional().describe("e.g. {timeout_handling: true, max_participants: 20}"),
      type: z.string().min(1).max(32).default("orchestration"),
      limit: z.number().int().min(1).max(50).default(5),
      explore: z.boolean().optional().describe("take part in trials: when the best candidate is an arm of a split label, select the arm key picks (see trial)"),
      key: z.string().min(1).max(256).optional().describe("with explore: the caller's key (the run id) that picks a trial's arm, as composition:resolve does; default the agent id"),
    }).refine((d) => d.key === undefined || d.explore === true, { message: "key picks a trial's arm, so it goes with explore: true", path: ["key"] }),
    result: selectResult,
    example: { task: "Evaluate 15 prompts competitively", requirements: { timeout_handling: true } },
    handler: async (data, call) => {
      checkTypeAsked(data.type, types());
      const result = await selector.select(data);
      if (data.explore !== true) return result;
      const key = data.key ?? call.agentId;
      if (key === undefined) {
        throw new DaemonError("invalid_params", "explore picks a trial's arm by the caller's key: give key (the run id), or say who you are (agent_id)", {
          issues: [{ path: "key", message: "required with explore when the connection has no agent id" }],
        });
      }
      return exploreTrials(result, labels.list(), key);
    },
  });

  const track = defineEvent({
    name: "composition:track_decision",
    summary: "Append a decision (and how it went) to a pattern's decision log; on disk before the reply",
    description:
      "The record goes to <pattern>_decisions.yaml beside the pattern: id, then KSI's keys pattern, decision, context, outcome, confidence, agent_id, timestamp, then pattern_version " +
        "(version, when given: the version the run used, a trial arm composition:resolve picked; else the current one; a version there is not is not_found). " +
      "Logs are committed to git in batches (Op: decisions), at most about a second behind. " +
      "warnings: [{path, message}] when the outcome has no word select reads (a typo like sucess): it is recorded as given, and counts as no evidence.",
    params: trackDecisionSchema,
    result: trackDecisionResult,
    example: { pattern: "tournament", decision: "use 3 judges per match", outcome: "success", confidence: 0.8, context: { entrants: 12 } },
    handler: async (data, call) => {
      const entry = store.require(data.pattern);
      // A trial's run may have used another version than the current one: the one named must be one there is (its tag).
      if (data.version !== undefined && data.version !== entry.version) await store.read({ name: entry.name, version: data.version });
      const record = makeRecord(data, { now: clock.now(), sequence: sequence++, agentId: call.agentId, patternVersion: data.version ?? entry.version });
      const file = DecisionLogs.pathFor(entry.path);
      await decisions.append(file, formatRecord(record), entry.name, 1, call.agentId);
      const warning = outcomeWarning(data.outcome);
      return warning === undefined ? { tracked: record, file } : { tracked: record, file, warnings: [warning] };
    },
  });

  const query = defineEvent({
    name: "composition:decisions",
    effect: "read",
    summary: "A pattern's decision log, filtered, newest first, with stats (counts by decision and outcome, mean confidence, last seen)",
    params: decisionsQuerySchema,
    result: decisionsResult,
    example: { pattern: "tournament", outcome: "failure", limit: 20 },
    handler: async (data) => {
      const entry = store.require(data.pattern);
      const file = DecisionLogs.pathFor(entry.path);
      const { decisions: found, stats, issues } = await decisions.query(file, { decision: data.decision, outcome: data.outcome, since: data.since, limit: data.limit });
      return { pattern: entry.name, file, decisions: found, stats, ...(issues.length === 0 ? {} : { issues }) };
    },
  });

  const lint = defineEvent({
    name: "composition:lint",
    effect: "read",
    summary: "Check a pattern file's text before it reaches a store: what makes it invalid, and what it lacks to be found by select",
    description:
      "findings: [{path, message}], empty when there is nothing to say: the issues that make it invalid (as composition:validate gives them, without looking at the store), " +
      "and for an orchestration pattern or a mixin without metadata.example_tasks (how people ask for it in their own words, which select searches), a finding saying so. pat lint sends each file here.",
    params: z.strictObject({ yaml: z.string().max(MAX_DOCUMENT_BYTES).describe("the pattern file's text") }),
    result: lintResult,
    example: { yaml: "name: knockout\ntype: orchestration\nversion: 1.0.0\ndescription: Knock-out rounds.\n" },
    handler: (data) => {
      const read = readData(data.yaml);
      return Promise.resolve({ findings: read.ok ? lintPattern(read.data) : read.issues });
    },
  });

  return [discoverEvent, select, track, query, lint] as EventDef[];
}
