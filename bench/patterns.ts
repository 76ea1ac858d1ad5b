/** Realistic synthetic orchestration patterns for the benches: the same text for the same name and seed. */
import { seededRandom } from "./random.js";

const ADJECTIVES = ["adaptive", "layered", "parallel", "staged", "guarded", "iterative", "federated", "elastic", "cautious", "greedy", "rotating", "blind", "weighted", "lean"];
const NOUNS = ["review", "consensus", "research", "triage", "planning", "debate", "audit", "synthesis", "routing", "refinement", "survey", "voting", "critique", "handoff"];
const WORDS = (
  "agents propose candidate answers while a reviewer checks each claim against the sources and records what it rejected " +
  "the lead splits the task into parts assigns them to workers merges their results and asks for another round when scores stay low " +
  "every step is tracked so that later runs can see which choices paid off and which ones wasted budget on dead ends " +
  "useful when the task is broad the evidence is scattered and a single pass tends to miss important details or contradictions"
).split(" ");
const TAGS = ["research", "review", "planning", "coding", "writing", "analysis", "search", "voting", "debate", "safety", "qa", "data", "summaries", "routing", "evaluation", "long-running"];
const CAPABILITIES = ["parallel_agents", "shared_state", "decision_tracking", "web_search", "code_execution", "file_access", "scheduling", "subscriptions"];
const PROFILES = ["base_multi_agent", "judge", "researcher", "planner", "critic", "summarizer", "coder"];

export function syntheticName(i: number): string {
  return `${ADJECTIVES[i % ADJECTIVES.length]}_${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]}_${String(i).padStart(5, "0")}`;
}

/** A realistic orchestration pattern (about 1.5–3 KB), the same text for the same name and seed. */
export function patternYaml(name: string, seed: number): string {
  const random = seededRandom(seed + 1);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const some = <T>(items: readonly T[], n: number): T[] => {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    return out;
  };
  const sentence = (lo: number, hi: number) => {
    const n = int(lo, hi);
    const words: string[] = [];
    let at = int(0, WORDS.length - 1);
    for (let i = 0; i < n; i++) words.push(WORDS[(at++ + (random() < 0.2 ? int(1, 9) : 0)) % WORDS.length]!);
    const text = words.join(" ");
    return text[0]!.toUpperCase() + text.slice(1) + ".";
  };
  const components = some(["worker", "reviewer", "lead", "critic", "summarizer", "scout"], int(2, 4));
  const rounds = int(2, 6);
  const lines = [
    `# ${sentence(6, 12)}`,
    `name: ${name}`,
    `type: orchestration`,
    `version: ${int(0, 3)}.${int(0, 9)}.${int(0, 20)}`,
    `description: ${sentence(18, 34)}`,
    `author: bench-generator`,
    `metadata:`,
    `  tags: [${some(TAGS, int(3, 6)).join(", ")}]`,
    `  use_cases:`,
    ...Array.from({ length: int(2, 4) }, () => `    - ${sentence(5, 10).slice(0, -1).toLowerCase()}`),
    `  capabilities_required: [${some(CAPABILITIES, int(1, 4)).join(", ")}]`,
    `  selection_criteria:`,
    `    participants: {min: ${int(1, 3)}, max: ${int(4, 12)}}`,
    `    latency: ${pick(["low", "medium", "high"])}`,
    `    cost: ${pick(["low", "medium", "high"])}`,
    `variables:`,
    `  run_id:`,
    `    type: string`,
    `    default: run_${seed}`,
    `    description: Id of this run, used in state keys.`,
    `  max_rounds:`,
    `    type: integer`,
    `    default: ${rounds}`,
    `    description: Rounds before the lead must decide.`,
    `  threshold:`,
    `    type: number`,
    `    default: ${(int(50, 95) / 100).toFixed(2)}`,
    `    description: Score at which a candidate is accepted.`,
    `components:`,
    ...components.flatMap((component) => [
      `  - name: ${component}`,
      `    profile: ${pick(PROFILES)}`,
      `    role: ${sentence(3, 7).slice(0, -1).toLowerCase()}`,
      `    prompt: |`,
      `      ${sentence(10, 18)}`,
      `      ${sentence(8, 16)}`,
    ]),
    `orchestration_logic:`,
    `  description: ${sentence(12, 24)}`,
    `  strategy: |`,
    `    STATE state:set {key: "{{run_id}}.status", value: "running"}`,
    `    FOR EACH round r IN 1..{{max_rounds}}:`,
    ...components.map((component) => `      SPAWN ${component} -> ${pick(["candidates", "notes", "scores", "a summary", "objections"])}`),
    `      score = mean of reviewer scores for this round`,
    `      IF score >= {{threshold}}:`,
    `        TRACK composition:track_decision {pattern: "${name}", decision: "accepted in round <r>", outcome: "success", confidence: <score>}`,
    `        BREAK`,
    `      ELSE:`,
    `        DECIDE which parts to redo; keep the rest`,
    `    STATE state:set {key: "{{run_id}}.status", value: "done"}`,
    `# Agents this pattern spawns: not a core field, kept as written.`,
    `agents:`,
    `  lead:`,
    `    profile: ${pick(PROFILES)}`,
    `    count: 1`,
    `  workers:`,
    `    profile: ${pick(PROFILES)}`,
    `    count: ${int(2, 8)}`,
    `    timeout_s: ${int(60, 900)}`,
    `performance:`,
    `  runs: ${int(0, 400)}`,
    `  avg_score: ${(int(40, 95) / 100).toFixed(2)}`,
    `  success_rate: ${(int(40, 99) / 100).toFixed(2)}`,
  ];
  return lines.join("\n") + "\n";
}
