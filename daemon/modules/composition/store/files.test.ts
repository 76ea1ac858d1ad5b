import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_DOCUMENT_BYTES } from "../model/document.js";
import { StoreFiles } from "./files.js";

let root: string;
let store: string;
let files: StoreFiles;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patternd-files-"));
  store = join(root, "store");
  mkdirSync(store);
  files = new StoreFiles(store);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("StoreFiles.resolve", () => {
  it.each([
    ["orchestrations/x.yaml", "orchestrations/x.yaml"],
    ["profiles/a-b_c.yaml", "profiles/a-b_c.yaml"],
    ["./orchestrations/x.yaml", "orchestrations/x.yaml"],
    ["orchestrations/../profiles/x.yaml", "profiles/x.yaml"],
  ])("%s stays inside the store", (path, inside) => {
    expect(files.resolve(path)).toBe(join(store, inside));
  });

  it.each([
    "../outside.yaml",
    "../store-sibling/x.yaml",
    "orchestrations/../../outside.yaml",
    "a/b/../../../outside.yaml",
    "/etc/passwd",
    join(tmpdir(), "outside.yaml"),
    "",
    ".",
    "orchestrations/..",
    ".git/config",
    ".git/refs/tags/x@1.0.0",
    "orchestrations/../.git/HEAD",
    "sub/.git/config",
  ])("refuses %j", (path) => {
    expect(() => files.resolve(path)).toThrow(/outside the store/);
  });
});

describe("StoreFiles read / write / remove", () => {
  it("reads a file, or undefined when it is missing", () => {
    mkdirSync(join(store, "orchestrations"));
    writeFileSync(join(store, "orchestrations", "x.yaml"), "name: x\n");
    expect(files.read("orchestrations/x.yaml")).toBe("name: x\n");
    expect(files.read("orchestrations/missing.yaml")).toBeUndefined();
    expect(files.read("nodir/missing.yaml")).toBeUndefined();
  });

  it("refuses to read a file over 1 MiB, a directory or a symlink", () => {
    writeFileSync(join(store, "big.yaml"), "x".repeat(MAX_DOCUMENT_BYTES + 1));
    expect(() => files.read("big.yaml")).toThrow(/limit/);
    mkdirSync(join(store, "dir.yaml"));
    expect(() => files.read("dir.yaml")).toThrow(/not a regular file/);
    writeFileSync(join(root, "secret.yaml"), "secret: 1\n");
    symlinkSync(join(root, "secret.yaml"), join(store, "link.yaml"));
    expect(() => files.read("link.yaml")).toThrow(expect.objectContaining({ code: "unsafe_path", details: { path: "link.yaml", target: join(root, "secret.yaml") } }));
  });

  it("writes atomically, creating the folder, and leaves no temp file behind", async () => {
    expect(await files.write("profiles/p.yaml", "name: p\n")).toBe(true);
    expect(readFileSync(join(store, "profiles", "p.yaml"), "utf8")).toBe("name: p\n");
    expect(await readdir(join(store, "profiles"))).toEqual(["p.yaml"]);
    expect(await files.write("profiles/p.yaml", "name: p\nversion: 2\n")).toBe(true);
    expect(readFileSync(join(store, "profiles", "p.yaml"), "utf8")).toBe("name: p\nversion: 2\n");
    expect(await readdir(join(store, "profiles"))).toEqual(["p.yaml"]);
  });

  it("does not rewrite a file whose content would not change", async () => {
    await files.write("x.yaml", "same\n");
    const before = statSync(join(store, "x.yaml"));
    expect(await files.write("x.yaml", "same\n")).toBe(false);
    const after = statSync(join(store, "x.yaml"));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("refuses to write or remove outside the store", async () => {
    await expect(files.write("../escape.yaml", "x")).rejects.toThrow(/outside the store/);
    await expect(files.remove("../escape.yaml")).rejects.toThrow(/outside the store/);
    expect(await readdir(root)).toEqual(["store"]);
  });

  it("removes a file; removing a missing one is not an error", async () => {
    await files.write("x.yaml", "x\n");
    await files.remove("x.yaml");
    expect(files.read("x.yaml")).toBeUndefined();
    await expect(files.remove("x.yaml")).resolves.toBeUndefined();
  });

  it("never writes, removes or reads through a link: a linked folder, a linked file, a linked temp folder", async () => {
    const outside = join(root, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "w1.yaml"), "precious\n");
    symlinkSync(outside, join(store, "gadgets"));
    const refused = { code: "unsafe_path", details: { path: "gadgets", target: outside } };
    await expect(files.write("gadgets/w1.yaml", "name: w1\n")).rejects.toMatchObject(refused);
    await expect(files.write("gadgets/new.yaml", "name: new\n")).rejects.toMatchObject(refused);
    await expect(files.remove("gadgets/w1.yaml")).rejects.toMatchObject(refused);
    expect(() => files.read("gadgets/w1.yaml")).toThrow(expect.objectContaining(refused));
    symlinkSync(join(outside, "w1.yaml"), join(store, "link.yaml"));
    await expect(files.write("link.yaml", "x\n")).rejects.toMatchObject({ code: "unsafe_path", details: { path: "link.yaml" } });
    await expect(files.remove("link.yaml")).rejects.toMatchObject({ code: "unsafe_path" });
    mkdirSync(join(store, ".git"));
    symlinkSync(outside, join(store, ".git", "patternd-tmp"));
    await expect(files.write("orchestrations/x.yaml", "x\n")).rejects.toMatchObject({ code: "unsafe_path", details: { path: ".git/patternd-tmp", target: outside } });
    expect(await readdir(outside)).toEqual(["w1.yaml"]);
    expect(readFileSync(join(outside, "w1.yaml"), "utf8")).toBe("precious\n");
  });
});
