/** Fault: the rule file replaced by one that loops forever, then by a syntax error, then fixed. */
import { pause, type SoakContext } from "../context.ts";
import { BROKEN_RULE, GOOD_RULE, LOOPING_RULE } from "../setup.ts";

async function replace(path: string, text: string) {
  const tmp = `${path.replace(/\.ts$/, "")}.swap`; // not *.ts: the watcher sees only the rename
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Swaps the rule file: looping for `loopMs`, broken for `brokenMs`, then good again. */
export async function swapRules(ctx: SoakContext, loopMs: number, brokenMs: number) {
  ctx.say("rules: looping rule");
  await replace(ctx.layout.ruleFile, LOOPING_RULE);
  ctx.faults.ruleSwaps++;
  await pause(loopMs);
  ctx.say("rules: rule with a syntax error");
  await replace(ctx.layout.ruleFile, BROKEN_RULE);
  ctx.faults.ruleSwaps++;
  await pause(brokenMs);
  ctx.say("rules: fixed rule");
  await replace(ctx.layout.ruleFile, GOOD_RULE);
  ctx.faults.ruleSwaps++;
  ctx.faults.ruleFixedAt.push(Date.now());
}
