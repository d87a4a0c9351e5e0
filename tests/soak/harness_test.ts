import assert from "node:assert/strict";
import { decodePacket, parseAuthFile, unwrapPacket } from "../../src/collectd/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { checkRemoteAudit, checkRuleAudit } from "../../scripts/soak/checks/audit.ts";
import { checkFlood } from "../../scripts/soak/checks/flood.ts";
import {
  checkExactlyOneResult,
  checkRefusedRedeliveries,
} from "../../scripts/soak/checks/results.ts";
import { checkRss } from "../../scripts/soak/checks/rss.ts";
import { checkNoDoubleRun } from "../../scripts/soak/checks/runs.ts";
import { newFaultLog } from "../../scripts/soak/context.ts";
import { parseMarks, type SoakFacts } from "../../scripts/soak/facts.ts";
import { badDatagram, FLOOD_KINDS } from "../../scripts/soak/faults/flood.ts";
import type { SeenResult, SentTask } from "../../scripts/soak/operator.ts";
import { processTree, readRssKiB, slope } from "../../scripts/soak/rss.ts";
import { parsePrometheus } from "../../scripts/soak/scrape.ts";
import { agentConfig, createLayout, type SoakLayout } from "../../scripts/soak/setup.ts";
import { allPassed, renderTable } from "../../scripts/soak/table.ts";

function facts(over: Partial<SoakFacts> = {}): SoakFacts {
  return {
    layout: { cooldownS: 5 } as SoakLayout,
    startedAt: 0,
    endedAt: 60_000,
    tasks: [],
    results: [],
    marks: [],
    audit: [],
    selfExits: [],
    generations: 1,
    generationStarts: [0],
    rss: [],
    scrapes: [],
    health: [],
    faults: newFaultLog(),
    peerCrashes: [],
    finalExit: 0,
    ...over,
  };
}

const task = (id: string, sends = 1): SentTask => ({
  task_id: id,
  service: `q${id}`,
  command: "run",
  firstSentAt: 0,
  sends,
});
const result = (id: string, code = 0, message = "ok"): SeenResult => ({
  task_id: id,
  code,
  message,
  timestamp: "t",
  raw: JSON.stringify({ id, code, message }),
  broker: 0,
  at: 0,
});

Deno.test("the generated agent config is valid for the agent's own config schema", async () => {
  const l = await createLayout({ quickCommands: 3, slowCommands: 1 });
  try {
    const { config } = parseConfig(await Deno.readTextFile(l.agentConfig), l.agentConfig);
    assert.equal(config.Listen[0]!.SecurityLevel, "Sign");
    assert.deepEqual(config.Host, l.brokerPorts.map((p) => `127.0.0.1:${p}`));
    assert.ok(config.Services.q2 && config.Services.slow && config.Services.rulefix);
    assert.equal(config.Telemetry.Listen, `127.0.0.1:${l.telemetryPort}`);
    assert.match(await Deno.readTextFile(l.collectdConf), /SecurityLevel Sign/);
    assert.match(await Deno.readTextFile(l.brokerConfs[0]), /set_tcp_nodelay true/);
    assert.deepEqual(Object.keys(agentConfig(l).Services as object).length, 3 + 4);
  } finally {
    await Deno.remove(l.dir, { recursive: true });
  }
});

Deno.test("every flood datagram kind is refused by the agent's Sign-level intake", () => {
  const users = parseAuthFile("soak: right-password\n");
  for (const kind of FLOOD_KINDS) {
    for (let n = 0; n < 20; n++) {
      let accepted = 0;
      unwrapPacket(badDatagram(kind, n, "soakhost"), "Sign", users, {
        segment: (plain) => {
          decodePacket(plain, { metric: () => accepted++, notification: () => accepted++ });
        },
        drop: () => {},
      }, []);
      assert.equal(accepted, 0, `${kind} #${n} was accepted`);
    }
  }
});

Deno.test("checkExactlyOneResult() passes one result per task and fails a missing one", () => {
  assert.equal(
    checkExactlyOneResult(facts({ tasks: [task("1")], results: [result("1")] })).ok,
    true,
  );
  const missing = checkExactlyOneResult(
    facts({ tasks: [task("1"), task("2")], results: [result("1")] }),
  );
  assert.equal(missing.ok, false);
  assert.match(missing.detail, /1 without/);
});

Deno.test("checkExactlyOneResult() counts identical copies once and fails two different results", () => {
  const copies = facts({
    tasks: [task("1", 2)],
    results: [result("1"), result("1"), result("1", 0x1100)],
  });
  assert.equal(checkExactlyOneResult(copies).ok, true);
  const different = facts({ tasks: [task("1")], results: [result("1"), result("1", 1, "other")] });
  assert.equal(checkExactlyOneResult(different).ok, false);
});

Deno.test("checkRefusedRedeliveries() tells operator re-sends from broker re-deliveries, fails a re-run", () => {
  const marks = parseMarks("1 q1 run 5\n");
  const r = checkRefusedRedeliveries(facts({
    tasks: [task("1", 1)],
    results: [result("1"), result("1", 0x1100)],
    marks,
  }));
  assert.equal(r.ok, true);
  assert.match(r.detail, /0 for commands the operator re-sent, 1 for broker re-deliveries/);
  const twice = parseMarks("1 q1 run 5\n2 q1 run 6\n");
  assert.equal(
    checkRefusedRedeliveries(
      facts({ tasks: [task("1")], results: [result("1", 0x1100)], marks: twice }),
    ).ok,
    false,
  );
});

