/**
 * `agent status` as an operator runs it: the agent started by scripts/agent (the daemon's derived
 * flags), `scripts/agent status` (the operator's), a real collectd 5.12 sending to the agent.
 * The installed package's path is in tests/acceptance/installed_agent_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type RunningReport, StatusReportSchema } from "../../src/status/mod.ts";
import { startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";
import { type CollectdPeer, startCollectd } from "../_helpers/collectd_peer.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HOST = "status-host";

/** Fires for collectd's load values of HOST; spins forever on its memory values. */
const RULES = {
  "load.ts": `export const metrics = {
  load_seen(m: { host: string; plugin: string }) {
    if (m.host === "${HOST}" && m.plugin === "load") return { service: "repair", command: "run" };
  },
};\n`,
  "spin.ts": `export const metrics = {
  spin(m: { plugin: string }) {
    if (m.plugin === "memory") for (;;) { /* a rule that never returns */ }
  },
};\n`,
};

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-status-" });
  const port = freeUdpPort();
  await Deno.mkdir(join(dir, "rules"));
  for (const [name, text] of Object.entries(RULES)) {
    await Deno.writeTextFile(join(dir, "rules", name), text);
  }
  const config = join(dir, "config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      StateDir: "state",
      RulesDir: "rules",
      Listen: [{ Host: "127.0.0.1", Port: port }],
      RuleMaxOverruns: 2,
      Services: {
        repair: { commands: { run: { Argv: ["/bin/sh", "-c", "echo repaired"], Cooldown: 600 } } },
      },
    }),
  );
  return { dir, port, config };
}

