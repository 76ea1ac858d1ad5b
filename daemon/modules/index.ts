/** The daemon's modules, in start order (stopped in reverse). Adding a namespace is one line here. */
import type { ModuleFactory } from "../core/module.js";
import { monitorModule } from "./monitor/monitor.js";
import { systemModule } from "./system/system.js";

export const MODULES: readonly ModuleFactory[] = [systemModule, monitorModule];
