import assert from "node:assert/strict";
import { Code } from "../../src/model/mod.ts";

Deno.test("every executor error code (0x1010-0x10ff) is listed in docs/remote.md's error-code table", async () => {
  const page = await Deno.readTextFile(new URL("../../docs/remote.md", import.meta.url));
  const executorCodes = Object.entries(Code).filter(([, v]) => v >= 0x1010 && v <= 0x10ff);
  assert.ok(executorCodes.length >= 8);
  for (const [name, value] of executorCodes) {
    const hex = `0x${value.toString(16).padStart(4, "0")}`;
    assert.match(page, new RegExp(`^\\| \`${hex}\` \\| .+ \\|$`, "m"), `${name} (${hex})`);
  }
});
