import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { createSystemdNotifier, watchdogInterval } from "../../src/systemd/mod.ts";
import { derivePermissions, permissionFlags } from "../../src/permissions/mod.ts";

const decoder = new TextDecoder();

/** A systemd-like receiver: a unix datagram socket bound at `path` ("\0name" = abstract). */
function receiver(path: string) {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  return {
    async next(timeoutMs = 5000): Promise<string> {
      const timer = setTimeout(() => conn.close(), timeoutMs);
      try {
        const [bytes] = await conn.receive();
        return decoder.decode(bytes);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => conn.close(),
  };
}

Deno.test("ready() sends READY=1 and STATUS in one datagram to a path $NOTIFY_SOCKET", async () => {
  const dir = await Deno.makeTempDir();
  const rx = receiver(join(dir, "notify"));
  // the bind folder (StateDir) does not exist yet: it is created
  const n = createSystemdNotifier({
    socket: join(dir, "notify"),
    bindPath: join(dir, "state/own.sock"),
  });
  try {
    assert.equal(n.enabled, true);
    await n.ready("listening on 127.0.0.1:25826");
    assert.equal(await rx.next(), "READY=1\nSTATUS=listening on 127.0.0.1:25826");
    await n.stopping();
    assert.equal(await rx.next(), "STOPPING=1");
  } finally {
    await n.close();
    rx.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an abstract-namespace @name $NOTIFY_SOCKET receives the messages", async () => {
  const name = `edge-agent-test-${crypto.randomUUID()}`;
  const rx = receiver(`\0${name}`);
  const n = createSystemdNotifier({ socket: `@${name}` });
  try {
    await n.ready();
    assert.equal(await rx.next(), "READY=1");
  } finally {
    await n.close();
    rx.close();
  }
});

Deno.test("startWatchdog() sends WATCHDOG=1 every half of WATCHDOG_USEC until close()", async () => {
  const dir = await Deno.makeTempDir();
  const rx = receiver(join(dir, "notify"));
  const n = createSystemdNotifier({
    socket: join(dir, "notify"),
    watchdogUsec: "100000",
    watchdogPid: String(Deno.pid),
    bindPath: join(dir, "own.sock"),
  });
  try {
    assert.equal(n.watchdogIntervalMs, 50);
    n.startWatchdog();
    assert.equal(await rx.next(), "WATCHDOG=1");
    assert.equal(await rx.next(), "WATCHDOG=1");
    await n.close();
    await assert.rejects(rx.next(300)); // nothing more after close (receive is cut by the timeout)
    await assert.rejects(Deno.stat(join(dir, "own.sock")), Deno.errors.NotFound);
  } finally {
    await n.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchdogInterval() is null without WATCHDOG_USEC or when WATCHDOG_PID is another process", () => {
  assert.equal(watchdogInterval(undefined, undefined, 10), null);
  assert.equal(watchdogInterval("0", undefined, 10), null);
  assert.equal(watchdogInterval("abc", undefined, 10), null);
  assert.equal(watchdogInterval("30000000", "11", 10), null);
  assert.equal(watchdogInterval("30000000", "10", 10), 15000);
  assert.equal(watchdogInterval("30000000", undefined, 10), 15000);
});

Deno.test("without $NOTIFY_SOCKET every call does nothing and nothing is bound", async () => {
  const dir = await Deno.makeTempDir();
  const n = createSystemdNotifier({ socket: undefined, bindPath: join(dir, "own.sock") });
  try {
    assert.equal(n.enabled, false);
    assert.equal(n.watchdogIntervalMs, null);
    await n.ready();
    await n.watchdog();
    await assert.rejects(Deno.stat(join(dir, "own.sock")), Deno.errors.NotFound);
  } finally {
    await n.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a send that fails is reported to onError and does not throw", async () => {
  const dir = await Deno.makeTempDir();
  const errors: Error[] = [];
  const n = createSystemdNotifier({
    socket: join(dir, "missing"),
    bindPath: join(dir, "own.sock"),
    onError: (e) => errors.push(e),
  });
  try {
    await n.ready();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /Cannot notify systemd at .*missing \(READY=1\)/);
  } finally {
    await n.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process holding only the derived flags (--notify-socket) can notify systemd", async () => {
  const dir = await Deno.makeTempDir();
  const rx = receiver(join(dir, "notify"));
  try {
    const configFile = join(dir, "config.json");
    await Deno.writeTextFile(configFile, JSON.stringify({ StateDir: "state" }));
    await Deno.mkdir(join(dir, "state"));
    const { config } = parseConfig(await Deno.readTextFile(configFile), configFile);
    const flags = permissionFlags(
      derivePermissions(config, { notifySocket: join(dir, "notify") }),
    );
    const script = join(dir, "notify_main.ts");
    const mod = new URL("../../src/systemd/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { createSystemdNotifier } from "${mod}";\n` +
        `const n = createSystemdNotifier({ bindPath: ${
          JSON.stringify(join(dir, "state", "notify.sock"))
        },` +
        ` onError: (e) => { console.error(e.message); Deno.exit(1); } });\n` +
        `await n.ready("ok"); await n.close();\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, script],
      env: { NOTIFY_SOCKET: join(dir, "notify") },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    assert.equal(await rx.next(), "READY=1\nSTATUS=ok");
  } finally {
    rx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
