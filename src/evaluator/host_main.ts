/**
 * Entry of the rule host's own bundle (`scripts/bundle` writes it beside the agent's, see
 * {@linkcode defaultHostCommand}): the rule host process loads only the modules it runs, not the
 * agent's 3 MB (mqtt, zod's locales, sucrase, the CLI), which it would hold in memory for good.
 * @module
 */
import { runRuleHost } from "./host.ts";

if (import.meta.main) Deno.exit(await runRuleHost());
