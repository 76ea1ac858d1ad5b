import { describe, expect, it } from "vitest";
import { asUnavailable, diskFault, errnoInText } from "./disk-fault.js";
import { DaemonError } from "./errors.js";

const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: failed`), { code, ...(path === undefined ? {} : { path }) });

describe("diskFault", () => {
  it.each([
    ["ENOSPC", "no_space"],
    ["EDQUOT", "no_space"],
    ["EROFS", "read_only"],
    ["EACCES", "permission_denied"],
    ["EPERM", "permission_denied"],
    ["ENOENT", undefined],
    ["EIO", undefined],
  ])("%s → %s", (code, reason) => {
    expect(diskFault(errno(code))).toBe(reason);
  });

  it("looks through causes, and ignores what is no errno", () => {
    expect(diskFault(new Error("wrapped", { cause: errno("ENOSPC") }))).toBe("no_space");
    expect(diskFault(new Error("plain"))).toBeUndefined();
    expect(diskFault("ENOSPC")).toBeUndefined();
    expect(diskFault(null)).toBeUndefined();
  });
});

describe("errnoInText", () => {
  it.each([
    ["fatal: sha1 file '.git/index.lock' write error. Out of diskspace", "ENOSPC"],
    ["error: unable to write file: No space left on device", "ENOSPC"],
    ["fatal: Unable to create '.git/index.lock': Read-only file system", "EROFS"],
    ["error: insufficient permission for adding an object: Permission denied", "EACCES"],
    ["fatal: not a git repository", undefined],
  ])("%s", (text, code) => {
    expect(errnoInText(text)).toBe(code);
  });
});

describe("asUnavailable", () => {
  it("names the path given, with the reason and what to do", () => {
    const mapped = asUnavailable(errno("ENOSPC", "/h/.x.tmp"), "/h/x.yaml");
    expect(mapped).toBeInstanceOf(DaemonError);
    const wire = (mapped as DaemonError).toWire();
    expect(wire).toMatchObject({ code: "unavailable", details: { reason: "no_space", path: "/h/x.yaml" } });
    expect(wire.message).toMatch(/^cannot write \/h\/x\.yaml: no space left on its device; free some space there, then retry/);
  });

  it("falls back to the error's own path; read-only and permission faults say so", () => {
    expect((asUnavailable(errno("EROFS", "/ro/f")) as DaemonError).toWire()).toMatchObject({ details: { reason: "read_only", path: "/ro/f" } });
    expect((asUnavailable(errno("EROFS", "/ro/f")) as DaemonError).message).toMatch(/read-only file system; remount it read-write/);
    expect((asUnavailable(errno("EACCES", "/p")) as DaemonError).message).toMatch(/permission denied; give the daemon's user write access/);
    expect((asUnavailable(errno("EDQUOT", "/q")) as DaemonError).message).toMatch(/quota/);
  });

  it("leaves other errors, and DaemonErrors, as they are", () => {
    const other = errno("ENOENT", "/x");
    expect(asUnavailable(other, "/y")).toBe(other);
    const daemon = new DaemonError("unsafe_path", "a link");
    expect(asUnavailable(daemon, "/y")).toBe(daemon);
  });
});
