import assert from "node:assert/strict";
import { loadTypesDb, parseTypesDb } from "../../src/collectd/mod.ts";

Deno.test("parseTypesDb() reads data sources, comments and U bounds like collectd", () => {
  const db = parseTypesDb(
    "# comment\nif_octets   rx:DERIVE:0:U, tx:DERIVE:0:U\n\nload shortterm:GAUGE:0:5000,midterm:GAUGE:0:5000, longterm:GAUGE:0:5000 # x\nbroken value:NOPE:0:1\n",
  );
  assert.equal(db.size, 2);
  assert.deepEqual(db.get("if_octets")!.dsnames, ["rx", "tx"]);
  assert.deepEqual(db.get("if_octets")!.dstypes, ["derive", "derive"]);
  assert.ok(Number.isNaN(db.get("if_octets")!.sources[0]!.max));
  assert.deepEqual(db.get("load")!.dsnames, ["shortterm", "midterm", "longterm"]);
  assert.equal(db.get("broken"), undefined);
  assert.ok(db.text.startsWith("# comment"));
});

Deno.test("loadTypesDb() without paths reads collectd's installed types.db", async () => {
  const db = await loadTypesDb();
  assert.ok(db.size > 100, `only ${db.size} types`);
  assert.deepEqual(db.get("load")!.dsnames, ["shortterm", "midterm", "longterm"]);
});

Deno.test("loadTypesDb() joins custom files, a later definition winning", async () => {
  const files: Record<string, string> = {
    "/a": "mytype v:GAUGE:0:U\nload x:GAUGE:U:U\n",
    "/b": "load y:GAUGE:U:U, z:GAUGE:U:U\n",
  };
  const db = await loadTypesDb(["/a", "/b"], { readTextFile: (p) => Promise.resolve(files[p]!) });
  assert.deepEqual(db.get("mytype")!.dsnames, ["v"]);
  assert.deepEqual(db.get("load")!.dsnames, ["y", "z"]);
});

Deno.test("loadTypesDb() names a TypesDB file it cannot read", async () => {
  await assert.rejects(() => loadTypesDb(["/nonexistent/types.db"]), /\/nonexistent\/types\.db/);
});
