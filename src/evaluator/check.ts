import type { Config } from "../config/mod.ts";
import type { Logger } from "../model/mod.ts";
import { createEvaluator } from "./evaluator.ts";
import type { HostCommand } from "./_host_client.ts";
import type { RuleProblem } from "./_sources.ts";

/** Options of {@linkcode checkRules}. */
export interface CheckRulesOptions {
  services: Config["Services"];
  logger: Logger;
  hostCommand?: HostCommand;
}

/** What `agent check-config` reports about the rules directory. */
export interface RulesCheck {
  handlers: readonly string[];
  problems: readonly RuleProblem[];
}

/**
 * Loads every rule file of `rulesDir` in the sandbox, exactly as the agent would, and returns
 * the handlers that loaded and every problem (syntax, export shape, load errors).
 */
export async function checkRules(
  rulesDir: string,
  options: CheckRulesOptions,
): Promise<RulesCheck> {
  const ev = createEvaluator({
    rulesDir,
    typesDbText: "",
    services: options.services,
    logger: options.logger,
    onEvent: () => {},
    watch: false,
    logProblems: false,
    ...(options.hostCommand ? { hostCommand: options.hostCommand } : {}),
  });
  try {
    await ev.start();
    return { handlers: [...ev.handlers], problems: [...ev.problems] };
  } finally {
    await ev.stop();
  }
}
