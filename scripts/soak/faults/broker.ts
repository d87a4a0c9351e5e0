/** Fault: the broker the agent is on is SIGKILLed with a command in flight, then restarted. */
import { pause, type SoakContext } from "../context.ts";

/** Kills the active broker (A when none is known), waits `downMs`, starts it again. */
export async function killActiveBroker(ctx: SoakContext, downMs: number, command: () => void) {
  const i = ctx.brokers.active() ?? 0;
  command(); // a command in flight while the broker dies
  await pause(20);
  ctx.say(`broker: SIGKILL broker-${"ab"[i]} (the agent's), back in ${downMs} ms`);
  await ctx.brokers.kill(i);
  ctx.faults.brokerKills++;
  await pause(downMs);
  await ctx.brokers.start(i);
}
