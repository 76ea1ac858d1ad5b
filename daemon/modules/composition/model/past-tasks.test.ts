import { describe, expect, it } from "vitest";
import { PastTasks, similarTasks, taskOf, type PastTask } from "./past-tasks.js";
import { tokenize } from "./text.js";

function past(text: string, successes: number, failures: number): PastTask {
  return { text, terms: [...new Set(tokenize(text))], successes, failures };
}

const terms = (text: string) => new Set(tokenize(text));

describe("taskOf", () => {
  const cases: Array<[unknown, string | undefined]> = [
    [{ task: "rank drafts" }, "rank drafts"],
    [{ task: "  " }, undefined],
    [{ task: 3 }, undefined],
    [{ entrants: 12 }, undefined],
    ["rank drafts", undefined],
    [["rank drafts"], undefined],
    [null, undefined],
  ];
  for (const [context, want] of cases) it(`${JSON.stringify(context)} → ${String(want)}`, () => expect(taskOf(context)).toBe(want));
});

describe("PastTasks", () => {
  it("keeps tasks with an outcome, alike by text, counted by kind", () => {
    const tasks = new PastTasks();
    tasks.add({ task: "rank 12 drafts" }, "success");
    tasks.add({ task: "rank 12 drafts" }, "timeout");
    tasks.add({ task: "rank 12 drafts" }, "pending");
    tasks.add({ task: "rank 12 drafts" }, null);
    tasks.add({ task: "vote on labels" }, "ok");
    tasks.add({ entrants: 3 }, "success");
    tasks.add({ task: "the of and" }, "success");
    expect(tasks.list()).toEqual([
      { text: "rank 12 drafts", terms: ["rank", "12", "draft"], successes: 1, failures: 1 },
      { text: "vote on labels", terms: ["vot", "label"], successes: 1, failures: 0 },
    ]);
  });
});

describe("similarTasks", () => {
  const cases: Array<{ name: string; task: string; tasks: PastTask[]; value: number; similar: number }> = [
    { name: "no past tasks", task: "rank drafts", tasks: [], value: 0, similar: 0 },
    { name: "nothing shared", task: "rank drafts", tasks: [past("vote on labels", 3, 0)], value: 0, similar: 0 },
    // One word of many shared: cosine 1/√(1·4) = 0.5 ≥ 0.3, counted at half weight.
    { name: "the same words, another form", task: "ranking the draft", tasks: [past("rank drafts", 1, 0)], value: 1 / 2, similar: 1 },
    { name: "four successes", task: "rank drafts", tasks: [past("rank drafts", 4, 0)], value: 4 / 5, similar: 1 },
    { name: "failures pull down", task: "rank drafts", tasks: [past("rank drafts", 0, 3)], value: -3 / 4, similar: 1 },
    { name: "weighted by similarity", task: "rank drafts", tasks: [past("rank drafts", 1, 0), past("rank drafts by tone and length", 0, 1)], value: (1 - Math.SQRT1_2) / (1 + Math.SQRT1_2 + 1), similar: 2 },
    { name: "too little in common", task: "rank drafts", tasks: [past("rank a long list of slogans logos names colours", 5, 0)], value: 0, similar: 0 },
  ];
  for (const { name, task, tasks, value, similar } of cases) {
    it(name, () => {
      const found = similarTasks(terms(task), tasks);
      expect(found.value).toBeCloseTo(value, 9);
      expect(found.similar).toBe(similar);
    });
  }

  it("names the closest past task", () => {
    expect(similarTasks(terms("rank drafts"), [past("rank drafts by tone", 1, 0), past("rank drafts", 1, 0)]).closest).toEqual({ text: "rank drafts", similarity: 1 });
  });
});
