/**
 * The MQTT channel + real executor in a separate process (so a test can SIGKILL it).
 * Usage: deno run -A tests/remote/_agent_child.ts CONFIG.json — prints "connected <broker>"
 * once connected, then runs until killed.
 */
import { loadConfig } from "../../src/config/mod.ts";
import { startTestAgent } from "../_helpers/channel.ts";

const { config } = await loadConfig(Deno.args[0]!);
const agent = await startTestAgent(config);
const timer = setInterval(() => {
  if (agent.channel.connected) {
    console.log(`connected ${agent.channel.broker}`);
    clearInterval(timer);
  }
}, 10);
