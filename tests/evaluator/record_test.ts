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

const metric = (i: number): Metric => ({
  host: "h",
  plugin: "cpu",
  plugin_instance: String(i),
  type: "cpu",
  type_instance: "idle",
  time: 1_700_000_000 + i,
  interval: 1,
  values: [i],
  dstypes: ["gauge"],
  dsnames: ["value"],
  rates: [null],
});

Deno.test("openRecorder() rotates at maxBytes, keeps `keep` old files and never splits a line", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/rec.jsonl`;
  try {
    const recorder = await openRecorder(path, { flushMs: 5, maxBytes: 4096, keep: 2 });
    for (let i = 0; i < 600; i++) {
      recorder.write(metric(i));
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await recorder.close();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["rec.jsonl", "rec.jsonl.1", "rec.jsonl.2"]);
    let last = -1;
    for (const name of ["rec.jsonl.2", "rec.jsonl.1", "rec.jsonl"]) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      assert.ok(text.length <= 4096, `${name}: ${text.length} bytes`);
      const items = await readRecording(`${dir}/${name}`); // every line parses
      for (const item of items) {
        const n = Number(item.plugin_instance);
        assert.equal(n, last === -1 ? n : last + 1, "in order, nothing lost between files");
        last = n;
      }
    }
    assert.equal(last, 599, "the newest item is in the current file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecorder() reports a failed write and drops its items instead of throwing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/rec.jsonl`;
  const errors: string[] = [];
  try {
    const recorder = await openRecorder(path, {
      flushMs: 5,
      maxBytes: 2048,
      keep: 1,
      onError: (m) => errors.push(m),
    });
    recorder.write(metric(1));
    await new Promise((r) => setTimeout(r, 30));
    await Deno.remove(dir, { recursive: true }); // the rotation's rename now fails
    for (let i = 0; i < 40; i++) recorder.write(metric(i));
    await new Promise((r) => setTimeout(r, 50));
    await recorder.close();
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /cannot write the recording .*rec\.jsonl/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
