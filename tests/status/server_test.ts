/** The status socket and its client, in-process over a real unix socket in a temp folder. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createStatusServer,
  parseAnswer,
  queryStatus,
  STATUS_REQUEST,
  STATUS_SOCKET,
} from "../../src/status/mod.ts";
import { memoryLogger } from "../_helpers/memory_logger.ts";
import { runningReport } from "./_reports.ts";

async function setup(answer: () => Promise<unknown> = () => Promise.resolve(runningReport())) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-status-" });
  await Deno.chmod(dir, 0o700);
  const { logger, events } = memoryLogger();
  const server = createStatusServer({ logger, answer, timeoutMs: 300, maxConnections: 2 });
  const path = join(dir, STATUS_SOCKET);
  return {
    dir,
    path,
    server,
    events,
    async [Symbol.asyncDispose]() {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Sends `bytes` and reads until the server closes. */
async function exchange(path: string, bytes: string): Promise<string> {
  const c = await Deno.connect({ transport: "unix", path });
  await c.write(new TextEncoder().encode(bytes));
  const text = await new Response(c.readable).text();
  return text;
}

Deno.test("the status socket answers the one request with one JSON line, mode 0600, and is gone after stop", async () => {
  await using s = await setup();
  await s.server.start(s.path);
  assert.equal((await Deno.stat(s.path)).mode! & 0o777, 0o600);
  const answer = await queryStatus(s.dir);
  assert.deepEqual(answer, { kind: "running", report: runningReport() });
  await s.server.stop();
  assert.equal(await Deno.stat(s.path).catch(() => null), null);
  assert.deepEqual(await queryStatus(s.dir), {
    kind: "not_running",
    why: `no status socket ${s.path}`,
  });
});

Deno.test("the status socket answers anything but its request with an error, and reads at most 64 bytes", async () => {
  await using s = await setup();
  await s.server.start(s.path);
  const reply = JSON.parse(await exchange(s.path, "GET / HTTP/1.1\r\n\r\n"));
  assert.equal(reply.version, 1);
  assert.match(reply.error, /unknown request/);
  const long = await exchange(s.path, "x".repeat(100_000)).catch(() => "");
  assert.ok(long === "" || /unknown request/.test(long), long.slice(0, 100));
  // still serving
  assert.equal((await queryStatus(s.dir)).kind, "running");
});

Deno.test("a client that never sends its request is cut off after the timeout, and others are served meanwhile", async () => {
  await using s = await setup();
  await s.server.start(s.path);
  const silent = await Deno.connect({ transport: "unix", path: s.path });
  const started = Date.now();
  assert.equal((await queryStatus(s.dir)).kind, "running", "served beside the silent one");
  const read = await silent.read(new Uint8Array(10)).catch(() => null);
  assert.equal(read, null, "closed by the server");
  assert.ok(Date.now() - started < 2000);
  silent.close();
});

Deno.test("connections beyond the limit are closed at once; the agent is never held up", async () => {
  const gate = Promise.withResolvers<void>();
  await using s = await setup(async () => {
    await gate.promise;
    return runningReport();
  });
  await s.server.start(s.path);
  const slow = [queryStatus(s.dir), queryStatus(s.dir)];
  await new Promise((r) => setTimeout(r, 50));
  const refused = await queryStatus(s.dir);
  assert.equal(refused.kind, "unreachable");
  assert.match((refused as { why: string }).why, /status\.sock.* closed without an answer/);
  // an answer that hangs ends each connection at the timeout (300 ms) and frees its slot
  for (const a of await Promise.all(slow)) assert.equal(a.kind, "unreachable");
  const meanwhile = queryStatus(s.dir);
  gate.resolve();
  assert.equal((await meanwhile).kind, "running");
});

Deno.test("a socket left by an agent that was killed reads as not running, and the next start replaces it", async () => {
  await using s = await setup();
  // what SIGKILL leaves: the socket file, nobody listening (close() would remove the file)
  const killed = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: ${JSON.stringify(s.path)} });` +
      "Deno.kill(Deno.pid, 'SIGKILL');",
    ],
  }).output();
  assert.equal(killed.signal, "SIGKILL");
  assert.ok((await Deno.stat(s.path)).isSocket);
  const answer = await queryStatus(s.dir);
  assert.equal(answer.kind, "not_running");
  assert.match((answer as { why: string }).why, /nothing listens on .*did not stop cleanly/);
  await s.server.start(s.path);
  assert.equal((await queryStatus(s.dir)).kind, "running");
});

Deno.test("a second server on the same path leaves the first one's socket alone and says so", async () => {
  await using s = await setup();
  await s.server.start(s.path);
  const other = createStatusServer({
    logger: memoryLogger().logger,
    answer: () => Promise.resolve({ version: 1, error: "the other one" }),
  });
  const { logger, events } = memoryLogger();
  const second = createStatusServer({ logger, answer: () => Promise.resolve({}) });
  await second.start(s.path);
  assert.equal(second.path, null);
  assert.match(events.map((e) => e.msg).join("\n"), /another process answers on .*status\.sock/);
  assert.equal((await queryStatus(s.dir)).kind, "running", "the first still answers");
  await other.stop();
});

Deno.test("a socket that cannot be bound is logged, and start does not throw", async () => {
  await using s = await setup();
  const path = join(s.dir, "x".repeat(120), STATUS_SOCKET);
  await s.server.start(path);
  assert.equal(s.server.path, null);
  assert.match(s.events.map((e) => e.msg).join("\n"), /cannot serve the status socket/);
});

Deno.test("parseAnswer() names what is wrong with an answer: not JSON, another version, an error, a bad shape", () => {
  const kinds = (t: string) => parseAnswer(t, "/s");
  assert.match(JSON.stringify(kinds("")), /closed without an answer/);
  assert.match(JSON.stringify(kinds("<html>")), /not JSON/);
  assert.match(JSON.stringify(kinds('{"version":2}')), /version 2, this command reads version 1/);
  assert.deepEqual(kinds('{"version":1,"error":"reloading"}'), {
    kind: "unreachable",
    why: "reloading",
  });
  assert.match(
    JSON.stringify(kinds('{"version":1,"running":true}')),
    /does not match status version 1/,
  );
  assert.equal(STATUS_REQUEST, "status 1\n");
});

Deno.test("queryStatus() tells a socket it may not open (not root, or the wrong flags) from an agent that is not running", async () => {
  const refuse = (e: Error) => () => Promise.reject(e);
  const denied = await queryStatus("/var/lib/edge-agent", {
    connect: refuse(new Deno.errors.PermissionDenied("Permission denied (os error 13)")),
  });
  assert.deepEqual(denied, {
    kind: "unreachable",
    why: "cannot open /var/lib/edge-agent/status.sock: Permission denied (os error 13) " +
      "(StateDir is root's only: run as root)",
  });
  const flags = await queryStatus("/var/lib/edge-agent", {
    connect: refuse(new Deno.errors.NotCapable("Requires write access")),
  });
  assert.equal(flags.kind, "unreachable");
  assert.match((flags as { why: string }).why, /not permitted by this process's flags/);
});
