import { describe, expect, it } from "vitest";
import { analyze, FIELDS, fieldTexts, plainText, stem, tokenize } from "./text.js";

describe("tokenize", () => {
  it.each([
    ["Evaluate 15 prompts competitively", ["evalu", "15", "prompt", "compet"]],
    ["round_timeout_s", ["round", "timeout"]],
    ["llm-as-judge", ["llm", "judg"]],
    ["roundTimeoutSeconds", ["round", "timeout", "second"]],
    ["HTTPServer restarts", ["http", "serv", "restart"]],
    ["the a of and to is it", []],
    ["", []],
    ["  \n\t--__  ", []],
    ["log2(n) + 1 rounds, GPT4o", ["log2", "1", "round", "gpt4o"]],
    ["A/B test of I/O", ["ab", "test", "io"]],
    ["the agent's turn, don't wait", ["agent", "turn", "wait"]],
    ["Ünïcödé Wörter übersetzen", ["ünïcödé", "wörter", "übersetzen"]],
  ])("%j", (text, expected) => {
    expect(tokenize(text)).toEqual(expected);
  });

  it("keeps repeats, since term frequency counts", () => {
    expect(tokenize("judge the judges, judging")).toEqual(["judg", "judg", "judg"]);
  });

  it("drops single letters but keeps single digits", () => {
    expect(tokenize("x y 7 z")).toEqual(["7"]);
  });

  it("analyze keeps the written word beside each term", () => {
    expect(analyze("Ranking Strategies")).toEqual([
      { word: "ranking", term: "rank" },
      { word: "strategies", term: "strategy" },
    ]);
  });

  it("tokenizes a long text in linear time", () => {
    const text = "Agents propose candidate answers while a reviewer checks each claim against the sources. ".repeat(20_000);
    const started = performance.now();
    expect(tokenize(text)).toHaveLength(20_000 * 8);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("stem", () => {
  // Each group must fold to one stem.
  it.each([
    [["prompt", "prompts", "prompting"]],
    [["strategy", "strategies"]],
    [["match", "matches", "matched"]],
    [["compete", "competes", "competing", "competitive", "competitively", "competition", "competitions", "competitor"]],
    [["evaluate", "evaluates", "evaluating", "evaluated", "evaluation", "evaluations", "evaluator"]],
    [["rank", "ranks", "ranking", "ranked"]],
    [["plan", "plans", "planning", "planned", "planner"]],
    [["judge", "judges", "judging", "judged"]],
    [["timeout", "timeouts"]],
    [["deadline", "deadlines"]],
    [["debate", "debates", "debating"]],
    [["supervise", "supervision", "supervisor", "supervising"]],
    [["iterate", "iteration", "iterative", "iterating"]],
    [["reliable", "reliably", "reliability"]],
    [["secure", "security"]],
    [["effect", "effective", "effectiveness"]],
    [["summarize", "summarizing", "summarization"]],
    [["apply", "applies", "applied", "applying"]],
    [["bias", "biases"]],
    [["create", "creating", "created", "creation"]],
    [["validate", "validation", "validating"]],
    [["participant", "participants", "participation"]],
    [["review", "reviews", "reviewer", "reviewing"]],
  ])("%j meet", (words) => {
    expect(new Set(words.map(stem)).size).toBe(1);
  });

  it.each([
    ["status", "status"],
    ["analysis", "analysis"],
    ["process", "process"],
    ["string", "string"],
    ["need", "need"],
    ["speed", "speed"],
    ["early", "early"],
    ["reply", "reply"],
    ["pass", "pass"],
    ["call", "call"],
    ["run", "run"],
    ["key", "key"],
    ["15", "15"],
    ["log2", "log2"],
  ])("%s stays %s", (word, expected) => {
    expect(stem(word)).toBe(expected);
  });

  it.each([
    ["general", "generate"],
    ["state", "status"],
    ["rate", "ratio"],
    ["test", "testament"],
  ])("%s and %s stay apart", (a, b) => {
    expect(stem(a)).not.toBe(stem(b));
  });
});

describe("stop words", () => {
  it("drops common English function words, whatever their case", () => {
    expect(tokenize("The and WITH please Without which THEIR should")).toEqual([]);
  });
  it("keeps the words that carry a task's meaning", () => {
    expect(tokenize("timeout prompt rank 15 best first")).toEqual(["timeout", "prompt", "rank", "15", "best", "first"]);
  });
});

describe("fieldTexts", () => {
  it("reads KSI's orchestration_logic text block as the strategy", () => {
    const texts = fieldTexts("x", { orchestration_logic: "STATE rounds\nEVENT pairing:swiss\n" });
    expect(texts[FIELDS.findIndex((f) => f.label === "strategy")]).toBe("STATE rounds\nEVENT pairing:swiss\n");
  });

  it("reads every searched field in FIELDS order, from any shape", () => {
    const texts = fieldTexts("swiss_tournament", {
      description: "Ranks entries.",
      metadata: {
        tags: ["ranking", "pairwise"],
        use_cases: "pick the best draft",
        example_tasks: ["which of my drafts is best?", "knock-out rounds"],
        selection_criteria: { participants: { min: 4, max: 64 }, output: "ranking", blind: true, modes: ["swiss", "random"] },
      },
      orchestration_logic: { description: "Swiss pairing.", strategy: "FOR EACH round" },
      learnings: [{ insight: "Swap A/B order." }, "a bare string learning", { confidence: 0.5 }],
    });
    expect(Object.fromEntries(FIELDS.map((field, f) => [field.label, texts[f]]))).toEqual({
      name: "swiss_tournament",
      tags: "ranking\npairwise",
      use_cases: "pick the best draft",
      example_tasks: "which of my drafts is best?\nknock-out rounds",
      description: "Ranks entries.",
      selection_criteria: "participants min \nmax \noutput ranking\nblind \nmodes swiss\nrandom",
      logic: "Swiss pairing.",
      learnings: "Swap A/B order.\na bare string learning\n",
      strategy: "FOR EACH round",
    });
  });

  it("gives empty text for missing or odd fields", () => {
    expect(fieldTexts("x", { metadata: "nonsense", orchestration_logic: 3, learnings: "not a list" })).toEqual(["x", "", "", "", "", "", "", "", ""]);
  });

  it("has the strategy last and weights it least: select relies on both", () => {
    expect(FIELDS[FIELDS.length - 1]!.label).toBe("strategy");
    expect(Math.min(...FIELDS.map((field) => field.weight))).toBe(FIELDS[FIELDS.length - 1]!.weight);
  });
});

describe("plainText", () => {
  it.each([
    ["text", false, "text"],
    [["a", ["b", 3]], false, "a\nb\n"],
    [{ k: "v" }, false, ""],
    [{ k: "v", n: { m: true } }, true, "k v\nn m "],
    [42, true, ""],
    [null, true, ""],
  ])("%j (keys %s)", (value, keys, expected) => {
    expect(plainText(value, keys)).toBe(expected);
  });
});
