/**
 * The store's own git setup is honoured, never silently bypassed (issue
 * 13, items 3 and 4): a real daemon, a real store, plain git to check.
 * Its commit hooks run for the daemon's commits (a refusing pre-commit
 * refuses the save, store_refused with the hook's output, nothing left
 * behind; commit-msg edits the message; post-commit runs), commits are
 * signed when its config says commit.gpgsign (SSH and GPG keys made here),
 * and a repository format the writer does not implement stops the start
 * with a message naming the setting. sha256 stores work.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../client/index.js";
import { cleanup, makeHome, spawnDaemon, startDaemon, waitFor, type Daemon } from "./harness.js";
import { expectFsckClean, git, gitRun, head, snapshot } from "./store-git.js";

type Msg = Record<string, unknown>;

let d: Daemon;
let c: Client;
let store: string;

function doc(name: string, version: string): Msg {
  return { name, type: "orchestration", version, description: `${name} for the hooks test` };
}

/** An executable hook script. */
function hook(dir: string, name: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

async function refusal(request: Promise<unknown>): Promise<{ code: string; message: string; details: Msg }> {
  const err = (await request.then(
    () => null,
    (e: unknown) => e,
  )) as { code: string; message: string; details: Msg } | null;
  expect(err, "the request should have been refused").not.toBeNull();
  return err!;
}

beforeAll(async () => {
  d = await startDaemon();
  store = join(d.home, "var", "lib", "compositions");
  c = await d.client({ agentId: "e2e-hooks" });
});
afterAll(cleanup);

describe("the store's commit hooks", () => {
  it("a pre-commit hook that refuses: the save is refused with its output, nothing is committed, the store is clean, the daemon serves on", async () => {
    const hooks = join(store, ".git", "hooks");
    hook(hooks, "pre-commit", 'echo "policy: no new patterns today" >&2\nexit 1');
    const before = await snapshot(store);
    const err = await refusal(c.request("composition:save", { composition: doc("hooked_new", "1.0.0") }));
    expect(err.code).toBe("store_refused");
    expect(err.message).toMatch(/pre-commit hook .* refused the commit \(exit 1\); nothing was committed\. Its output:\npolicy: no new patterns today$/);
    expect(err.details).toMatchObject({ hook: "pre-commit", exit_code: 1, output: "policy: no new patterns today" });
    // An update of an existing pattern is put back as it was.
    const update = await refusal(c.request("composition:update", { name: "tournament", set: { description: "changed" } }));
    expect(update.code).toBe("store_refused");
    expect(await snapshot(store)).toEqual(before);
    expect(existsSync(join(store, "orchestrations", "hooked_new.yaml"))).toBe(false);
    expect((await refusal(c.request("composition:get", { name: "hooked_new" }))).code).toBe("not_found");
    expect(await c.request("system:health")).toMatchObject({ status: "ok" });
    execFileSync("rm", [join(hooks, "pre-commit")]);
    const saved = await c.request<{ commit: string }>("composition:save", { composition: doc("hooked_new", "1.0.0") });
    expect(await head(store)).toBe(saved.commit);
  });

  it("commit-msg appends a line: the commit has it; post-commit runs after the commit; decision-log batches go the same way", async () => {
    const hooks = join(store, ".git", "hooks");
    const marker = join(d.home, "post-commit-ran");
    hook(hooks, "commit-msg", "printf 'Reviewed-by: the store hook\\n' >> \"$1\"");
    hook(hooks, "post-commit", `git rev-parse HEAD >> "${marker}"`);
    const saved = await c.request<{ commit: string }>("composition:save", { composition: doc("hooked_msg", "1.0.0"), message: "a reviewed pattern" });
    const message = await git(store, "log", "-1", "--format=%B", saved.commit);
    expect(message).toMatch(/^a reviewed pattern\n\nOp: create\n(.+\n)*Reviewed-by: the store hook\n/);
    expect(readFileSync(marker, "utf8")).toBe(`${saved.commit}\n`);
    expect(await git(store, "status", "--porcelain")).toBe("");

    await c.request("composition:track_decision", { pattern: "hooked_msg", decision: "ran it", outcome: "success", confidence: 0.8 });
    const log = "orchestrations/hooked_msg_decisions.yaml";
    await waitFor("the decision log committed", async () => (await git(store, "status", "--porcelain", "--", log)) === "" && (await git(store, "log", "--format=%H", "--", log)) !== "", 5_000, 50);
    const batch = (await git(store, "log", "-1", "--format=%H", "--", log)).trim();
    expect(await git(store, "log", "-1", "--format=%B", batch)).toMatch(/^decisions: 1 record \(hooked_msg 1\)\n\nOp: decisions\n(.+\n)*Reviewed-by: the store hook\n/);
    expect(readFileSync(marker, "utf8").trim().split("\n")).toEqual([saved.commit, batch]);
    execFileSync("rm", [join(hooks, "commit-msg"), join(hooks, "post-commit")]);
  });
});

describe("signed commits", () => {
  it("with gpg.format=ssh and commit.gpgsign=true in the store's config, the daemon's commits carry a good SSH signature", async () => {
    const key = join(d.home, "signing-key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "patternd-e2e", "-f", key]);
    await git(store, "config", "gpg.format", "ssh");
    await git(store, "config", "user.signingkey", `${key}.pub`);
    await git(store, "config", "commit.gpgsign", "true");
    const saved = await c.request<{ commit: string }>("composition:save", { composition: doc("signed_ssh", "1.0.0") });
    const allowed = join(d.home, "allowed-signers");
    writeFileSync(allowed, `patternd@patternd ${readFileSync(`${key}.pub`, "utf8")}`);
    const verified = await gitRun(store, ["-c", `gpg.ssh.allowedSignersFile=${allowed}`, "verify-commit", saved.commit]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/Good "git" signature for patternd@patternd with ED25519 key/);
    expect(await git(store, "tag", "--points-at", saved.commit)).toBe("signed_ssh@1.0.0\n");
    await expectFsckClean(store);
    await git(store, "config", "--unset", "commit.gpgsign");
    const plain = await c.request<{ commit: string }>("composition:save", { composition: doc("signed_not", "1.0.0") });
    expect(await git(store, "cat-file", "commit", plain.commit)).not.toMatch(/^gpgsig /m);
  });

  it("with a GPG key (its GNUPGHOME in the daemon's environment), the daemon's commits carry a good GPG signature", async () => {
    const gnupg = join(await makeHome(), "gnupg");
    mkdirSync(gnupg, { mode: 0o700 });
    const gpgEnv = { ...process.env, GNUPGHOME: gnupg };
    execFileSync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "Patternd Test <patternd@patternd>", "ed25519", "sign", "never"], { env: gpgEnv, stdio: "ignore" });
    const fingerprint = /^fpr:+([0-9A-F]+):/m.exec(execFileSync("gpg", ["--list-secret-keys", "--with-colons"], { env: gpgEnv, encoding: "utf8" }))![1]!;
    const own = await startDaemon({ env: { GNUPGHOME: gnupg } });
    try {
      const ownStore = join(own.home, "var", "lib", "compositions");
      await git(ownStore, "config", "user.signingkey", fingerprint);
      await git(ownStore, "config", "commit.gpgsign", "true");
      const client = await own.client({ agentId: "e2e-gpg" });
      const saved = await client.request<{ commit: string }>("composition:save", { composition: doc("signed_gpg", "1.0.0") });
      const verified = execFileSync("git", ["-C", ownStore, "verify-commit", "--raw", saved.commit], {
        env: { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1", GNUPGHOME: gnupg },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(verified).toBe("");
      expect(await git(ownStore, "cat-file", "commit", saved.commit)).toMatch(/^gpgsig -----BEGIN PGP SIGNATURE-----/m);
    } finally {
      await own.stop();
      execFileSync("gpgconf", ["--kill", "gpg-agent"], { env: gpgEnv, stdio: "ignore" });
    }
  });
});

describe("repository formats", () => {
  /** A store made with plain git, with `config` applied; the daemon started on it with --store. */
  async function storeWith(init: string[], config: [string, string][]): Promise<{ home: string; dir: string }> {
    const home = await makeHome();
    const dir = join(home, "own-store");
    mkdirSync(dir);
    await git(dir, "init", "-q", ...init);
    for (const [key, value] of config) await git(dir, "config", key, value);
    return { home, dir };
  }

  it("a store declaring an extension the writer does not implement: the daemon does not start, and says which setting", async () => {
    const { home, dir } = await storeWith([], [
      ["core.repositoryformatversion", "1"],
      ["extensions.fancything", "true"],
    ]);
    const proc = spawnDaemon(home, ["--store", dir]);
    const exit = await proc.waitExit(15_000);
    expect(exit.code).toBe(1);
    expect(proc.stderr()).toMatch(/^patternd: cannot start: .*extensions\.fancything=true \(core\.repositoryformatversion=1\): a repository format patternd does not write/m);
    expect(await gitRun(dir, ["rev-list", "--all"])).toMatchObject({ stdout: "" });
  });

  it("a store asking for signed commits without a key of its own: the daemon does not start, and says how to turn it off", async () => {
    const { home, dir } = await storeWith([], [["commit.gpgsign", "true"]]);
    const proc = spawnDaemon(home, ["--store", dir]);
    expect((await proc.waitExit(15_000)).code).toBe(1);
    expect(proc.stderr()).toContain(`commit.gpgsign=true but no user.signingkey`);
    expect(proc.stderr()).toContain(`git -C ${dir} config commit.gpgsign false`);
  });

  it("a sha256 store works: saves commit with sha256 ids, tags follow, fsck is clean", async () => {
    const { home, dir } = await storeWith(["--object-format=sha256"], []);
    const own = await startDaemon({ home, args: ["--store", dir] });
    try {
      const client = await own.client({ agentId: "e2e-sha256" });
      const saved = await client.request<{ commit: string }>("composition:save", { composition: doc("in_sha256", "1.0.0") });
      expect(saved.commit).toMatch(/^[0-9a-f]{64}$/);
      const updated = await client.request<{ commit: string; version: string }>("composition:update", { name: "in_sha256", set: { description: "again" } });
      expect(updated.version).toBe("1.0.1");
      expect((await git(dir, "rev-parse", "in_sha256@1.0.1")).trim()).toBe(updated.commit);
      expect(await git(dir, "status", "--porcelain")).toBe("");
      await expectFsckClean(dir);
    } finally {
      await own.stop();
    }
  });
});
