/** The rule host as its own entry (tests start it directly instead of `main.ts __rule-host`). */
import { runRuleHost } from "../../src/evaluator/host.ts";

Deno.exit(await runRuleHost());
