import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CollectdServiceSettings,
  createConfigReplacer,
  createMetricsProbe,
  type MetricsSeen,
  type RunLike,
} from "../../../src/collectd_conf/replace/mod.ts";
import { createCollectdChecker } from "../../../src/collectd_conf/replace/_collectd.ts";
import { pidFileFor, topLevelOption } from "../../../src/collectd_conf/replace/_paths.ts";
import { JOURNAL_FILE } from "../../../src/collectd_conf/replace/_journal.ts";
import {
  Code,
  createCounters,
  ExitCode,
  type Logger,
  type LogLevel,
  type Metric,
  type RunRecord,
} from "../../../src/model/mod.ts";
import { main } from "../../../src/cli/mod.ts";
import { decodePacket } from "../../../src/collectd/mod.ts";
import { createMqttChannel } from "../../../src/remote/mod.ts";
import { createExecutor } from "../../../src/executor/mod.ts";
import { until } from "../../mqtt/_helpers.ts";
import { PASSWORD, startMosquitto, USER } from "../../mqtt/_mosquitto.ts";
import { channelConfig } from "../../remote/_channel.ts";

const DATA = new URL("../../testdata/collectd_conf/replace_config/", import.meta.url).pathname;
const CTL = join(DATA, "collectdctl.sh");
const CTL_DAEMON = join(DATA, "collectdctl-daemon.sh");
const TEMPLATE = await Deno.readTextFile(join(DATA, "collectd.conf.in"));
const SECRET = "s3cret-" + crypto.randomUUID();
/** Long enough for a restarted collectd (Interval 1) to send its first packet. */
const TIMEOUT_MS = 8000;

// ---------------------------------------------------------------------------------------------
// A real collectd under a test "service manager", and a UDP listener standing in for the agent.

interface Stand {
  daemon: boolean;
  dir: string;
  conf: string;
  pidFile: string;
  port: number;
  render(o: { host: string; interval?: number; server?: string }): string;
  run(command: string): Promise<RunLike>;
  /** Newest time (ms) a value list (from `host`) arrived, or 0. */
  lastPacket(host?: string): number;
  /** What the agent's intake would be given: createMetricsProbe fed by decodePacket. */
  metricsSeen: MetricsSeen;
  /** The interval (s) of the newest value list from `host`. */
  interval(host: string): number | undefined;
  waitPacket(host: string, after: number, timeoutMs?: number): Promise<boolean>;
  pid(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * A collectd for one test. Default: `collectd -f` managed by collectdctl.sh, which writes the pid
 * file (PIDPath). `daemon`: plain `collectd -C` (it forks and writes its config's PIDFile itself,
 * and the start command exits 0 even when the daemon dies), managed by collectdctl-daemon.sh.
 */
async function openStand(host = "hostA", mode: { daemon?: boolean } = {}): Promise<Stand> {
  const dir = await Deno.makeTempDir({ prefix: "replace_config_" });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const last = new Map<string, number>();
  const intervals = new Map<string, number>();
  const probe = createMetricsProbe();
  const visitor = {
    metric(m: Metric) {
      probe.saw(m.host);
      last.set(m.host, Date.now());
      intervals.set(m.host, m.interval);
    },
    notification() {},
  };
  const receiving = (async () => {
    try {
      for await (const [bytes] of socket) decodePacket(bytes, visitor);
    } catch { /* closed */ }
  })();
  const conf = join(dir, "collectd.conf");
  const pidFile = join(dir, mode.daemon ? "collectd-daemon.pid" : "collectd.pid");
  const log = join(dir, "collectd.log");
  const render = (o: { host: string; interval?: number; server?: string }) =>
    TEMPLATE.replaceAll("{{SECRET}}", SECRET).replaceAll("{{HOST}}", o.host)
      .replaceAll("{{DIR}}", dir).replaceAll("{{INTERVAL}}", String(o.interval ?? 1))
      .replaceAll("{{SERVER}}", o.server ?? "127.0.0.1").replaceAll("{{PORT}}", String(port));
  const run = async (command: string): Promise<RunLike> => {
    const out = await new Deno.Command("/bin/sh", {
      args: mode.daemon ? [CTL_DAEMON, command, conf, log] : [CTL, command, conf, pidFile, log],
      stdin: "null",
    }).output();
    const message = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { result: { code: out.code, message } };
  };
  const lastPacket = (h?: string) =>
    h === undefined ? Math.max(0, ...last.values()) : last.get(h) ?? 0;
  const stand: Stand = {
    daemon: mode.daemon === true,
    dir,
    conf,
    pidFile,
    port,
    render,
    run,
    lastPacket,
    metricsSeen: probe.seen,
    interval: (h) => intervals.get(h),
    async waitPacket(h, after, timeoutMs = TIMEOUT_MS) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (lastPacket(h) > after) return true;
        await sleep(100);
      }
      return false;
    },
    async pid() {
      try {
        return Number((await Deno.readTextFile(pidFile)).trim());
      } catch {
        return null;
      }
    },
    async close() {
      await run("stop");
      socket.close();
      await receiving;
      await Deno.remove(dir, { recursive: true });
    },
  };
  await Deno.writeTextFile(conf, render({ host }), { mode: 0o640 });
  await Deno.chmod(conf, 0o640);
  const started = Date.now();
  await run("start");
  if (!await stand.waitPacket(host, started)) {
    await stand.close();
    throw new Error("the test's collectd sent nothing: is /usr/sbin/collectd (5.12) installed?");
  }
  return stand;
}

