import type { Action } from "./action.ts";

/**
 * What the rule stage tells the rest of the agent. Handlers are named
 * `file::metric::name` / `file::notification::name`.
 *
 * - `fired`: the handler returned one or more actions for the series `key`
 *   (`host/plugin-plugin_instance/type-type_instance`, collectd's identifier).
 * - `cleared`: a handler that had fired for `key` now reports its condition gone (it was evaluated
 *   on the same series and returned nothing, and no latch of its context holds it active). The
 *   executor's closed loop uses fired/cleared to tell whether a repair worked. `removed`: the
 *   handler itself went away (its file was changed or deleted) while it had fired for `key`.
 */
export type RuleEvent =
  | { kind: "fired"; handler: string; key: string; actions: Action[]; time: number }
  | { kind: "cleared"; handler: string; key: string; time: number; removed?: true };

/** Plugin name the agent uses for its own collectd notifications (rules never see these). */
export const AGENT_PLUGIN = "edge-agent";
