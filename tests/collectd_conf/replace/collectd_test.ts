import assert from "node:assert/strict";
import { join } from "node:path";
import { createCollectdChecker } from "../../../src/collectd_conf/replace/_collectd.ts";

Deno.test("createCollectdChecker() rejects a broken file even where collectd 5.12's -t accepts anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const check = createCollectdChecker("/usr/sbin/collectd");
    await Deno.writeTextFile(join(dir, "good.conf"), 'Hostname "x"\nInterval 10\n');
    await Deno.writeTextFile(join(dir, "bad.conf"), 'Hostname "x"\nfoobar\n');
    assert.equal((await check(join(dir, "good.conf"))).ok, true);
    const bad = await check(join(dir, "bad.conf"));
    assert.equal(bad.ok, false);
    assert.match(bad.output, /Parse error/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
