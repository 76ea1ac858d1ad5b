import { describe, expect, it } from "vitest";
import { namesOf } from "./store-watch.js";

describe("namesOf (which patterns a composition:changed names)", () => {
  it("takes the name of a save, update, fork, merge or delete", () => {
    expect(namesOf({ op: "fork", name: "voting_pushed", version: "0.1.0", commit: "c1" })).toEqual(["voting_pushed"]);
  });

  it("takes each file's name from a sync, whatever its folder and extension", () => {
    expect(namesOf({ op: "sync", commit: "c2", remote: "origin", files: ["orchestrations/tournament.yaml", "profiles/critic.md", "orchestrations/tournament_decisions.yaml"] })).toEqual([
      "tournament",
      "critic",
      "tournament_decisions",
    ]);
  });

  it("names nothing for data of another shape", () => {
    expect(namesOf(undefined)).toEqual([]);
    expect(namesOf({ op: "sync", files: "not a list" })).toEqual([]);
    expect(namesOf({ op: "sync", files: [42, null] })).toEqual([]);
  });
});
