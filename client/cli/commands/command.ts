/** One row of the `pat` table (commands.ts): how a verb is written, explained and run. */
import type { Cli } from "../context.js";
import type { Paint } from "../paint.js";
import type { ErrorLike } from "../render.js";

export interface Command {
  readonly usage: string;
  readonly summary: string;
  /** On/off options: they never take the next word as their value. */
  readonly flags?: readonly string[];
  /** Each option the verb takes, as written and what it does: `pat help VERB` and `pat VERB --help` list them. */
  readonly options?: readonly (readonly [option: string, explanation: string])[];
  /** More lines for `pat help VERB`, after the options. */
  readonly details?: readonly string[];
  /** Command lines to copy, for `pat help VERB` (at least one). */
  readonly examples: readonly string[];
  run(cli: Cli): Promise<number>;
  /** How a daemon error is printed on stderr (default: renderError). */
  readonly renderError?: (error: ErrorLike, paint: Paint) => string;
  /** Prints JSON when stdout is not a terminal (pat send, pat call: what agents parse); every other command prints text unless -o says otherwise. */
  readonly jsonWhenPiped?: true;
}
