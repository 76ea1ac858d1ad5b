import { describe, expect, it } from "vitest";
import { resolveConfig } from "./config.js";

describe("resolveConfig", () => {
  it("derives every path from the home given as an option", () => {
    const config = resolveConfig({ home: "h" }, { PATTERND_HOME: "/ignored" }, "/work");
    expect(config.home).toBe("/work/h");
    expect(config.socketPath).toBe("/work/h/var/run/patternd.sock");
    expect(config.socketInHome).toBe(true);
    expect(config.pidFile).toBe("/work/h/var/run/patternd.pid");
    expect(config.daemonLog).toBe("/work/h/var/log/daemon.log");
    expect(config.eventLogDir).toBe("/work/h/var/log/events");
    expect(config.storeDir).toBe("/work/h/var/lib/compositions");
    expect(config.scheduleJournal).toBe("/work/h/var/lib/schedule.ndjson");
    expect(config.stateFile).toBe("/work/h/var/lib/state.json");
  });

  it("falls back to PATTERND_HOME, then the working directory", () => {
    expect(resolveConfig({}, { PATTERND_HOME: "/srv/p" }, "/work").home).toBe("/srv/p");
    expect(resolveConfig({}, { PATTERND_HOME: "" }, "/work").home).toBe("/work");
  });

  it("takes the socket and store from options before the environment", () => {
    const env = { PATTERND_SOCKET: "/env.sock", PATTERND_STORE: "/env-store" };
    expect(resolveConfig({}, env, "/w").socketPath).toBe("/env.sock");
    expect(resolveConfig({}, env, "/w").socketInHome).toBe(false);
    expect(resolveConfig({ socket: "s.sock", store: "st" }, env, "/w")).toMatchObject({
      socketPath: "/w/s.sock",
      storeDir: "/w/st",
    });
  });
});
