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
  assert.match(events[1]!.msg, /nginx\/restart failed \(code 1\)/);
  assert.match(events[2]!.msg, /code 0x1002/);
  assert.equal(events[2]!.fields?.trigger, "cli");
});