interface Captured {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

function captureLogger(events: Captured[]): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) =>
    void events.push({ level, msg, fields });
  const logger: Logger = {
    fatal: at("fatal"),
    error: at("error"),
    warn: at("warn"),
    info: at("info"),
    debug: at("debug"),
    enabled: () => true,
    child: () => logger,
  };
  return logger;
}

function service(stand: Stand): CollectdServiceSettings {
  return {
    commands: {
      restart: `/bin/sh ${CTL} restart`,
      start: `/bin/sh ${CTL} start`,
      stop: `/bin/sh ${CTL} stop`,
    },
    ConfigPath: stand.conf,
    // A daemon's pid file is found from each config's PIDFile, as with no PIDPath in production.
    ...(stand.daemon ? {} : { PIDPath: stand.pidFile }),
  };
}

function replacerFor(stand: Stand, events: Captured[] = [], stateDir = join(stand.dir, "state")) {
  return createConfigReplacer({
    service: service(stand),
    stateDir,
    logger: captureLogger(events),
    counters: createCounters(),
    run: stand.run,
    metricsSeen: stand.metricsSeen,
    timeoutMs: TIMEOUT_MS,
    pollMs: 100,
  });
}

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const message = (config: string, task_id: number | string = 1) => ({
  task_id,
  timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  config,
});

// ---------------------------------------------------------------------------------------------

