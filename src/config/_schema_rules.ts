import { z } from "zod";

/** Settings of the rule stage. */
export const rulesKeys = {
  /** Directory of `*.ts` rule files. Default: `rules` (relative to the config file). */
  RulesDir: z.string().min(1).optional(),
  /** lua-collectd-monitor's name for the rules directory (alias of RulesDir). */
  LocalMonitorConfigDir: z.string().min(1).optional(),
};
