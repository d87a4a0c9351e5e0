/** Fault: a recovery command that hangs (killed at its Timeout) and one that fails. */
import { Code } from "../../../src/model/mod.ts";
import type { SoakContext } from "../context.ts";

/** Sends `hang/run` (expects the timeout code) and `fail/run` (expects exit status 3). */
export function badCommands(ctx: SoakContext): void {
  ctx.say("commands: hang/run and fail/run");
  ctx.operator.send("hang", "run", Code.TIMEOUT);
  ctx.operator.send("fail", "run", 3);
}
