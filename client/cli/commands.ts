/**
 * The `pat` verbs: one row each, mapping arguments to an event and a
 * rendering. The rows live in commands/, one file per family; a new verb is
 * one row there. This table's order is the order `pat --help` lists them in.
 */
import type { Command } from "./commands/command.js";
import { DAEMON_COMMANDS } from "./commands/daemon.js";
import { EVENT_COMMANDS } from "./commands/events.js";
import { EVOLUTION_COMMANDS } from "./commands/evolution.js";
import { helpCommands } from "./commands/help.js";
import { LABEL_COMMANDS } from "./commands/labels.js";
import { LINT_COMMANDS } from "./commands/lint.js";
import { PROMOTE_COMMANDS } from "./commands/promote.js";
import { SELECTION_COMMANDS } from "./commands/selection.js";
import { STORE_COMMANDS } from "./commands/store.js";
import { SYNC_COMMANDS } from "./commands/sync.js";

export type { Command };

const { send, call, handle, mcp, discover, watch } = EVENT_COMMANDS;
const { help, version, completion } = helpCommands(() => COMMANDS);

export const COMMANDS: Readonly<Record<string, Command>> = {
  ...DAEMON_COMMANDS,
  send,
  call,
  handle,
  mcp,
  discover,
  help,
  version,
  watch,
  ...STORE_COMMANDS,
  ...EVOLUTION_COMMANDS,
  ...LABEL_COMMANDS,
  ...PROMOTE_COMMANDS,
  ...SELECTION_COMMANDS,
  ...SYNC_COMMANDS,
  ...LINT_COMMANDS,
  completion,
};
