import assert from "node:assert/strict";
import { join } from "node:path";
import { renameDurable, writeFileDurable } from "../../src/model/mod.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Runs `fn` in a fresh temp folder and removes the folder afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeFileDurable() replaces a file whole and leaves no temp file behind", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "state.json");
    await writeFileDurable(path, text("old"));
    await writeFileDurable(path, text("new"));
    assert.equal(await Deno.readTextFile(path), "new");
    assert.deepEqual(Deno.readDirSync(dir).toArray().map((e) => e.name), ["state.json"]);
  }));

Deno.test("a durable write that fails keeps the old content and removes its temp file", () =>
  inTempDir(async (dir) => {
    // A folder where the file should go: the rename over it fails.
    const path = join(dir, "busy");
    await Deno.mkdir(path);
    await Deno.writeTextFile(join(path, "inside"), "kept");
    await assert.rejects(writeFileDurable(path, text("lost")));
    assert.equal(await Deno.readTextFile(join(path, "inside")), "kept");
    assert.deepEqual(Deno.readDirSync(dir).toArray().map((e) => e.name), ["busy"]);
  }));

Deno.test("renameDurable() moves a file over another", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "a"), "A");
    await Deno.writeTextFile(join(dir, "b"), "B");
    await renameDurable(join(dir, "a"), join(dir, "b"));
    assert.equal(await Deno.readTextFile(join(dir, "b")), "A");
    assert.deepEqual(Deno.readDirSync(dir).toArray().map((e) => e.name), ["b"]);
  }));
