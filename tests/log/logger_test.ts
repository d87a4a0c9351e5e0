import assert from "node:assert/strict";
import { createLogger, formatJson, formatText, type LogEvent } from "../../src/log/mod.ts";
import { syslogSink } from "../../src/log/syslog.ts";
import { rateLimited } from "../../src/log/rate_limit.ts";

function capture(level: "info" | "debug" = "info") {
  const events: LogEvent[] = [];
  return { events, logger: createLogger({ level, sink: (e) => events.push(e) }) };
}

Deno.test("createLogger() writes events at or above its level and drops the rest", () => {
  const { events, logger } = capture("info");
  logger.debug("hidden");
  logger.info("shown");
  logger.error("also shown");
  assert.deepEqual(events.map((e) => e.msg), ["shown", "also shown"]);
  assert.equal(logger.enabled("debug"), false);
  assert.equal(logger.enabled("warn"), true);
});

Deno.test("a child logger tags its events with its component", () => {
  const { events, logger } = capture();
  logger.child("listener").warn("bad packet");
  assert.equal(events[0]?.component, "listener");
});

Deno.test("formatText() gives one greppable line with key=value fields", () => {
  const line = formatText({
    time: new Date("2026-11-23T13:40:00.123Z"),
    level: "info",
    component: "listener",
    msg: "listening\nfor packets",
    fields: { addr: "127.0.0.1:25826", note: "two words", big: 2n ** 64n },
  });
  assert.equal(
    line,
    '2026-11-23T13:40:00.123Z INFO  listener: listening\\nfor packets addr=127.0.0.1:25826 note="two words" big=18446744073709551616',
  );
});

Deno.test("formatJson() gives one JSON object per event with the fields inline", () => {
  const obj = JSON.parse(formatJson({
    time: new Date("2026-11-23T13:40:00.123Z"),
    level: "error",
    component: "executor",
    msg: "run failed",
    fields: { code: 4113 },
  }));
  assert.deepEqual(obj, {
    time: "2026-11-23T13:40:00.123Z",
    level: "error",
    component: "executor",
    msg: "run failed",
    code: 4113,
  });
});

Deno.test("syslogSink() sends one datagram per event to the syslog socket", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/log.sock`;
  const server = Deno.listenDatagram({ transport: "unixpacket", path });
  try {
    const logger = createLogger({ sink: syslogSink({ path, tag: "edge-agent" }) });
    logger.warn("disk almost full", { free: "3%" });
    const [bytes] = await server.receive();
    const text = new TextDecoder().decode(bytes);
    // facility daemon (3) * 8 + warning (4) = 28
    assert.match(
      text,
      new RegExp(`^<28>edge-agent\\[${Deno.pid}\\]: WARN  agent: disk almost full free=3%$`),
    );
  } finally {
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("syslogSink() can bind its own end at a path (least-privilege flags forbid autobind)", async () => {
  const dir = await Deno.makeTempDir();
  const server = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/log.sock` });
  try {
    const bindPath = `${dir}/state/syslog.sock`;
    const logger = createLogger({ sink: syslogSink({ path: `${dir}/log.sock`, bindPath }) });
    logger.error("cannot restart nginx");
    const [bytes, from] = await server.receive();
    assert.match(
      new TextDecoder().decode(bytes),
      /^<27>edge-agent\[\d+\]: ERROR agent: cannot restart nginx$/,
    );
    assert.equal((from as Deno.UnixAddr).path, bindPath);
  } finally {
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("syslogSink() reports an unreachable socket once, without throwing", async () => {
  const errors: Error[] = [];
  const logger = createLogger({
    sink: syslogSink({ path: "/nonexistent/log.sock", onError: (e) => errors.push(e) }),
  });
  logger.info("one");
  logger.info("two");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(errors.length, 1);
});

Deno.test("rateLimited() emits once per interval per key and counts what it suppressed", () => {
  let t = 0;
  const out: [string, number][] = [];
  const hit = rateLimited((k, n) => out.push([k, n]), { intervalMs: 1000, now: () => t });
  hit("10.0.0.1");
  hit("10.0.0.1");
  hit("10.0.0.2");
  t = 999;
  hit("10.0.0.1");
  t = 1000;
  hit("10.0.0.1");
  assert.deepEqual(out, [["10.0.0.1", 0], ["10.0.0.2", 0], ["10.0.0.1", 2]]);
});
