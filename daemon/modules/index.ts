/**
 * The daemon's modules, in start order (stopped in reverse), and the one
 * place that wires a module to another's service (event conditions read
 * the state). Adding a namespace is one line here.
 */
import type { Module, ModuleContext } from "../core/module.js";
import { compositionModule } from "./composition/composition.js";
import { eventModule } from "./event/event.js";
import { handlerModule } from "./handler/handler.js";
import { monitorModule } from "./monitor/monitor.js";
import { natsModule } from "./nats/nats.js";
import { stateModule } from "./state/state.js";
import { systemModule } from "./system/system.js";

export function createModules(ctx: ModuleContext): Module[] {
  const state = stateModule(ctx);
  const handlers = handlerModule(ctx);
  const modules = [systemModule(ctx), monitorModule(ctx), state, handlers, eventModule(ctx, state.view, handlers.service), compositionModule(ctx)];
  // Last: its event source (calls to other daemons) is asked only after every local handler (issue 19).
  if (ctx.config.nats !== undefined) modules.push(natsModule(ctx, ctx.config.nats, handlers.service));
  return modules;
}
