/**
 * `pat reload`: the store's account, every file once (pure): how many
 * patterns are indexed, each invalid file with its issues, the files not
 * indexed grouped by reason, and the warnings of indexed files.
 */

export interface ReloadResult {
  indexed: number;
  invalid: readonly { path: string; issues: readonly { path: string; message: string }[] }[];
  ignored: readonly { path: string; reason: string; message: string; target?: string }[];
  warnings?: readonly { path: string; message: string }[];
}

export function renderReload(result: ReloadResult): string {
  const warnings = result.warnings ?? [];
  const lines = [
    `${result.indexed} indexed, ${result.invalid.length} invalid, ${result.ignored.length} not indexed, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}`,
  ];
  if (result.invalid.length > 0) {
    lines.push("", "invalid (the last good version, if any, keeps serving):");
    for (const file of result.invalid) {
      for (const issue of file.issues) lines.push(`  ${file.path}${issue.path === "" ? "" : ` at ${issue.path}`}: ${issue.message}`);
    }
  }
  const reasons = new Map<string, { message: string; paths: string[] }>();
  for (const item of result.ignored) {
    const group = reasons.get(item.reason) ?? { message: item.message, paths: [] };
    group.paths.push(item.target === undefined ? item.path : `${item.path} -> ${item.target}`);
    reasons.set(item.reason, group);
  }
  for (const [reason, group] of [...reasons].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push("", `not indexed, ${reason} (${group.paths.length}): ${reason === "unsafe_path" ? "a symbolic link, never followed" : group.message}`);
    for (const path of group.paths) lines.push(`  ${path}`);
  }
  if (warnings.length > 0) {
    lines.push("", "warnings (indexed and served):");
    for (const warning of warnings) lines.push(`  ${warning.path}: ${warning.message}`);
  }
  return lines.join("\n");
}
