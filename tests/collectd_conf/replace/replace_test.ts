import assert from "node:assert/strict";
import { join } from "node:path";
import { createConfigReplacer, type RunLike } from "../../../src/collectd_conf/replace/mod.ts";
import { JOURNAL_FILE } from "../../../src/collectd_conf/replace/_journal.ts";
import { Code, createCounters } from "../../../src/model/mod.ts";
import {
  alive,
  type Captured,
  captureLogger,
  message,
  openStand,
  replacerFor,
  SECRET,
  service,
  TIMEOUT_MS,
} from "./_stand.ts";

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
