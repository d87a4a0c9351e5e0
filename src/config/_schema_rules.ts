import { z } from "zod";

/** Settings of the rule stage. */
export const rulesKeys = {
  /** Directory of `*.ts` rule files. Default: `rules` (relative to the config file). */
  RulesDir: z.string().min(1).optional(),
  /** lua-collectd-monitor's name for the rules directory (alias of RulesDir). */
  LocalMonitorConfigDir: z.string().min(1).optional(),
  /**
   * Time budget, in milliseconds, of one batch of values in the rule sandbox. A handler still
   * running when it expires is stopped (the sandbox process is killed and restarted).
   */
  RuleBudgetMs: z.number().int().min(1).max(60_000).default(50),
  /** Budget overruns after which a rule handler is disabled until its file changes or SIGHUP. */
  RuleMaxOverruns: z.number().int().min(1).max(1000).default(3),
};
