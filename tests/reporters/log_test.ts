import assert from "node:assert/strict";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { createLogReporter } from "../../src/reporters/mod.ts";
import { reporterContract, sampleRecords } from "./contract.ts";

reporterContract("createLogReporter()", {
  make() {
    const events: LogEvent[] = [];
    const reporter = createLogReporter(createLogger({ sink: (e) => events.push(e) }));
    return Promise.resolve({ reporter, delivered: () => Promise.resolve(events.length) });
  },
  makeBroken() {
    const reporter = createLogReporter(createLogger({
      sink: () => {
        throw new Error("stdout closed");
      },
    }));
    return Promise.resolve({ reporter });
  },
});

Deno.test("the log reporter writes success at info and failure at error, naming the trigger", async () => {
  const events: LogEvent[] = [];
  const reporter = createLogReporter(createLogger({ sink: (e) => events.push(e) }));
  const [ok, failed, refused] = sampleRecords();
  await reporter.report(ok!);
  await reporter.report(failed!);
  await reporter.report(refused!);
  assert.deepEqual(events.map((e) => e.level), ["info", "error", "error"]);
  assert.equal(events[0]!.fields?.trigger, "nginx.ts::metric::down");
  assert.equal(events[1]!.fields?.trigger, "remote:a-7@ops");
  assert.match(events[1]!.msg, /nginx\/restart failed with code 1$/);
  assert.match(events[2]!.msg, /failed with code 0x1002 \(4098\)$/);
  assert.equal(events[2]!.fields?.code, "0x1002 (4098)", "hex and the result's decimal");
  assert.equal(events[2]!.fields?.trigger, "cli");
});

Deno.test("the log reporter shows a successful command's first output line at info, bounded", async () => {
  const events: LogEvent[] = [];
  const reporter = createLogReporter(createLogger({ sink: (e) => events.push(e) }));
  const [ok] = sampleRecords();
  const withOutput = (message: string) => ({
    ...ok!,
    result: { ...ok!.result, message },
    outputBytes: new TextEncoder().encode(message).length,
  });
  await reporter.report(withOutput("Hello World!\n"));
  await reporter.report(withOutput("\n  restarted nginx\nline 2\nline 3\n"));
  await reporter.report(withOutput("x".repeat(5000)));
  await reporter.report(withOutput(""));
  assert.equal(events[0]!.fields?.output, "Hello World!");
  assert.equal(events[1]!.fields?.output, "restarted nginx [+2 lines in the audit record]");
  assert.ok(String(events[2]!.fields?.output).length <= 240);
  assert.match(String(events[2]!.fields?.output), /^x+… \[\+4800 chars in the audit record\]$/);
  assert.equal(events[3]!.fields?.output, undefined, "no output, no field");
  assert.ok(events.every((e) => e.level === "info"));
});