Deno.test("replace_config applies a good config: new pid, new host name in the metrics, old file kept with its owner and mode", async () => {
  const stand = await openStand("hostA");
  try {
    await Deno.chown(stand.conf, 4242, 4343);
    const oldText = await Deno.readTextFile(stand.conf);
    const oldPid = await stand.pid();
    const events: Captured[] = [];
    const next = stand.render({ host: "hostB", interval: 2 });

    const result = await replacerFor(stand, events).handle(message(next, 7), "ops");

    assert.equal(result.code, Code.OK, result.message);
    assert.equal(result.task_id, 7);
    assert.match(result.message, /sends metrics again/);
    assert.equal(await Deno.readTextFile(stand.conf), next);
    assert.equal(await Deno.readTextFile(`${stand.conf}.orig`), oldText);
    for (const path of [stand.conf, `${stand.conf}.orig`]) {
      const st = await Deno.stat(path);
      assert.equal(st.mode! & 0o777, 0o640, `${path} mode`);
      assert.deepEqual([st.uid, st.gid], [4242, 4343], `${path} owner`);
    }
    const newPid = await stand.pid();
    assert.notEqual(newPid, oldPid);
    assert.ok(alive(newPid));
    assert.ok(!alive(oldPid));
    assert.ok(await stand.waitPacket("hostB", Date.now()), "metrics from hostB keep arriving");
    assert.equal(stand.interval("hostB"), 2, "with the new Interval");
    await assert.rejects(Deno.stat(`${stand.conf}.new`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(join(stand.dir, "state", JOURNAL_FILE)), Deno.errors.NotFound);
    const leaked = events.filter((e) =>
      e.level !== "debug" && JSON.stringify([e.msg, e.fields]).includes(SECRET)
    );
    assert.deepEqual(leaked, [], "the config text is never logged above debug");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config returns 0x2002 for a broken config and leaves collectd running on the untouched old file", async () => {
  const stand = await openStand("hostA");
  try {
    const oldText = await Deno.readTextFile(stand.conf);
    const oldPid = await stand.pid();
    const broken = stand.render({ host: "hostB" }) + `\n<Plugin network>\n  Server ${SECRET}\n`;

    const result = await replacerFor(stand).handle(message(broken, 8));

    assert.equal(result.code, Code.CONFIG_INVALID, result.message);
    assert.match(result.message, /unchanged and collectd was not restarted/);
    assert.ok(!result.message.includes(SECRET), "collectd's quote of the text is redacted");
    assert.equal(await Deno.readTextFile(stand.conf), oldText);
    assert.equal(await stand.pid(), oldPid);
    assert.ok(alive(oldPid));
    await assert.rejects(Deno.stat(`${stand.conf}.new`), Deno.errors.NotFound);
    assert.ok(await stand.waitPacket("hostA", Date.now()), "metrics from hostA keep arriving");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config rolls back with 0x2007 when collectd starts on the new config but sends no metrics", async () => {
  const stand = await openStand("hostA");
  try {
    const oldText = await Deno.readTextFile(stand.conf);
    const oldPid = await stand.pid();
    // Passes collectd's check, but the network plugin cannot resolve its server at start-up.
    const silent = stand.render({ host: "hostB", server: "collectd-server.invalid" });

    const result = await replacerFor(stand).handle(message(silent, 9));

    assert.equal(result.code, Code.CONFIG_RECOVERED, result.message);
    assert.match(result.message, /0x2009/);
    assert.equal(await Deno.readTextFile(stand.conf), oldText);
    const pid = await stand.pid();
    assert.notEqual(pid, oldPid);
    assert.ok(alive(pid), "collectd runs again");
    assert.ok(await stand.waitPacket("hostA", Date.now()), "metrics from hostA arrive again");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config rolls back with 0x2007 when the collectd daemon dies at start-up on a config that passed the check", async () => {
  const stand = await openStand("hostA", { daemon: true });
  try {
    const oldText = await Deno.readTextFile(stand.conf);
    const oldPid = await stand.pid();
    assert.ok(alive(oldPid), "the daemon wrote its PIDFile");
    // collectd -T accepts it; the daemon cannot create its pid file and exits.
    const dying = stand.render({ host: "hostB" }).replace(
      /^PIDFile .*$/m,
      `PIDFile "${join(stand.dir, "no-such-dir", "collectd.pid")}"`,
    );

    const result = await replacerFor(stand).handle(message(dying, 15));

    assert.equal(result.code, Code.CONFIG_RECOVERED, result.message);
    assert.match(result.message, /0x2009: collectd did not come back: no new live pid/);
    assert.equal(await Deno.readTextFile(stand.conf), oldText);
    const pid = await stand.pid();
    assert.notEqual(pid, oldPid);
    assert.ok(alive(pid), "the daemon runs again on the old config");
    assert.ok(await stand.waitPacket("hostA", Date.now()), "metrics from hostA arrive again");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config answers 0x2008 when collectd cannot be restarted on the restored old config", async () => {
  const stand = await openStand("hostA");
  try {
    const oldText = await Deno.readTextFile(stand.conf);
    let restarts = 0;
    const replacer = createConfigReplacer({
      service: service(stand),
      stateDir: join(stand.dir, "state"),
      logger: captureLogger([]),
      counters: createCounters(),
      // The first restart (onto the new config) works; the one of the rollback fails.
      run: (command) =>
        ++restarts === 1
          ? stand.run(command)
          : Promise.resolve({ result: { code: 1, message: "unit is masked" } }),
      metricsSeen: stand.metricsSeen,
      timeoutMs: 4000,
      pollMs: 100,
    });
    const silent = stand.render({ host: "hostB", server: "collectd-server.invalid" });
    const result = await replacer.handle(message(silent, 14));
    assert.equal(result.code, Code.CONFIG_NOT_RECOVERED, result.message);
    assert.match(result.message, /0x2009.*unit is masked/s);
    assert.equal(await Deno.readTextFile(stand.conf), oldText, "the old file is back anyway");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config answers 0x2000 to a second request while one is running", async () => {
  const stand = await openStand("hostA");
  try {
    const replacer = replacerFor(stand);
    const results = await Promise.all([
      replacer.handle(message(stand.render({ host: "hostB" }), 10)),
      replacer.handle(message(stand.render({ host: "hostC" }), 11)),
    ]);
    assert.deepEqual(results.map((r) => r.code).sort(), [Code.OK, Code.CONFIG_TASK_RUNNING]);
    const busy = results.find((r) => r.code === Code.CONFIG_TASK_RUNNING)!;
    assert.equal(busy.task_id, 11);
    assert.match(await Deno.readTextFile(stand.conf), /Hostname "hostB"/);
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config finishes a replacement after an agent restart in the middle (resumePending)", async () => {
  const stand = await openStand("hostA");
  try {
    const oldPid = await stand.pid();
    const stateDir = join(stand.dir, "state");
    // The first agent restarts collectd and then "dies" before it could confirm anything.
    let died!: () => void;
    const dead = new Promise<void>((r) => died = r);
    const first = createConfigReplacer({
      service: service(stand),
      stateDir,
      logger: captureLogger([]),
      counters: createCounters(),
      run: async (command) => {
        await stand.run(command);
        died();
        return new Promise<RunLike>(() => {});
      },
    });
    void first.handle(message(stand.render({ host: "hostB" }), 12));
    await dead;
    assert.ok(await Deno.stat(join(stateDir, JOURNAL_FILE)), "the journal is on disk");

    const second = replacerFor(stand, [], stateDir);
    const result = await second.resumePending();

    assert.ok(result !== null);
    assert.equal(result.task_id, 12);
    assert.equal(result.code, Code.OK, result.message);
    assert.match(result.message, /after an agent restart/);
    assert.notEqual(await stand.pid(), oldPid);
    assert.equal(await second.resumePending(), null, "reported once");
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config restores the file and answers 0x2003 when the restart command fails and the old collectd keeps running", async () => {
  const stand = await openStand("hostA");
  try {
    const oldText = await Deno.readTextFile(stand.conf);
    const oldPid = await stand.pid();
    const replacer = createConfigReplacer({
      service: service(stand),
      stateDir: join(stand.dir, "state"),
      logger: captureLogger([]),
      counters: createCounters(),
      run: () => Promise.resolve({ result: { code: 1, message: "Job failed" } }),
      timeoutMs: TIMEOUT_MS,
    });
    const result = await replacer.handle(message(stand.render({ host: "hostB" }), 13));
    assert.equal(result.code, Code.CONFIG_RESTART_FAILED, result.message);
    assert.match(result.message, /Job failed/);
    assert.equal(await Deno.readTextFile(stand.conf), oldText);
    assert.equal(await stand.pid(), oldPid);
  } finally {
    await stand.close();
  }
});

Deno.test("replace_config refuses a message without a config text (0x1004) and a missing collectd service (0x1002)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options = {
      stateDir: dir,
      logger: captureLogger([]),
      counters: createCounters(),
      run: () => Promise.reject(new Error("must not run")),
    };
    const noText = await createConfigReplacer({ ...options, service: undefined })
      .handle({ task_id: 1, timestamp: "2026-01-01T00:00:00Z" });
    assert.equal(noText.code, Code.INVALID_MESSAGE);
    const noService = await createConfigReplacer({ ...options, service: undefined })
      .handle(message('Hostname "x"\n', 2));
    assert.equal(noService.code, Code.NO_SERVICE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createCollectdChecker() rejects a broken file even where collectd 5.12's -t accepts anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const check = createCollectdChecker("/usr/sbin/collectd");
    await Deno.writeTextFile(join(dir, "good.conf"), 'Hostname "x"\nInterval 10\n');
    await Deno.writeTextFile(join(dir, "bad.conf"), 'Hostname "x"\nfoobar\n');
    assert.equal((await check(join(dir, "good.conf"))).ok, true);
    const bad = await check(join(dir, "bad.conf"));
    assert.equal(bad.ok, false);
    assert.match(bad.output, /Parse error/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pidFileFor() prefers PIDPath, then the config's top-level PIDFile, then collectd's default", () => {
  const text = '# PIDFile "/comment.pid"\n<Plugin x>\n  PIDFile "/inner.pid"\n</Plugin>\n' +
    'pidfile "run/collectd.pid"\n';
  assert.equal(topLevelOption(text, "PIDFile"), "run/collectd.pid");
  assert.equal(
    pidFileFor(text, "/etc/collectd/collectd.conf", undefined),
    "/etc/collectd/run/collectd.pid",
  );
  assert.equal(pidFileFor(text, "/etc/c.conf", "/x.pid"), "/x.pid");
  assert.equal(pidFileFor("Interval 10\n", "/etc/c.conf", undefined), "/var/run/collectd.pid");
});

Deno.test("createMetricsProbe() tells metrics since a time apart per host", async () => {
  let now = 1000;
  const probe = createMetricsProbe(() => now);
  assert.equal(await probe.seen(0), false);
  probe.saw("hostA");
  now = 2000;
  probe.saw("hostB");
  assert.equal(await probe.seen(1500), true);
  assert.equal(await probe.seen(1500, "hostB"), true);
  assert.equal(await probe.seen(1500, "hostA"), false);
  assert.equal(await probe.seen(500, "hostC"), false);
});

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
  // The wiring asked of src/agent.ts: collectd commands run by the executor, labelled "cli"
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
