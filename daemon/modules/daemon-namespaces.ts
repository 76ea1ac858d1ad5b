/**
 * SPEC §2's daemon-owned namespaces. A name there without a built-in event
 * is a typo or a spoof (composition:changed comes from the daemon), never a
 * free-form event, and no connected handler may claim one (issue 14).
 */
export const DAEMON_NAMESPACES: ReadonlySet<string> = new Set(["system", "event", "monitor", "state", "composition", "handler"]);
