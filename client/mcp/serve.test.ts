import { describe, expect, it } from "vitest";
import { parseHttpAddress } from "./serve.js";

describe("parseHttpAddress", () => {
  it.each([
    ["127.0.0.1:8765", { host: "127.0.0.1", port: 8765 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::1]:9000", { host: "::1", port: 9000 }],
  ])("%s is served", (text, address) => {
    expect(parseHttpAddress(text)).toEqual(address);
  });

  it.each([
    ["0.0.0.0:8765", /loopback only .*0\.0\.0\.0 would expose the store/],
    ["192.168.1.5:80", /loopback only/],
    ["8765", /HOST:PORT on loopback, e\.g\. 127\.0\.0\.1:8765/],
    ["127.0.0.1:99999", /HOST:PORT/],
    ["127.0.0.1:", /HOST:PORT/],
  ])("%s is refused", (text, message) => {
    expect(() => parseHttpAddress(text)).toThrow(message);
  });
});
