import { describe, expect, it } from "vitest";
import { compileGlob } from "../../../core/glob.js";
import { covers, disjointSubjects, eventSubject, globSubjects, overlap, subjectEvent } from "./subjects.js";

describe("event ↔ subject", () => {
  it.each([
    ["task:done", "patternd.task.done"],
    ["orchestration:run:done", "patternd.orchestration.run.done"],
    ["a.b:c", "patternd.a%2Eb.c"],
    ["a:b:c", "patternd.a.b.c"],
    ["single", "patternd.single"],
    ["x-y_z:1.2.3", "patternd.x-y_z.1%2E2%2E3"],
  ])("%s ↔ %s", (event, subject) => {
    expect(eventSubject("patternd", event)).toBe(subject);
    expect(subjectEvent("patternd", subject)).toBe(event);
  });

  it.each([["patternd.task.*"], ["patternd.a b"], ["other.task.done"], ["patternd"], ["patternd.a..b"]])("%s carries no event", (subject) => {
    expect(subjectEvent("patternd", subject)).toBeUndefined();
  });
});

describe("globSubjects", () => {
  it.each([
    ["task:done", ["patternd.task.done"], true],
    ["task:*", ["patternd.task.*"], true],
    ["task:**", ["patternd.task.>", "patternd.task"], true],
    ["**", ["patternd.>"], true],
    ["*:changed", ["patternd.*.changed"], true],
    ["task:sc*", ["patternd.task.*"], false],
    ["**:changed", ["patternd.>"], false],
    ["a.b:*", ["patternd.a%2Eb.*"], true],
  ])("%s → %j (exact: %s)", (glob, subjects, exact) => {
    expect(globSubjects("patternd", glob)).toEqual({ subjects, exact });
  });

  // The subjects carry every event the glob matches (the daemon filters the rest with the glob).
  it.each([
    ["task:**", ["task", "task:a", "task:a:b"]],
    ["task:sc*", ["task:score"]],
    ["**:changed", ["changed", "a:b:changed"]],
  ])("%s's subjects carry %j", (glob, events) => {
    const { subjects } = globSubjects("patternd", glob);
    for (const event of events) {
      expect(compileGlob(glob)(event)).toBe(true);
      expect(subjects.some((subject) => covers(subject, eventSubject("patternd", event)))).toBe(true);
    }
  });
});

describe("disjointSubjects: no message delivered twice", () => {
  it.each([
    [["patternd.task.*", "patternd.job.>"], ["patternd.job.>", "patternd.task.*"]],
    [["patternd.task.*", "patternd.task.done"], ["patternd.task.*"]],
    [["patternd.task.*", "patternd.task.>"], ["patternd.task.>"]],
    [["patternd.*.done", "patternd.task.*"], ["patternd.>"]],
    [["patternd.a", "patternd.a"], ["patternd.a"]],
  ])("%j → %j", (subjects, expected) => {
    expect(disjointSubjects("patternd", subjects)).toEqual(expected);
  });

  it.each([
    ["a.*", "a.b", true, true],
    ["a.>", "a", false, false],
    ["a.>", "a.b.c", true, true],
    ["a.b", "a.*", false, true],
    ["a.*.c", "a.b.*", false, true],
    ["a.b", "a.c", false, false],
  ])("%s covers %s: %s; they overlap: %s", (a, b, covering, overlapping) => {
    expect(covers(a, b)).toBe(covering);
    expect(overlap(a, b)).toBe(overlapping);
  });
});
