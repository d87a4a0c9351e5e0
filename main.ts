/**
 * The `agent` entry point: parse the command line and run the chosen command
 * (`agent [run] --config FILE`, `agent check-config`, ...). See `agent --help`.
 * @module
 */
import { main } from "./src/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
