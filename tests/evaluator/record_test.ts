import assert from "node:assert/strict";
import { encodeValueList } from "../../src/collectd/mod.ts";
import { createEvaluator, openRecorder, readRecording } from "../../src/evaluator/mod.ts";
import type { Metric, Notification } from "../../src/model/mod.ts";
import { memoryLogger, rulesDir, testHostCommand } from "./_helpers.ts";

Deno.test("the decoded stream is recorded to JSON lines that replay back, bigints exact", async () => {
  const dir = await rulesDir({ "none.ts": "export const metrics = () => {};\n" });
  const recording = `${dir}/stream.jsonl`;
  try {
    const recorder = await openRecorder(recording, { flushMs: 10 });
    let recorded = 0;
    const ev = createEvaluator({
      rulesDir: dir,
      typesDbText: await Deno.readTextFile("/usr/share/collectd/types.db"),
      services: {},
      logger: memoryLogger(),
      onEvent: () => {},
      hostCommand: testHostCommand(),
      watch: false,
      record: (item) => {
        recorded++;
        recorder.write(item);
      },
    });
    await ev.start();
    const big = 2n ** 60n + 1n;
    const base = { host: "h", plugin_instance: "eth0", type_instance: "", interval: 10 };
    ev.submit(encodeValueList({
      ...base,
      plugin: "interface",
      type: "if_octets",
      time: 1_700_000_000,
      values: [big, 5n],
      dstypes: ["derive", "derive"],
    }));
    const deadline = Date.now() + 10_000;
    while (recorded === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await ev.stop();
    await recorder.close();
    const lines = (await Deno.readTextFile(recording)).trim().split("\n");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"values":\[1152921504606846977,5\]/);
    const [item] = await readRecording(recording) as (Metric | Notification)[];
    assert.deepEqual(
      { ...item, values: undefined },
      {
        host: "h",
        plugin: "interface",
        plugin_instance: "eth0",
        type: "if_octets",
        type_instance: "",
        time: 1_700_000_000,
        interval: 10,
        values: undefined,
        dstypes: ["derive", "derive"],
        dsnames: ["rx", "tx"],
        rates: [null, null],
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRecording() names the line of a bad entry", async () => {
  const dir = await rulesDir({
    "bad.jsonl": '{"plugin":"cpu","type":"cpu","values":[1]}\n{"plugin":"cpu"}\n',
  });
  try {
    await assert.rejects(
      readRecording(`${dir}/bad.jsonl`),
      /bad\.jsonl:2: invalid metric: .*values/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
