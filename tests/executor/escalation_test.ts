import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePacket, unwrapPacket } from "../../src/collectd/mod.ts";
import { createExecutor } from "../../src/executor/mod.ts";
import { createCounters, type Notification, Severity } from "../../src/model/mod.ts";
import {
  AUDIT_FILE,
  createAuditReporter,
  createCollectdReporter,
  createLogReporter,
} from "../../src/reporters/mod.ts";
import { waitFor } from "../reporters/contract.ts";
import { FakeClock, fakeRunner, memoryLogger } from "./_helpers.ts";

Deno.test("an escalation reaches the audit file, the error log and collectd as a FAILURE notification", async () => {
  const stateDir = await Deno.makeTempDir();
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const got: Notification[] = [];
  const receiving = (async () => {
    const buf = new Uint8Array(65536);
    const sink = {
      segment: (p: Uint8Array) =>
        decodePacket(p, { metric: () => {}, notification: (n) => got.push(n) }),
      drop: () => {},
    };
    for (;;) {
      try {
        unwrapPacket((await conn.receive(buf))[0], "None", null, sink, []);
      } catch {
        return;
      }
    }
  })();
  const clock = new FakeClock();
  const { logger, events } = memoryLogger();
  const collectd = createCollectdReporter([{
    Host: "127.0.0.1",
    Port: (conn.addr as Deno.NetAddr).port,
    SecurityLevel: "None",
  }], { hostname: "edge1" });
  const executor = createExecutor(
    { nginx: { commands: { restart: { Argv: ["/bin/true"], Verify: 10, Retries: 0 } } } },
    {
      logger,
      counters: createCounters(),
      stateDir,
      audit: createAuditReporter(stateDir),
      reporters: [createLogReporter(logger), collectd],
      runner: fakeRunner(),
      clock,
    },
  );
  try {
    await executor.start();
    executor.onRuleEvent({
      kind: "fired",
      handler: "nginx.ts::metric::down",
      key: "web1/processes-nginx/ps_count",
      actions: [{ service: "nginx", command: "restart" }],
      time: clock.now() / 1000,
    });
    await executor.idle();
    await clock.advance(11_000, () => executor.idle());
    await waitFor(() => got.length === 2, 3000);
    assert.deepEqual(got.map((n) => n.severity), [Severity.OKAY, Severity.FAILURE]);
    assert.equal(got[1]!.type, "nginx.ts::metric::down");
    assert.equal(JSON.parse(got[1]!.message).code, 0x1017);
    const audit = (await Deno.readTextFile(join(stateDir, AUDIT_FILE))).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(audit.map((a) => a.code), [0, 0x1017]);
    assert.ok(events.some((e) => e.level === "error" && /repair did not work/.test(e.msg)));
  } finally {
    await executor.stop();
    await collectd.close?.();
    conn.close();
    await receiving;
  }
});
