/** Commit messages of the store: a subject line and `Key: value` trailers (SPEC §4.2), and back (pure). */

export interface CommitMessage {
  subject: string;
  trailers: Record<string, string>;
}

export function formatCommitMessage({ subject, trailers }: CommitMessage): string {
  const lines = Object.entries(trailers)
    // A trailer value is one line: newlines in a reason would end the trailer block.
    // Trimmed, and left out when empty: a bare `Key:` line would make the whole block unreadable.
    .map(([key, value]) => [key, oneLine(value).trim()] as const)
    .filter(([, value]) => value !== "")
    .map(([key, value]) => `${key}: ${value}`);
  return `${oneLine(subject)}\n\n${lines.join("\n")}\n`;
}

/** Line breaks become spaces; other control characters (a NUL cannot even be passed to git) become U+FFFD. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
  return text.replace(/\s*\n\s*/g, " ").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\ufffd");
}

/** Trailers of the message's last paragraph; {} when it has none. */
export function parseTrailers(message: string): Record<string, string> {
  const paragraphs = message.trim().split(/\n\s*\n/);
  if (paragraphs.length < 2) return {};
  const trailers: Record<string, string> = {};
  for (const line of paragraphs[paragraphs.length - 1]!.split("\n")) {
    const match = /^([A-Za-z][A-Za-z0-9-]*): (.*)$/.exec(line.trim());
    if (match === null) return {};
    trailers[match[1]!] = match[2]!;
  }
  return trailers;
}
