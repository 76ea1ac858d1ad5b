/**
 * Colour for text output (pure): ANSI on a terminal, nothing otherwise.
 * Only ever wraps whole tokens, so what a test or a reader greps for
 * (`error [not_found]`, `+ name: x`) stays one contiguous piece of text.
 */
export interface Paint {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => (text === "" ? text : `\u001b[${open}m${text}\u001b[${close}m`);

export const COLOURED: Paint = { red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39), cyan: ansi(36, 39), bold: ansi(1, 22) };

const same = (text: string) => text;
export const PLAIN: Paint = { red: same, green: same, yellow: same, cyan: same, bold: same };

/**
 * Colour on a terminal unless turned off: `NO_COLOR` set to anything but
 * the empty string (no-color.org), or `--no-color`.
 */
export function paintFor(isTty: boolean, env: Readonly<Record<string, string | undefined>>, noColor: boolean): Paint {
  return isTty && !noColor && (env.NO_COLOR ?? "") === "" ? COLOURED : PLAIN;
}