Deno.test("checkNoDoubleRun() fails when one command left two run marks", () => {
  const marks = parseMarks(
    "1.5 q1 run 10\n2.5 q1 run 11\n3 rule run 12\n4 k0 start 13\n8 k0 done 13\n",
  );
  assert.equal(marks.length, 5);
  const r = checkNoDoubleRun(facts({ marks, tasks: [task("1")] }));
  assert.equal(r.ok, false);
  assert.match(r.detail, /q1×2/);
  assert.equal(checkNoDoubleRun(facts({ marks: marks.slice(1) })).ok, true);
});

Deno.test("checkRuleAudit() needs every rule-triggered run audited, one gap per agent kill allowed", () => {
  const marks = parseMarks("1 rule run 1\n7 rule run 2\n");
  const audited = {
    time: "",
    task_id: "x",
    trigger: "rule",
    service: "rulefix",
    command: "restart",
    code: 0,
  };
  assert.equal(checkRuleAudit(facts({ marks, audit: [audited, audited] })).ok, true);
  assert.equal(checkRuleAudit(facts({ marks, audit: [audited] })).ok, false);
  const faults = { ...newFaultLog(), agentKills: 1 };
  assert.equal(checkRuleAudit(facts({ marks, audit: [audited], faults })).ok, true);
  assert.equal(
    checkRuleAudit(facts({ marks: [], audit: [] })).ok,
    false,
    "a rule that never fired fails",
  );
});

Deno.test("checkRemoteAudit() matches marked remote runs to remote audit lines", () => {
  const marks = parseMarks("1 q1 run 1\n2 q2 run 2\n");
  const line = (service: string) => ({
    time: "",
    task_id: "x",
    trigger: "remote",
    service,
    command: "run",
    code: 0,
  });
  assert.equal(checkRemoteAudit(facts({ marks, audit: [line("q1"), line("q2")] })).ok, true);
  const r = checkRemoteAudit(facts({ marks, audit: [line("q1")] }));
  assert.equal(r.ok, false);
  assert.match(r.detail, /missing q2/);
});

Deno.test("checkFlood() states the loss of valid values between calm and flood scrapes", () => {
  const s = (at: number, values: number) => ({
    at,
    generation: 1,
    totals: { edge_agent_collectd_values_total: values },
    series: {},
  });
  const faults = {
    ...newFaultLog(),
    floodWindows: [[10_000, 20_000]] as [number, number][],
    floodSent: { random_bytes: 100 },
  };
  // 30 values/s calm, 15 values/s during the flood: 50% loss
  const scrapes = [
    s(0, 0),
    s(4_000, 120),
    s(8_000, 240),
    s(12_000, 300),
    s(16_000, 360),
    s(24_000, 600),
    s(28_000, 720),
  ];
  const r = checkFlood(facts({ scrapes, faults }));
  assert.equal(r.ok, false);
  assert.match(r.detail, /loss 50\.0%/);
  const noMetrics = checkFlood(facts({ faults }));
  assert.equal(noMetrics.ok, null);
});

Deno.test("checkRss() fails above the bound and reports a growth trend of a long-lived process", () => {
  const rss = Array.from({ length: 60 }, (_, i) => ({
    at: 121_000 + i * 10_000,
    generation: 1,
    agentKiB: 100_000 + i * 1000, // ~6 MiB/min: a leak
    treeKiB: 200_000,
  }));
  const r = checkRss(facts({ rss }));
  assert.equal(r.ok, false);
  assert.match(r.detail, /MiB\/h/);
  const flat = rss.map((x) => ({ ...x, agentKiB: 100_000 }));
  assert.equal(checkRss(facts({ rss: flat })).ok, true);
});

Deno.test("slope() fits a line; readRssKiB() and processTree() read this process from /proc", () => {
  assert.equal(slope([[0, 1], [1, 3], [2, 5]]), 2);
  assert.equal(slope([[0, 1]]), 0);
  const kib = readRssKiB(Deno.pid);
  assert.ok(kib !== null && kib > 1000);
  assert.equal(readRssKiB(2 ** 30), null);
  assert.equal(processTree(Deno.pid)[0], Deno.pid);
});

Deno.test("parsePrometheus() sums series per name", () => {
  const p = parsePrometheus('# HELP a x\na_total{r="1"} 2\na_total{r="2"} 3\nb 1.5\n');
  assert.deepEqual(p.totals, { a_total: 5, b: 1.5 });
  assert.equal(p.series['a_total{r="2"}'], 3);
});

Deno.test("renderTable() prints PASS/FAIL/SKIP and allPassed() ignores skipped rows", () => {
  const rows = [
    { check: "a", ok: true, detail: "fine" },
    { check: "b", ok: null, detail: "not wired" },
  ];
  const t = renderTable(rows);
  assert.match(t, /^a +\| PASS +\| fine$/m);
  assert.match(t, /^b +\| SKIP +\| not wired$/m);
  assert.equal(allPassed(rows), true);
  assert.equal(allPassed([...rows, { check: "c", ok: false, detail: "" }]), false);
});
