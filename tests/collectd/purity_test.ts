import assert from "node:assert/strict";
import { encodeValueList } from "../../src/collectd/mod.ts";

const packet = encodeValueList({
  host: "h",
  plugin: "load",
  plugin_instance: "",
  type: "load",
  type_instance: "",
  time: 1795440000,
  interval: 1,
  values: [1, 2, 3],
  dstypes: ["gauge", "gauge", "gauge"],
});
const typesDb = "load shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n";

Deno.test("decodePacket() and parseTypesDb() work in a Worker with permissions none", async () => {
  const worker = new Worker(new URL("./_decode_worker.ts", import.meta.url), {
    type: "module",
    deno: { permissions: "none" },
  });
  try {
    const got = await new Promise<{ metrics: { dsnames: string[] }[]; denied: boolean }>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage({ typesDb, packet });
      },
    );
    assert.equal(got.denied, true, "the worker really has no permissions");
    assert.deepEqual(got.metrics[0]!.dsnames, ["shortterm", "midterm", "longterm"]);
  } finally {
    worker.terminate();
  }
});

Deno.test("decodePacket() works in a process without any permission", async () => {
  const code = `
    import { decodePacket, parseTypesDb } from ${
    JSON.stringify(new URL("../../src/collectd/mod.ts", import.meta.url).href)
  };
    const packet = new Uint8Array(${JSON.stringify([...packet])});
    let dsnames;
    decodePacket(packet, { metric: (m) => dsnames = m.dsnames, notification() {} },
      { typesDb: parseTypesDb(${JSON.stringify(typesDb)}) });
    console.log(JSON.stringify(dsnames));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-prompt", "--no-config", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    "shortterm",
    "midterm",
    "longterm",
  ]);
});
