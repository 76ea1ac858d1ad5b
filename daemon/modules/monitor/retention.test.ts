import { describe, expect, it } from "vitest";
import { expiredDays, type DayFile } from "./retention.js";

const MB = 1024 * 1024;
const files = (...entries: [string, number][]): DayFile[] => entries.map(([day, mb]) => ({ day, bytes: mb * MB }));

describe("expiredDays", () => {
  it.each<[string, DayFile[], { maxBytes: number; maxDays: number }, string, string[], [string, "age" | "size"][]]>([
    ["nothing to do under both caps", files(["2026-03-09", 1], ["2026-03-10", 1]), { maxBytes: 10 * MB, maxDays: 14 }, "2026-03-10", [], []],
    ["no files", [], { maxBytes: MB, maxDays: 1 }, "2026-03-10", [], []],
    [
      "a file maxDays old goes, one a day younger stays",
      files(["2026-02-24", 1], ["2026-02-25", 1], ["2026-03-10", 1]),
      { maxBytes: 100 * MB, maxDays: 14 },
      "2026-03-10",
      [],
      [["2026-02-24", "age"]],
    ],
    ["maxDays 1 keeps today's only", files(["2026-03-08", 1], ["2026-03-09", 1], ["2026-03-10", 1]), { maxBytes: 100 * MB, maxDays: 1 }, "2026-03-10", [], [["2026-03-08", "age"], ["2026-03-09", "age"]]],
    [
      "over the size cap: oldest first until under it",
      files(["2026-03-07", 4], ["2026-03-08", 4], ["2026-03-09", 4], ["2026-03-10", 4]),
      { maxBytes: 9 * MB, maxDays: 14 },
      "2026-03-10",
      [],
      [["2026-03-07", "size"], ["2026-03-08", "size"]],
    ],
    ["exactly at the size cap keeps everything", files(["2026-03-09", 4], ["2026-03-10", 4]), { maxBytes: 8 * MB, maxDays: 14 }, "2026-03-10", [], []],
    [
      "age first, then size over what is left",
      files(["2026-01-01", 50], ["2026-03-08", 4], ["2026-03-09", 4], ["2026-03-10", 4]),
      { maxBytes: 9 * MB, maxDays: 14 },
      "2026-03-10",
      [],
      [["2026-01-01", "age"], ["2026-03-08", "size"]],
    ],
    ["today's file alone over the cap is kept", files(["2026-03-09", 1], ["2026-03-10", 20]), { maxBytes: 8 * MB, maxDays: 14 }, "2026-03-10", [], [["2026-03-09", "size"]]],
    [
      "the day being written is kept even when it is not today (just after midnight)",
      files(["2026-03-08", 4], ["2026-03-09", 20]),
      { maxBytes: 8 * MB, maxDays: 1 },
      "2026-03-10",
      ["2026-03-09"],
      [["2026-03-08", "age"]],
    ],
    [
      "a file dated after today (the clock was set back) is the newest: kept while the size allows",
      files(["2026-03-09", 4], ["2026-03-10", 4], ["2026-04-01", 4]),
      { maxBytes: 8 * MB, maxDays: 14 },
      "2026-03-10",
      [],
      [["2026-03-09", "size"]],
    ],
    ["the order of the listing does not matter", files(["2026-03-10", 4], ["2026-03-08", 4], ["2026-03-09", 4]), { maxBytes: 8 * MB, maxDays: 14 }, "2026-03-10", [], [["2026-03-08", "size"]]],
  ])("%s", (_name, listed, policy, today, kept, expected) => {
    expect(expiredDays(listed, policy, today, kept).map((file) => [file.day, file.reason])).toEqual(expected);
  });
});
