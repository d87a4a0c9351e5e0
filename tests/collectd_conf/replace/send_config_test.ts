import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../../src/cli/mod.ts";
import { createConfigReplacer } from "../../../src/collectd_conf/replace/mod.ts";
import { createExecutor } from "../../../src/executor/mod.ts";
import { createCounters, ExitCode, type RunRecord } from "../../../src/model/mod.ts";
import { createMqttChannel } from "../../../src/remote/mod.ts";
import { until } from "../../_helpers/mqtt.ts";
import { PASSWORD, startMosquitto, USER } from "../../_helpers/mosquitto.ts";
import { channelConfig } from "../../_helpers/channel.ts";
import { captureLogger, CTL, openStand, SECRET, TIMEOUT_MS } from "./_stand.ts";

Deno.test("agent send-config replaces collectd.conf through mosquitto, the channel and the executor, and exits 0/4 by the result", async () => {
  const stand = await openStand("hostA");
  const broker = await startMosquitto();
  const stateDir = join(stand.dir, "agent-state");
  const log = join(stand.dir, "collectd.log");
  const ctl = (command: string) => ({
    Argv: ["/bin/sh", CTL, command, stand.conf, stand.pidFile, log],
  });
  const config = channelConfig(broker.address, stateDir, {
    Services: {
      collectd: {
        commands: { restart: ctl("restart"), start: ctl("start"), stop: ctl("stop") },
        ConfigPath: stand.conf,
        PIDPath: stand.pidFile,
        ReplaceTimeout: TIMEOUT_MS / 1000,
      },
    },
  });
  const logger = captureLogger([]);
  const counters = createCounters();
  const late: { report?: (r: RunRecord) => Promise<void> } = {};
  const executor = createExecutor(config.Services, {
    logger,
    counters,
    stateDir,
    reporters: [{ name: "mqtt", report: (r) => late.report!(r) }],
  });
  await executor.start();
  // The wiring asked of src/stages.ts: collectd commands run by the executor, labelled "cli"
  // so the MQTT reporter does not publish them as the config task's result.
  const replacer = createConfigReplacer({
    service: () => config.Services.collectd,
    stateDir,
    logger,
    counters,
    run: (command, task) =>
      executor.run({
        service: "collectd",
        command,
        trigger: { kind: "cli" },
        task_id: `${task.task_id}/collectd-${command}`,
      }),
    metricsSeen: stand.metricsSeen,
    pollMs: 100,
  });
  const channel = createMqttChannel(config, {
    logger,
    counters,
    stateDir,
    execute: (req) => executor.run(req),
    onConfigMessage: (m, sender) => replacer.handle(m, sender),
    status: () => ({ version: "test" }),
  });
  late.report = (r) => channel.reporter.report(r);
  await channel.start();
  const flags = [
    "--host",
    broker.address,
    "--user",
    USER,
    "--password",
    PASSWORD,
    "--topic",
    "cmd/edge1",
    "--result-topic",
    "result/edge1",
    "--qos",
    "1",
    "--timeout",
    "40",
  ];
  try {
    await until(() => channel.connected, "the agent to connect");
    const good = join(stand.dir, "good.conf");
    await Deno.writeTextFile(good, stand.render({ host: "hostB" }));
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
    const code = await main(["send-config", good, ...flags], io);
    assert.equal(code, ExitCode.OK, out.join(""));
    assert.match(out.join(""), /Received a result: .*"code":0/);
    assert.ok(!out.join("").includes(SECRET), "the config text is not printed");
    assert.match(await Deno.readTextFile(stand.conf), /Hostname "hostB"/);

    const broken = join(stand.dir, "broken.conf");
    await Deno.writeTextFile(broken, 'Hostname "hostC"\nfoobar\n');
    out.length = 0;
    assert.equal(await main(["send-config", broken, ...flags], io), ExitCode.REMOTE_FAILED);
    assert.match(out.join(""), /"code":8194/);
  } finally {
    await channel.stop();
    await executor.stop();
    await broker.stop();
    await stand.close();
  }
});
