/**
 * Types for edge-agent rule files. Import them type-only (type imports are removed when a rule
 * loads), and let `satisfies` type the handlers' parameters:
 *
 * ```ts
 * import type { MetricHandlers } from "./edge-agent.d.ts";
 * export const metrics = {
 *   low_memory(metric, ctx) { ... },
 * } satisfies MetricHandlers;
 * ```
 *
 * A rule file exports `metrics` and/or `notifications`: one handler function or an object of
 * named handler functions. Files starting with `_` are helpers that rules import
 * (`import { LIMIT } from "./_limits.ts"`); nothing outside this directory can be imported.
 */

/** A collectd data source type. */
export type DsType = "counter" | "gauge" | "derive" | "absolute";

/** One collectd value list (the Lua plugin's metric table). Times are seconds. */
export interface Metric {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  interval: number;
  /** A bigint only for a counter beyond 2^53. */
  values: (number | bigint)[];
  dstypes: DsType[];
  dsnames: string[];
  /** Per-second rates of COUNTER/DERIVE values; null for gauges and the first sample. */
  rates: (number | null)[];
}

/** collectd severities: 1 failure, 2 warning, 4 okay. */
export type Severity = 1 | 2 | 4;

/** One collectd notification (never one of the agent's own: those are not passed to rules). */
export interface Notification {
  host: string;
  plugin: string;
  plugin_instance: string;
  type: string;
  type_instance: string;
  time: number;
  severity: Severity;
  message: string;
}

/** Run command `command` of service `service` (both from config.json's Services). */
export interface Action {
  service: string;
  command: string;
  /** Another agent's host name (central mode, over MQTT). */
  host?: string;
}

/** What a handler returns: nothing (no action), one action, or several. */
export type HandlerResult = Action | Action[] | null | undefined | void | false;

/** Options of {@linkcode Context.sustained}. */
export interface SustainedOptions {
  /** Consecutive samples the condition must hold (default 1, or 0 when `seconds` is given). */
  samples?: number;
  /** Seconds (of sample time) the condition must hold. */
  seconds?: number;
  /** Clear only when this holds (a hysteresis band); default: when `condition` is false. */
  clear?: boolean;
  /** Consecutive clearing samples needed to clear (default 1). */
  clearSamples?: number;
  /** Seconds the clearing must last. */
  clearSeconds?: number;
  /** Names the helper when calls are not always made in the same order. */
  id?: string;
}

/**
 * The second argument of every handler. State lives per handler (`state`) and per handler and
 * series (`series`, the helpers); it must be plain JSON-able data. It survives rule reloads and
 * restarts of the sandbox. Time is the sample's own time, so replays run on recorded time.
 */
export interface Context<S extends object = Record<string, unknown>> {
  /** `file.ts::metric::name`. */
  readonly handler: string;
  /** The series: `host/plugin-plugin_instance/type-type_instance`. */
  readonly key: string;
  /** The sample's time (seconds). */
  readonly time: number;
  /** This handler's own state (starts as `{}`). */
  readonly state: Partial<S>;
  /** This handler's state for the current series (starts as `{}`). */
  readonly series: Record<string, unknown>;
  /**
   * A latch: true once `condition` has held for `samples` consecutive samples and/or `seconds`,
   * and stays true until it has cleared. While it is true the handler's fired state is held
   * (no `cleared` event), so "fire, then stay quiet until it has recovered" is one line.
   */
  sustained(condition: boolean, options?: SustainedOptions): boolean;
  /** How many samples in a row `condition` has held (0 when it does not hold now). */
  consecutive(condition: boolean, options?: { id?: string }): number;
  /**
   * Average per-second increase of a counter `value` over the last `seconds` (default 60) of
   * samples; null until two samples are in the window or after the counter went down.
   */
  rate(
    value: number | bigint | null | undefined,
    options?: { seconds?: number; id?: string },
  ): number | null;
}

export type MetricHandler<S extends object = Record<string, unknown>> = (
  metric: Metric,
  ctx: Context<S>,
) => HandlerResult;
export type NotificationHandler<S extends object = Record<string, unknown>> = (
  notification: Notification,
  ctx: Context<S>,
) => HandlerResult;

/**
 * A named handler that says which items it reads: it is called only for items of these plugins
 * (and types); the agent skips it for every other item without calling it.
 */
export interface Declared<H> {
  /** A plugin name, or a list of them (at most 64); omitted: every plugin. */
  plugin?: string | readonly string[];
  /** A type name, or a list of them (at most 64); omitted: every type. */
  type?: string | readonly string[];
  handle: H;
}

/** The `metrics` export: one handler or named handlers. */
export type MetricHandlers =
  | MetricHandler
  | Record<string, MetricHandler | Declared<MetricHandler>>;
/** The `notifications` export: one handler or named handlers. */
export type NotificationHandlers =
  | NotificationHandler
  | Record<string, NotificationHandler | Declared<NotificationHandler>>;
