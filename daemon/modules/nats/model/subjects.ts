/**
 * Event names ↔ NATS subjects (pure, issue 19). An event `a:b.c:d` is
 * published on `patternd.a.b%2Ec.d`: each colon segment is one subject
 * token. A `.` inside a segment would split it into two tokens and make
 * `a.b:c` and `a:b:c` the same subject, so it is written `%2E` (event names
 * never hold `%`, so the mapping goes both ways); the name grammar allows no
 * other character a subject token forbids (whitespace, `*`, `>`).
 */

/** Subjects of exported events: `patternd.<event with : → .>`. */
export const EVENT_PREFIX = "patternd";
/** Subjects of calls to handlers: `patternd.call.<event with : → .>`. */
export const CALL_PREFIX = "patternd.call";

const EVENT_NAME = /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/;
const DOT_TOKEN = "%2E";

export function eventSubject(prefix: string, event: string): string {
  return `${prefix}.${event.split(":").map(encodeToken).join(".")}`;
}

/** The event a subject under `prefix` carries; undefined for a subject no event name maps to. */
export function subjectEvent(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const event = subject
    .slice(prefix.length + 1)
    .split(".")
    .map((token) => token.split(DOT_TOKEN).join("."))
    .join(":");
  return EVENT_NAME.test(event) ? event : undefined;
}

/**
 * The subjects that carry every event a glob matches. `exact` is true when
 * they carry nothing else (the glob's segments are names, `*` or a last
 * `**`); otherwise they are wider (a segment such as `ta*` becomes `*`, a
 * `**` before the end becomes `>`) and what arrives must be filtered with
 * the glob itself.
 */
export function globSubjects(prefix: string, glob: string): { subjects: string[]; exact: boolean } {
  const segments = glob.split(":");
  const tokens: string[] = [];
  let exact = true;
  for (const [index, segment] of segments.entries()) {
    if (segment === "**") {
      const last = index === segments.length - 1;
      if (!last) exact = false;
      // `**` also matches no segment at all: `task:**` matches `task` itself, which `task.>` does not.
      const subjects = [`${prefix}.${[...tokens, ">"].join(".")}`];
      if (last && tokens.length > 0) subjects.push(`${prefix}.${tokens.join(".")}`);
      if (!last) return { subjects: [`${prefix}.>`], exact: false };
      return { subjects, exact };
    }
    if (segment === "*") tokens.push("*");
    else if (segment.includes("*")) {
      tokens.push("*");
      exact = false;
    } else tokens.push(encodeToken(segment));
  }
  return { subjects: [`${prefix}.${tokens.join(".")}`], exact };
}

/**
 * One subscription per subject in `subjects`, chosen so that no message is
 * delivered twice: NATS delivers a message once per matching subscription,
 * so subjects another one covers are left out, and when two that remain
 * could still both match one message, the lot becomes `<prefix>.>` (the
 * daemon filters with the globs anyway).
 */
export function disjointSubjects(prefix: string, subjects: readonly string[]): string[] {
  const unique = [...new Set(subjects)];
  const kept = unique.filter((subject) => !unique.some((other) => other !== subject && covers(other, subject)));
  for (let i = 0; i < kept.length; i++) {
    for (let j = i + 1; j < kept.length; j++) if (overlap(kept[i]!, kept[j]!)) return [`${prefix}.>`];
  }
  return kept.sort();
}

/** Does every subject `b` matches also match `a`? (Both may hold `*` and a last `>`.) */
export function covers(a: string, b: string): boolean {
  const as = a.split(".");
  const bs = b.split(".");
  for (let i = 0; i < as.length; i++) {
    const token = as[i]!;
    if (token === ">") return i < bs.length;
    if (i >= bs.length) return false;
    const other = bs[i]!;
    if (other === ">") return false;
    if (token !== "*" && (other === "*" || token !== other)) return false;
  }
  return as.length === bs.length;
}

/** Could one subject match both `a` and `b`? */
export function overlap(a: string, b: string): boolean {
  const as = a.split(".");
  const bs = b.split(".");
  for (let i = 0; ; i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined || y === undefined) return x === y;
    if (x === ">" || y === ">") return true;
    if (x !== "*" && y !== "*" && x !== y) return false;
  }
}

function encodeToken(segment: string): string {
  return segment.includes(".") ? segment.split(".").join(DOT_TOKEN) : segment;
}