/** `scripts/agent ARGS` (the operator's flags for `status`, `maintenance`). */
async function cli(args: string[]) {
  const out = await new Deno.Command(join(ROOT, "scripts/agent"), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** Polls `status --json` until `ready` holds; returns that report. */
async function statusUntil(
  config: string,
  what: string,
  ready: (r: RunningReport) => boolean,
  ms = 60_000,
): Promise<RunningReport> {
  const end = Date.now() + ms;
  let last = "";
  for (;;) {
    const r = await cli(["status", "--json", "--config", config]);
    last = r.stdout + r.stderr;
    if (r.code === 0) {
      const report = StatusReportSchema.parse(JSON.parse(r.stdout));
      if (report.running && ready(report)) return report;
    }
    if (Date.now() > end) throw new Error(`status never showed ${what}; last:\n${last}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

Deno.test("status on scripts/agent: a real collectd fires a rule (condition and run shown), a looping rule shows as disabled with its reason, maintenance shows; stopped, it says so and exits 6", async () => {
  const t = await setup();
  const agent = startAgent(["--config", t.config]);
  let peer: CollectdPeer | undefined;
  try {
    await agent.waitFor(/started in local-only mode/, 30_000);
    peer = await startCollectd({ port: t.port, hostname: HOST });
    const r = await statusUntil(
      t.config,
      "the load condition, its run and the disabled spin handler",
      (r) =>
        r.rules.firing.some((f) => f.handler === "load.ts::metric::load_seen") &&
        r.recovery.last_runs.some((x) => x.service === "repair") &&
        r.rules.disabled.length > 0,
    );
    assert.equal(r.agent.mode, "local-only");
    assert.deepEqual(r.intake.listeners, [`127.0.0.1:${t.port}`]);
    assert.ok(r.intake.packets_total > 0 && r.intake.last_packet_age_s !== null);
    assert.deepEqual(
      r.rules.firing.find((f) => f.handler.startsWith("load.ts"))?.key,
      `${HOST}/load/load`,
    );
    const run = r.recovery.last_runs.find((x) => x.service === "repair")!;
    assert.deepEqual([run.command, run.trigger, run.trigger_name, run.code, run.message], [
      "run",
      "rule",
      "load.ts::metric::load_seen",
      0,
      "repaired",
    ]);
    assert.deepEqual(r.rules.disabled.map((d) => [d.name, d.kind]), [[
      "spin.ts::metric::spin",
      "handler",
    ]]);
    assert.match(r.rules.disabled[0]!.reason, /ran past the 50 ms budget .*\(offence 2 of 2\)/);
    assert.match(r.rules.disabled[0]!.enable, /fix .*rules\/spin\.ts and save it/);
    assert.ok(r.rules.host_restarts >= 2);

    // the text an operator reads (not a terminal: plain)
    const text = await cli(["status", "--config", t.config]);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(!text.stdout.includes("\x1b["), "no escape codes off a terminal");
    assert.match(text.stdout, /^edge-agent .*: running since .*, pid \d+$/m);
    assert.match(text.stdout, new RegExp(`load\\.ts::metric::load_seen  ${HOST}/load/load$`, "m"));
    assert.match(text.stdout, /^ {2}disabled: spin\.ts::metric::spin \(handler\): ran past/m);
    assert.match(text.stdout, /rule load\.ts::metric::load_seen {2}repair\/run {2}code 0 /);

    // on a terminal (a pty from script(1)): aligned, coloured unless NO_COLOR
    const env = Object.fromEntries(
      ["PATH", "HOME", "EDGE_AGENT_DENO"].flatMap((k) => {
        const v = Deno.env.get(k);
        return v === undefined ? [] : [[k, v]];
      }),
    );
    const tty = await new Deno.Command("/usr/bin/script", {
      args: ["-qec", `${join(ROOT, "scripts/agent")} status --config ${t.config}`, "/dev/null"],
      clearEnv: true,
      env,
      stdout: "piped",
    }).output();
    const screen = new TextDecoder().decode(tty.stdout);
    assert.equal(tty.code, 0, screen);
    assert.ok(screen.includes("\x1b[32medge-agent "), screen);
    const ESC = String.fromCharCode(27);
    const uncoloured = screen.replace(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");
    assert.match(uncoloured, /^ {2}mode {11}local-only/m);

    const on = await cli([
      "maintenance",
      "on",
      "--for",
      "1h",
      "--reason",
      "status test",
      "--config",
      t.config,
    ]);
    assert.equal(on.code, 0, on.stderr);
    const during = await cli(["status", "--config", t.config]);
    assert.match(
      during.stdout,
      /^ {2}maintenance: ON until .*\(in 59 min\), reason: status test, by cli$/m,
    );

    const code = (await agent.stop()).code;
    assert.equal(code, 0, agent.lines.join("\n"));
    const stopped = await cli(["status", "--config", t.config]);
    assert.equal(stopped.code, 6, stopped.stdout + stopped.stderr);
    assert.match(stopped.stdout, /^edge-agent: NOT RUNNING \(no status socket .*status\.sock\)$/m);
    assert.match(stopped.stdout, /rule load\.ts::metric::load_seen {2}repair\/run {2}code 0 /);
    assert.match(stopped.stdout, /^ {2}maintenance: ON until .*reason: status test/m);
    const json = await cli(["status", "--json", "--config", t.config]);
    assert.equal(json.code, 6);
    const report = StatusReportSchema.parse(JSON.parse(json.stdout));
    assert.equal(report.running, false);
    assert.deepEqual(
      agent.lines.filter((l) =>
        /NotCapable|Requires .* access/.test(l) && !/receive buffer/.test(l)
      ),
      [],
    );
  } finally {
    await peer?.stop();
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("status after the agent was killed reads the socket it left as not running; the next agent takes the socket over", async () => {
  const t = await setup();
  let agent = startAgent(["--config", t.config]);
  try {
    await agent.waitFor(/started in local-only mode/, 30_000);
    assert.equal((await cli(["status", "--config", t.config])).code, 0);
    agent.kill("SIGKILL");
    await agent.status;
    const dead = await cli(["status", "--config", t.config]);
    assert.equal(dead.code, 6, dead.stdout + dead.stderr);
    assert.match(
      dead.stdout,
      /NOT RUNNING \(nothing listens on .*status\.sock \(left by an agent that did not stop cleanly\)\)/,
    );
    agent = startAgent(["--config", t.config]);
    await agent.waitFor(/started in local-only mode/, 30_000);
    const again = await cli(["status", "--config", t.config]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(t.dir, { recursive: true });
  }
});
