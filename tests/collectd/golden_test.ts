import assert from "node:assert/strict";
import { fromJson, runDatagram, TESTDATA, toJson } from "./_golden.ts";

const update = Deno.env.get("UPDATE_GOLDEN") === "1";

for (const entry of [...Deno.readDirSync(TESTDATA)].sort((a, b) => a.name.localeCompare(b.name))) {
  if (!entry.isDirectory) continue;
  const dir = new URL(`${entry.name}/`, TESTDATA);
  Deno.test(`decodePacket() and the intake walk give the golden result for ${entry.name}`, () => {
    const packet = Deno.readFileSync(new URL("packet.bin", dir));
    let sec: { level: "None" | "Sign" | "Encrypt"; authFile: string | null } = {
      level: "None",
      authFile: null,
    };
    try {
      sec = JSON.parse(Deno.readTextFileSync(new URL("security.json", dir)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const got = runDatagram(packet, sec.level, sec.authFile);
    const expectedUrl = new URL("expected.json", dir);
    if (update) Deno.writeTextFileSync(expectedUrl, toJson(got));
    assert.deepEqual(got, fromJson(Deno.readTextFileSync(expectedUrl)));
  });
}
