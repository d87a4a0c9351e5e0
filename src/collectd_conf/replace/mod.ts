/**
 * collectd.conf replacement (lua-collectd-monitor's config-replacer, done outside collectd): a
 * `{task_id, config}` message is vetted (../mod.ts), checked by collectd, swapped in atomically,
 * collectd restarted and confirmed by a new pid and fresh metrics (the probe), else rolled back.
 * A journal in StateDir lets a restarted agent finish a replacement it left in the middle.
 * @module
 */
export {
  type CheckConfig,
  type CheckOutcome,
  type Clock,
  type CollectdServiceSettings,
  type ConfigReplacer,
  type ConfigReplacerOptions,
  createConfigReplacer,
  type Exec,
  type ExecOutcome,
  type MetricsSeen,
  type ReplaceTask,
  resultRecord,
  type RunLike,
} from "./replace.ts";
export { createMetricsProbe } from "./probe.ts";
export {
  BINARY_CANDIDATES,
  CONFIG_CANDIDATES,
  DEFAULT_PID_FILES,
  PS_CANDIDATES,
  SYSTEMCTL_CANDIDATES,
} from "./_paths.ts";
