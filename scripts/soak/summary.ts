/** The soak's summary as people read it. */
import type { SoakSummary } from "../soak.js";

export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
}

export function formatSummary(s: SoakSummary): string {
  const out: string[] = [];
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  out.push(`patternd soak — ${s.ok ? "PASSED" : "FAILED"} (seed ${s.seed})`);
  out.push(`  run            ${s.seconds} s of clients and kills, ${s.clients} clients, ${s.wallSeconds} s wall`);
  out.push(`  kills          ${s.kills} SIGKILLs (${s.startupKills} during a start-up), ${s.restarts} restarts; restart to answering: median ${s.restartMs.median ?? "-"} ms, max ${s.restartMs.max ?? "-"} ms`);
  out.push(`  acknowledged   ${total(s.acknowledged)}: ${formatCounts(s.acknowledged)}`);
  out.push(`  unknown        ${total(s.unknown)}${total(s.unknown) > 0 ? `: ${formatCounts(s.unknown)}` : ""} (connection cut by a kill before the reply)`);
  out.push(`  merge_conflict ${s.mergeConflicts} (legitimate answers, nothing written)`);
  const late = s.schedules.latenessP50Ms === null ? "" : `; fire lateness p50 ${s.schedules.latenessP50Ms} ms, max ${s.schedules.latenessMaxMs} ms (downtime included)`;
  const unverifiable = s.schedules.unverifiable > 0 ? `, ${s.schedules.unverifiable} unverifiable (due during a start-up that was killed, or just before a kill)` : "";
  out.push(`  schedules      ${s.schedules.emitted} emits, ${s.schedules.firings} firings${unverifiable}, ${s.pushes} pushes received${late}`);
  out.push(`  decisions      ${s.decisions.enabled ? `${s.decisions.acknowledged} acknowledged, ${s.decisions.unknown} unknown` : "composition:track_decision not available"}`);
  if (s.fuzz !== null) {
    const f = s.fuzz;
    out.push(`  fuzz           ${f.seconds.toFixed(1)} s on ${f.connections} connections: ${f.lines} lines sent, ${f.replies} replies checked (${f.okReplies} ok; ${formatCounts(f.byCode)})`);
    out.push(`                 ${f.tooLarge.sent} over-long line(s), ${f.halfLinesClosed} half lines then close; well-formed client ${f.wellFormed.ok}/${f.wellFormed.requests} ok`);
  }
  const d = s.diskFull;
  out.push(
    d.skipped !== null
      ? `  disk full      skipped: ${d.skipped}`
      : `  disk full      ${d.filledMiB} MiB filler for ${d.seconds} s; refused ${total(d.refused)}${total(d.refused) > 0 ? `: ${formatCounts(d.refused)}` : ""}; ${d.acknowledgedAfter} acknowledged after the free`,
  );
  const peak = s.rssMiB.samples.length === 0 ? "" : ` (peak ${Math.max(...s.rssMiB.samples)} MiB; each second of the fuzz: ${s.rssMiB.samples.join(" ")})`;
  out.push(`  RSS            ${s.rssMiB.beforeFuzz ?? "-"} MiB before fuzz, ${s.rssMiB.afterFuzz ?? "-"} MiB after, ${s.rssMiB.end ?? "-"} MiB at the end${peak}`);
  const logged = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([msg, n]) => `${n}× ${msg}`)
      .join("; ") || "none";
  out.push(`  daemon.log     errors: ${logged(s.daemonLog.errors)}`);
  out.push(`                 warnings: ${logged(s.daemonLog.warnings)}`);
  const failed = s.invariants.filter((i) => !i.ok).length;
  out.push(`  invariants     ${s.invariants.length} checked, ${failed} failed`);
  for (const i of s.invariants) {
    const status = i.skipped === true ? "SKIPPED" : i.ok ? "ok" : "FAILED";
    out.push(`    ${status.padEnd(7)} ${i.name} — checked ${i.checked}: ${i.detail}`);
    for (const f of i.failures) out.push(`              ! ${f}`);
  }
  if (s.homeKept) out.push(`  home kept for inspection: ${s.home}`);
  return out.join("\n");
}
