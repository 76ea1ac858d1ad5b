/**
 * The daemon's modules, in start order (stopped in reverse), and the one
 * place that wires a module to another's service (event conditions read
 * the state). Adding a namespace is one line here.
 */
import type { Module, ModuleContext } from "../core/module.js";
import { compositionModule } from "./composition/composition.js";
import { eventModule } from "./event/event.js";
import { monitorModule } from "./monitor/monitor.js";
import { stateModule } from "./state/state.js";
import { systemModule } from "./system/system.js";

export function createModules(ctx: ModuleContext): Module[] {
  const state = stateModule(ctx);
  return [systemModule(ctx), monitorModule(ctx), state, eventModule(ctx, state.view), compositionModule(ctx)];
}
