/** The agent's side of `agent status`: the service over fake stages and a real socket. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { createCounters } from "../../src/model/mod.ts";
import {
  createStatusService,
  queryStatus,
  type RunningReport,
  StatusReportSchema,
  type StatusSources,
} from "../../src/status/mod.ts";
import { memoryLogger } from "../_helpers/memory_logger.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-status-service-" });
  const file = join(dir, "config.json");
  const write = (json: unknown) => Deno.writeTextFile(file, JSON.stringify(json));
  await write({ StateDir: "state", Host: "127.0.0.1:1883" });
  const config = parseConfig(await Deno.readTextFile(file), file).config;
  await Deno.mkdir(config.StateDir);
  const counters = createCounters();
  let sources: StatusSources | null = {
    config,
    intake: { bound: [{ transport: "udp", hostname: "127.0.0.1", port: 25826 }] },
    evaluator: {
      handlers: ["a.ts::metric::x"],
      problems: [],
      inspect: () => ({
        files: ["a.ts"],
        disabled: [],
        firing: [{ handler: "a.ts::metric::x", key: "h/p/t", since: Date.UTC(2026, 0, 1) }],
      }),
    },
    executor: {
      inspect: () => ({ running: [], loops: [] }),
      maintenance: { status: () => null },
    },
    channel: {
      connected: false,
      broker: null,
      connectedSince: null,
      failures: new Map([["127.0.0.1:1883", "connect ECONNREFUSED"]]),
    },
  };
  const service = createStatusService({
    counters,
    logger: memoryLogger().logger,
    view: () => sources,
  });
  return {
    dir,
    file,
    write,
    config,
    service,
    counters,
    /** Replaces the stages; returns the ones before. */
    setSources: (s: StatusSources | null) => {
      const was = sources;
      sources = s;
      return was;
    },
    async [Symbol.asyncDispose]() {
      await service.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function report(stateDir: string): Promise<RunningReport> {
  const a = await queryStatus(stateDir);
  if (a.kind !== "running") throw new Error(JSON.stringify(a));
  return a.report;
}

Deno.test("the status service answers a report that passes the schema, from the stages' accessors and counters", async () => {
  await using s = await setup();
  s.counters.counter("edge_agent_rules_host_restarts_total", "").inc(2);
  await s.service.start(s.config);
  const r = await report(s.config.StateDir);
  assert.ok(StatusReportSchema.safeParse(r).success);
  assert.equal(r.agent.pid, Deno.pid);
  assert.equal(r.agent.mode, "mqtt");
  assert.deepEqual(r.agent.config.file, s.file);
  assert.equal(r.agent.config.changed_on_disk, false);
  assert.deepEqual(r.intake.listeners, ["127.0.0.1:25826"]);
  assert.deepEqual(r.rules.firing, [{
    handler: "a.ts::metric::x",
    key: "h/p/t",
    since: "2026-01-01T00:00:00.000Z",
  }]);
  assert.equal(r.rules.host_restarts, 2);
  assert.deepEqual(r.broker?.failures, [{
    broker: "127.0.0.1:1883",
    error: "connect ECONNREFUSED",
  }]);
});

Deno.test("the status report says when the config file changed on disk since the agent loaded it", async () => {
  await using s = await setup();
  await s.service.start(s.config);
  const before = await report(s.config.StateDir);
  await s.write({ StateDir: "state", Host: "127.0.0.1:1884" });
  const after = await report(s.config.StateDir);
  assert.equal(after.agent.config.sha256, before.agent.config.sha256, "the loaded file's hash");
  assert.equal(after.agent.config.changed_on_disk, true);
  await s.service.start(s.config); // a reload reads it again
  assert.equal((await report(s.config.StateDir)).agent.config.changed_on_disk, false);
});

Deno.test("while the stages are swapped the status waits for them, and answers an error if they stay away", async () => {
  await using s = await setup();
  await s.service.start(s.config);
  const stages = s.setSources(null)!;
  const asked = queryStatus(s.config.StateDir);
  await new Promise((r) => setTimeout(r, 300));
  s.setSources(stages); // the reload is done
  assert.equal((await asked).kind, "running");
  s.setSources(null); // and this one never ends
  const answer = await queryStatus(s.config.StateDir);
  assert.equal(answer.kind, "unreachable");
  assert.match((answer as { why: string }).why, /reloading its config or stopping; ask again/);
});

Deno.test("a reload that moves StateDir moves the socket with it", async () => {
  await using s = await setup();
  await s.service.start(s.config);
  const moved = { ...s.config, StateDir: join(s.dir, "state2") };
  await Deno.mkdir(moved.StateDir);
  await s.service.start(moved);
  assert.equal((await queryStatus(s.config.StateDir)).kind, "not_running");
  assert.equal((await queryStatus(moved.StateDir)).kind, "running");
});
