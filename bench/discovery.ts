/**
 * Finding patterns and logging decisions, run by the store bench:
 *
 * - on the synthetic store (10 000 patterns): composition:discover with
 *   typical queries (the seed's example, words, a JSON Logic rule, a sort)
 *   and composition:select with typical tasks, sequential, every reply
 *   checked. (The store bench times the first select after each start.)
 * - on the seeded store: composition:track_decision from 8 clients at once,
 *   each keeping `depth` requests in flight, all to one pattern's log; the
 *   figure is acknowledged (fsync'd) records per second, and every id must
 *   be new.
 * (The select evaluation, bench/select-eval.ts, runs in the bench process.)
 */
import { performance } from "node:perf_hooks";
import { LineConnection, percentile, pipeline, round, type Child, type Reply } from "./common.js";
import { sequential, type Series } from "./series.js";

const DISCOVER_QUERIES: [string, Record<string, unknown>][] = [
  ["discover: seed example (type, tags, avg_score > 0.7)", { type: "orchestration", metadata_filter: { tags: ["review"], "performance.avg_score": { ">": 0.7 } } }],
  ["discover: text words", { text: "review sources" }],
  ["discover: JSON Logic where", { where: { and: [{ in: ["research", { var: "metadata.tags" }] }, { ">": [{ var: "performance.runs" }, 100] }] } }],
  ["discover: filter + sort + limit 10", { metadata_filter: { cost: { in: ["low", "medium"] } }, sort: "-performance.avg_score", limit: 10 }],
];

const SELECT_TASKS: Record<string, unknown>[] = [
  { task: "Review a long research report and check every claim against its sources" },
  { task: "Plan a migration, split it into parts for several workers and merge their results", requirements: { parallel_agents: true } },
  { task: "Vote on the best of several summaries" },
  { task: "Triage incoming requests and route them to the right specialist", requirements: { decision_tracking: true } },
];

export async function discoverySeries(conn: LineConnection, daemon: Child, count: number, warmup: number): Promise<{ series: Series[] }> {
  const series: Series[] = [];
  for (const [label, query] of DISCOVER_QUERIES) {
    const line = (id: number) => JSON.stringify({ event: "composition:discover", id, data: query }) + "\n";
    const check = (reply: Reply) => {
      if (typeof reply.data?.total !== "number" || !Array.isArray(reply.data.compositions)) throw new Error(`${label}: ${JSON.stringify(reply).slice(0, 300)}`);
    };
    await sequential(conn, daemon, "warm-up", warmup, line, check);
    series.push(await sequential(conn, daemon, label, count, line, check));
  }
  const selectLine = (id: number) => JSON.stringify({ event: "composition:select", id, data: SELECT_TASKS[id % SELECT_TASKS.length] }) + "\n";
  const selectCheck = (reply: Reply) => {
    if (!Array.isArray(reply.data?.candidates)) throw new Error(`select: ${JSON.stringify(reply).slice(0, 300)}`);
  };
  await sequential(conn, daemon, "warm-up", warmup, selectLine, selectCheck);
  series.push(await sequential(conn, daemon, `select: ${SELECT_TASKS.length} tasks in turn (limit 5)`, count, selectLine, selectCheck));
  return { series };
}

export interface DecisionThroughput {
  clients: number;
  depth: number;
  records: number;
  wall_ms: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export async function decisionThroughput(socketPath: string, clients: number, perClient: number, depth: number): Promise<DecisionThroughput> {
  const conns = await Promise.all(Array.from({ length: clients }, () => LineConnection.connect(socketPath)));
  const ids = new Set<string>();
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    conns.map((conn, c) => {
      const sendTimes = new Float64Array(perClient);
      const make = (k: number) =>
        JSON.stringify({
          event: "composition:track_decision",
          id: k,
          agent_id: `bench_writer_${c}`,
          data: { pattern: "tournament", decision: `bench writer ${c} record ${k}`, outcome: k % 4 === 0 ? "failure" : "success", confidence: 0.5, context: { writer: c, k } },
        }) + "\n";
      const check = (line: string, k: number, now: number) => {
        const reply = JSON.parse(line) as Reply;
        const id = (reply.data?.tracked as { id?: unknown } | undefined)?.id;
        if (reply.ok !== true || reply.id !== k || typeof id !== "string" || ids.has(id)) throw new Error(`track_decision ${c}/${k}: ${line.slice(0, 300)}`);
        ids.add(id);
        latencies.push(now - sendTimes[k]!);
      };
      return pipeline(conn, 0, perClient, depth, sendTimes, make, check);
    }),
  );
  const wall = performance.now() - started;
  await Promise.all(conns.map((conn) => conn.close()));
  const sorted = Float64Array.from(latencies).sort();
  return {
    clients,
    depth,
    records: ids.size,
    wall_ms: Math.round(wall),
    per_s: Math.round((ids.size / wall) * 1000),
    p50_ms: round(percentile(sorted, 0.5), 2),
    p99_ms: round(percentile(sorted, 0.99), 2),
  };
}
