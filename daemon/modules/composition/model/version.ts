/** Semantic versions: parse, compare, bump (pure). Pre-release tags order before their release. */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(text: string): Version | null {
  const match = SEMVER.exec(text);
  if (match === null) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: match[4] ?? "" };
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x === null || y === null) throw new Error(`not a version: ${x === null ? a : b}`);
  if (x.major !== y.major) return x.major - y.major;
  if (x.minor !== y.minor) return x.minor - y.minor;
  if (x.patch !== y.patch) return x.patch - y.patch;
  if (x.prerelease === y.prerelease) return 0;
  if (x.prerelease === "") return 1;
  if (y.prerelease === "") return -1;
  return comparePrerelease(x.prerelease.split("."), y.prerelease.split("."));
}

/** SemVer §11: identifier by identifier; numbers numerically and below words; a shorter prefix first (alpha.2 < alpha.10 < alpha.beta). */
function comparePrerelease(x: string[], y: string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a === b) continue;
    const aNumeric = /^\d+$/.test(a);
    const bNumeric = /^\d+$/.test(b);
    if (aNumeric && bNumeric) return Number(a) - Number(b) || (a < b ? -1 : 1);
    if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
    return a < b ? -1 : 1;
  }
  return x.length - y.length;
}

export function bumpPatch(text: string): string {
  const v = parseVersion(text);
  if (v === null) throw new Error(`not a version: ${text}`);
  // 1.2.0-rc.1 → 1.2.0 would be older than a later rc; a bump always moves past the release.
  return `${v.major}.${v.minor}.${v.patch + 1}`;
}

/** What a merge makes: 1.2.3 → 1.3.0 (a pre-release moves past its release too: 1.3.0-rc.1 → 1.4.0). */
export function bumpMinor(text: string): string {
  const v = parseVersion(text);
  if (v === null) throw new Error(`not a version: ${text}`);
  return `${v.major}.${v.minor + 1}.0`;
}
