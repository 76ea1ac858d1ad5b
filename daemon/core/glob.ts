/**
 * Event-name globs over colon segments (pure): `*` matches within one
 * segment, a whole `**` segment matches any number of remaining segments.
 * `composition:*` matches `composition:fork`; `orchestration:**` matches
 * `orchestration:run:done`; `**` alone matches everything.
 */
export type NameMatcher = (name: string) => boolean;

export function compileGlob(pattern: string): NameMatcher {
  if (pattern === "**") return () => true;
  if (!pattern.includes("*")) return (name) => name === pattern;
  const segments = pattern.split(":");
  let source = "";
  segments.forEach((segment, index) => {
    if (segment === "**") {
      // Zero or more whole segments, together with the colons around them.
      source += index === 0 ? "(?:[^:]+:)*" : "(?::[^:]+)*";
      return;
    }
    const sep = index === 0 || (index === 1 && segments[0] === "**") ? "" : ":";
    source += sep + segment.split("*").map(escapeRegExp).join("[^:]*");
  });
  const regex = new RegExp(`^${source}$`);
  return (name) => regex.test(name);
}

export function compileGlobs(patterns: readonly string[]): NameMatcher {
  const matchers = patterns.map(compileGlob);
  return (name) => matchers.some((m) => m(name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
