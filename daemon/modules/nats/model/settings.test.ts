import { describe, expect, it } from "vitest";
import { hostPort, natsProblems, resolveNats } from "./settings.js";

describe("resolveNats", () => {
  it("no URL: no link", () => {
    expect(resolveNats({}, {})).toBeUndefined();
    expect(resolveNats({}, { PATTERND_NATS: "" })).toBeUndefined();
  });

  it("flags (repeatable, comma lists) win over the environment's comma lists", () => {
    expect(resolveNats({ nats: "h:1", natsExport: ["task:*,job:*", "task:*"] }, { PATTERND_NATS: "x:2", PATTERND_NATS_EXPORT: "a:*", PATTERND_NATS_IMPORT: " b:* , c:** " })).toEqual({
      url: "h:1",
      exports: ["task:*", "job:*"],
      imports: ["b:*", "c:**"],
    });
  });
});

describe("natsProblems", () => {
  it.each([
    [{ nats: "nats://127.0.0.1:4222" }, {}, []],
    [{}, { PATTERND_NATS: "localhost:4222", PATTERND_NATS_IMPORT: "task:*" }, []],
    [{ nats: "[::1]:4222", natsExport: ["**"] }, {}, []],
    [{ nats: "http://h:4222" }, {}, ['--nats must be nats://host:port or host:port, e.g. nats://127.0.0.1:4222 (got "http://h:4222")']],
    [{}, { PATTERND_NATS: "h" }, ['PATTERND_NATS must be nats://host:port or host:port, e.g. nats://127.0.0.1:4222 (got "h")']],
    [{ nats: "h:99999" }, {}, ['--nats must be nats://host:port or host:port, e.g. nats://127.0.0.1:4222 (got "h:99999")']],
    [{ natsExport: ["task:*"] }, {}, ["--nats-export and --nats-import need --nats URL (or PATTERND_NATS), e.g. --nats nats://127.0.0.1:4222"]],
    [
      { nats: "h:1", natsImport: ["task:", "a b"] },
      {},
      [
        '--nats-import: "task:" matches no event name; give colon-separated segments of letters, digits, _ . - with * (one segment) or ** (any rest), e.g. task:* or orchestration:**',
        '--nats-import: "a b" matches no event name; give colon-separated segments of letters, digits, _ . - with * (one segment) or ** (any rest), e.g. task:* or orchestration:**',
      ],
    ],
  ])("%j %j → %j", (options, env, problems) => {
    expect(natsProblems(options, env)).toEqual(problems);
  });

  it.each([
    ["nats://127.0.0.1:4222", "127.0.0.1:4222"],
    ["nats.example.com:4222", "nats.example.com:4222"],
    ["nats://user:pw@h:1", undefined],
    ["h:", undefined],
    [":4222", undefined],
  ])("hostPort(%s) = %s", (url, expected) => {
    expect(hostPort(url)).toBe(expected);
  });
});
