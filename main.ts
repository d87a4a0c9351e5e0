/**
 * The `agent` entry point: parse the command line and run the chosen command
 * (`agent [run] --config FILE`, `agent check-config`, ...). See `agent --help`.
 *
 * The sandboxed rule host (`agent __rule-host`, started by the agent itself) loads only its own
 * modules: restarting it after a rule overran its budget is then ~0.2 s instead of ~0.7 s.
 * @module
 */
if (import.meta.main) {
  if (Deno.args[0] === "__rule-host") {
    const { runRuleHost } = await import("./src/evaluator/host.ts");
    Deno.exit(await runRuleHost());
  }
  const { main } = await import("./src/cli/mod.ts");
  Deno.exit(await main(Deno.args));
}
