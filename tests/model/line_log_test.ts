import assert from "node:assert/strict";
import { join } from "node:path";
import { openLineAppender, readLineLog } from "../../src/model/mod.ts";
import { createLogger, type LogEvent } from "../../src/log/mod.ts";
import { withTmpfs } from "../_helpers/tmpfs.ts";

/** Runs `fn` in a fresh temp folder and removes the folder afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A record: `{"n":<int>}` and nothing else. */
const parse = (line: string) => {
  const v = JSON.parse(line);
  return typeof v?.n === "number" && Object.keys(v).length === 1 ? v.n as number : undefined;
};

function read(path: string) {
  const events: LogEvent[] = [];
  const logger = createLogger({ level: "debug", sink: (e) => events.push(e) });
  return readLineLog(path, { parse, logger, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) })
    .then((r) => ({ ...r, events }));
}

const corruptFiles = (dir: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes(".corrupt-"));

Deno.test("readLineLog() keeps every complete record whatever byte the last record was cut at", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    const complete = '{"n":1}\n{"n":2}\n';
    const last = '{"n":345}\n';
    for (let cut = 0; cut < last.length; cut++) {
      await Deno.writeTextFile(path, complete + last.slice(0, cut));
      const { records, setAside, events } = await read(path);
      assert.deepEqual(records, [1, 2], `cut at ${cut}`);
      if (cut === 0) {
        assert.equal(setAside, null);
        continue;
      }
      // Even `{"n":345}` without its newline is not a record: its append never completed.
      assert.equal(setAside?.offset, complete.length, `cut at ${cut}`);
      assert.equal(setAside?.lostBytes, cut);
      assert.equal(setAside?.torn, true);
      assert.equal(await Deno.readTextFile(path), complete, "rewritten with the kept records");
      assert.equal(await Deno.readTextFile(setAside!.savedAs!), complete + last.slice(0, cut));
      const error = events.find((e) => e.level === "error")!;
      assert.match(error.msg, new RegExp(`state file ${path}: set aside ${cut} unreadable byte`));
      assert.match(error.msg, /from byte offset 16 \(a torn last line/);
      await Deno.remove(setAside!.savedAs!);
    }
  }));

Deno.test("readLineLog() sets aside garbage in the middle and keeps the records around it", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    await Deno.writeTextFile(path, '{"n":1}\n\u0000\u0000garbage\n{"n":"x"}\n\n{"n":2}\n');
    const { records, setAside } = await read(path);
    assert.deepEqual(records, [1, 2]);
    assert.deepEqual(
      { ...setAside, savedAs: undefined, file: undefined },
      {
        file: undefined,
        savedAs: undefined,
        offset: 8,
        lostBytes: 20,
        lostLines: 2,
        torn: false,
        kept: 2,
        rewritten: true,
      },
    );
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n{"n":2}\n');
    assert.equal(corruptFiles(dir).length, 1);
    assert.match(corruptFiles(dir)[0]!, /^log\.corrupt-20260102T030405\.000Z$/);
  }));

Deno.test("readLineLog() sets a file of random bytes aside whole and starts empty", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    const bytes = new Uint8Array(4096);
    crypto.getRandomValues(bytes);
    await Deno.writeFile(path, bytes);
    const { records, setAside, events } = await read(path);
    assert.deepEqual(records, []);
    assert.equal(setAside?.offset, bytes.findIndex((b) => b !== 10));
    assert.equal(
      setAside?.lostBytes,
      bytes.length - countEmptyLines(bytes),
      "empty lines are no loss",
    );
    assert.equal((await Deno.readFile(path)).length, 0);
    assert.deepEqual(await Deno.readFile(setAside!.savedAs!), bytes);
    assert.equal(events.filter((e) => e.level === "error").length, 1);
  }));

function countEmptyLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10 && (i === 0 || bytes[i - 1] === 10)) n++;
  }
  return n;
}

Deno.test("readLineLog() reads a missing file as empty and a clean file without a word", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    assert.deepEqual((await read(path)).records, []);
    await Deno.writeTextFile(path, '{"n":1}\n');
    const clean = await read(path);
    assert.deepEqual(clean.records, [1]);
    assert.equal(clean.events.length, 0);
    assert.deepEqual(corruptFiles(dir), []);
  }));

Deno.test("readLineLog() sets aside a line that is not UTF-8", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    await Deno.writeFile(
      path,
      new Uint8Array([...new TextEncoder().encode('{"n":1}\n'), 0xff, 10]),
    );
    const { records, setAside } = await read(path);
    assert.deepEqual(records, [1]);
    assert.equal(setAside?.offset, 8);
  }));

Deno.test("readLineLog() with readOnly skips garbage and a torn last line, and changes nothing on disk", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    const text = '{"n":1}\ngarbage\n{"n":2}\n{"n":3';
    await Deno.writeTextFile(path, text);
    const events: LogEvent[] = [];
    const logger = createLogger({ level: "debug", sink: (e) => events.push(e) });
    const { records, setAside } = await readLineLog(path, { parse, logger, readOnly: true });
    assert.deepEqual(records, [1, 2]);
    assert.equal(await Deno.readTextFile(path), text, "the file is not rewritten");
    assert.deepEqual(corruptFiles(dir), [], "nothing is set aside");
    assert.equal(events.length, 0, "nothing is logged");
    assert.deepEqual(
      [
        setAside?.offset,
        setAside?.lostLines,
        setAside?.torn,
        setAside?.savedAs,
        setAside?.rewritten,
      ],
      [8, 2, true, null, false],
    );
  }));

Deno.test("openLineAppender() starts a new line after a torn one", () =>
  inTempDir(async (dir) => {
    const path = join(dir, "log");
    await Deno.writeTextFile(path, '{"n":1}\n{"n":');
    const a = await openLineAppender(path);
    await a.append('{"n":2}\n');
    await a.append('{"n":3}\n');
    a.close();
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n{"n":\n{"n":2}\n{"n":3}\n');
    assert.deepEqual((await read(path)).records, [1, 2, 3]);
  }));

Deno.test("openLineAppender() on a full disk throws and leaves no torn line behind", () =>
  withTmpfs(64 * 1024, async (fs) => {
    const path = join(fs.dir, "log");
    const a = await openLineAppender(path);
    await a.append('{"n":1}\n');
    await fs.fill();
    const big = `{"n":${"2".repeat(20_000)}}\n`;
    await assert.rejects(a.append(big), /No space left|os error 28/);
    assert.equal(await Deno.readTextFile(path), '{"n":1}\n', "the partial write was cut off");
    assert.equal(a.size, 8);
    await fs.free();
    await a.append('{"n":3}\n');
    a.close();
    assert.deepEqual((await read(path)).records, [1, 3]);
  }));
