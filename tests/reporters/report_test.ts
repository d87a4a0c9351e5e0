import assert from "node:assert/strict";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import type { Reporter } from "../../src/model/mod.ts";
import { createReport } from "../../src/reporters/mod.ts";
import { sampleRecords } from "./contract.ts";

function recorder(name: string, order: string[], delayMs = 0): Reporter {
  return {
    name,
    report: async () => {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      order.push(name);
    },
  };
}

function logged() {
  const events: LogEvent[] = [];
  return { events, logger: createLogger({ level: "debug", sink: (e) => events.push(e) }) };
}

Deno.test("createReport() hands a record to the audit, awaited, before any other reporter sees it", async () => {
  const order: string[] = [];
  const door = createReport({
    audit: recorder("audit", order, 30),
    others: [recorder("log", order), recorder("mqtt", order)],
    logger: logged().logger,
  });
  await door.report(sampleRecords()[0]!);
  assert.deepEqual(order, ["audit", "log", "mqtt"]);
});

Deno.test("createReport() goes by role, not by name: a reporter merely named audit is not awaited first", async () => {
  const order: string[] = [];
  const door = createReport({
    others: [recorder("audit", order, 30), recorder("log", order)],
    logger: logged().logger,
  });
  await door.report(sampleRecords()[0]!);
  assert.deepEqual(order, ["log", "audit"]);
});

Deno.test("createReport() logs a reporter that throws or rejects and still hands the record to the others", async () => {
  const order: string[] = [];
  const { events, logger } = logged();
  const door = createReport({
    audit: { name: "audit", report: () => Promise.reject(new Error("disk full")) },
    others: [
      { name: "broken", report: () => Promise.reject(new Error("socket closed")) },
      recorder("log", order),
    ],
    logger,
  });
  await door.report(sampleRecords()[1]!);
  assert.deepEqual(order, ["log"]);
  assert.deepEqual(
    events.filter((e) => e.level === "error").map((e) => [e.msg, e.fields?.error]),
    [["reporter audit failed", "disk full"], ["reporter broken failed", "socket closed"]],
  );
});
