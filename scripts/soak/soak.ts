/**
 * The soak and fault-injection suite: collectd 5.12 → the agent, two mosquitto brokers, an
 * operator sending commands, example rules firing, while faults are injected (malformed and
 * badly signed floods, broker kills, agent SIGKILL mid-command, looping/broken rule files, a
 * hanging and a failing command, a trigger burst against a cooldown). Prints a table of checks;
 * exits 1 when one fails.
 *
 *   scripts/deno run -A scripts/soak/soak.ts --minutes 20
 *   scripts/deno run -A scripts/soak/soak.ts --seconds 60 --faults commands,flood,broker --keep
 *
 * Options: --minutes N | --seconds N (default 20 min); --faults a,b (default all of commands,
 * flood, broker, agent-kill, rules); --flood-rate N bad datagrams/s (2000); --agent-kill-every N
 * cycles of 60 s (1); --resend-after N s without a result before the operator re-sends (30);
 * --flood-loss-limit F (0.1: highest loss of valid values during floods); --keep (leave the
 * temp dir with every log); --json (the rows as JSON too).
 */
import { parseArgs } from "node:util";
import { type FaultName, FAULTS, runSoak } from "./run.ts";
import { allPassed, renderTable } from "./table.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string" },
    seconds: { type: "string" },
    faults: { type: "string" },
    "flood-rate": { type: "string" },
    "agent-kill-every": { type: "string" },
    "resend-after": { type: "string" },
    "flood-loss-limit": { type: "string" },
    keep: { type: "boolean" },
    json: { type: "boolean" },
  },
});
const seconds = values.seconds ? Number(values.seconds) : Number(values.minutes ?? "20") * 60;
const faults = values.faults === undefined
  ? [...FAULTS]
  : values.faults.split(",").filter((f) => f !== "");
for (const f of faults) {
  if (!(FAULTS as readonly string[]).includes(f)) {
    console.error(`soak: unknown fault "${f}" (known: ${FAULTS.join(", ")})`);
    Deno.exit(2);
  }
}
if (!(seconds > 0)) {
  console.error("soak: --minutes/--seconds must be a positive number");
  Deno.exit(2);
}
const report = await runSoak({
  seconds,
  faults: faults as FaultName[],
  ...(values["flood-rate"] ? { floodRate: Number(values["flood-rate"]) } : {}),
  ...(values["agent-kill-every"] ? { agentKillEvery: Number(values["agent-kill-every"]) } : {}),
  ...(values["resend-after"] ? { resendAfterS: Number(values["resend-after"]) } : {}),
  ...(values["flood-loss-limit"] ? { floodLossLimit: Number(values["flood-loss-limit"]) } : {}),
  keep: values.keep ?? false,
});
console.log(
  `\nedge-agent soak: ${(seconds / 60).toFixed(1)} min, faults: ${faults.join(", ") || "none"}`,
);
console.log(renderTable(report.rows));
if (values.keep) console.log(`logs and state kept in ${report.dir}`);
if (values.json) console.log(JSON.stringify(report.rows));
Deno.exit(allPassed(report.rows) ? 0 : 1);
