/** Fault: the agent is SIGKILLed while a (slow) remote command runs, then restarted. */
import { Code } from "../../../src/model/mod.ts";
import { pause, type SoakContext } from "../context.ts";

/** Sends `slow/<command>`, waits until it started (its mark), SIGKILLs the agent, restarts it. */
export async function killAgentMidCommand(ctx: SoakContext, command: string): Promise<void> {
  // Killed mid-run, the result after the restart is "interrupted" (0x1009), never a second run.
  ctx.operator.send("slow", command, Code.INTERRUPTED);
  const until = Date.now() + 20_000;
  while (Date.now() < until && !ctx.signal.aborted) {
    const marks = await Deno.readTextFile(ctx.layout.markerFile).catch(() => "");
    if (marks.includes(` ${command} start `)) break;
    await pause(100);
  }
  if (Date.now() >= until) ctx.faults.notes.push(`slow/${command} never started before the kill`);
  ctx.say(`agent: SIGKILL while slow/${command} runs, then restart`);
  ctx.faults.agentKills++;
  await ctx.agent.killAndRestart(1000);
}
