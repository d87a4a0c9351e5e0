import assert from "node:assert/strict";
import { parseRmemDefault, receiveBufferLine } from "../../src/collectd/_receive_buffer.ts";
import { openSocket, type RmemSysctl } from "../../src/collectd/_socket.ts";

const MiB4 = 4 * 1024 * 1024;
const addr = "127.0.0.1:25826";

Deno.test("parseRmemDefault() reads the launcher's bytes and says why an unset or bad value says nothing", () => {
  assert.deepEqual(parseRmemDefault("4194304\n"), { bytes: MiB4 });
  assert.match(
    (parseRmemDefault(undefined) as { unknown: string }).unknown,
    /EDGE_AGENT_RMEM_DEFAULT is not set/,
  );
  assert.match(
    (parseRmemDefault("lots") as { unknown: string }).unknown,
    /EDGE_AGENT_RMEM_DEFAULT="lots" is not a number of bytes/,
  );
});

Deno.test("receiveBufferLine() is one info line when the buffer holds what is wanted", () => {
  const line = receiveBufferLine(addr, { bytes: MiB4, source: "net.core.rmem_default" }, {
    wanted: MiB4,
    explicit: false,
  });
  assert.equal(line.level, "info");
  assert.equal(line.msg, "collectd socket receive buffer: 4194304 bytes (net.core.rmem_default)");
  assert.deepEqual(line.fields, { addr });
});

Deno.test("receiveBufferLine() warns with the sysctl fix when the buffer is below what is wanted", () => {
  const line = receiveBufferLine(addr, { bytes: 212992, source: "net.core.rmem_default" }, {
    wanted: MiB4,
    explicit: false,
  });
  assert.equal(line.level, "warn");
  assert.match(
    line.msg,
    /^collectd socket receive buffer: 212992 bytes .*below the 4194304 wanted/,
  );
  assert.match(String(line.fields.fix), /^sysctl -w net\.core\.rmem_default=4194304 /);
  assert.match(String(line.fields.fix), /\/usr\/lib\/sysctl\.d\/60-edge-agent\.conf/);
});

Deno.test("receiveBufferLine() says unknown, as info for the default size and as a warning for an explicit one", () => {
  const buffer = { bytes: null, source: "EDGE_AGENT_RMEM_DEFAULT is not set" };
  const byDefault = receiveBufferLine(addr, buffer, { wanted: MiB4, explicit: false });
  assert.equal(byDefault.level, "info");
  assert.equal(
    byDefault.msg,
    "collectd socket receive buffer: unknown (EDGE_AGENT_RMEM_DEFAULT is not set)",
  );
  assert.equal(receiveBufferLine(addr, buffer, { wanted: 1 << 23, explicit: true }).level, "warn");
});

function fakeSysctl(value: number | null, writable: boolean) {
  const writes: number[] = [];
  const sysctl: RmemSysctl = {
    read() {
      if (value === null) throw new Deno.errors.NotCapable("Requires all access");
      return value;
    },
    write(bytes) {
      if (!writable) throw new Deno.errors.PermissionDenied("read-only");
      writes.push(bytes);
    },
  };
  return { sysctl, writes };
}

async function opened(
  sysctl: RmemSysctl,
  rmemDefault: ReturnType<typeof parseRmemDefault>,
  receiveBuffer = MiB4,
) {
  const s = await openSocket("127.0.0.1", 0, { receiveBuffer, sysctl, rmemDefault });
  s.conn.close();
  return s.buffer;
}

Deno.test("openSocket() without access to /proc/sys takes the launcher's net.core.rmem_default, or says it is unknown", async () => {
  const { sysctl } = fakeSysctl(null, false);
  assert.deepEqual(await opened(sysctl, { bytes: 212992 }), {
    bytes: 212992,
    source: "net.core.rmem_default",
  });
  assert.deepEqual(await opened(sysctl, { unknown: "not set" }), {
    bytes: null,
    source: "not set",
  });
});

Deno.test("openSocket() with access to /proc/sys raises net.core.rmem_default around the bind and restores it", async () => {
  const raised = fakeSysctl(212992, true);
  assert.deepEqual(await opened(raised.sysctl, { unknown: "not set" }), {
    bytes: MiB4,
    source: "net.core.rmem_default, raised around the bind",
  });
  assert.deepEqual(raised.writes, [MiB4, 212992]);
  const readOnly = fakeSysctl(212992, false);
  assert.deepEqual(await opened(readOnly.sysctl, { bytes: 1 }), {
    bytes: 212992,
    source: "net.core.rmem_default",
  });
  const enough = fakeSysctl(8 * 1024 * 1024, true);
  assert.equal((await opened(enough.sysctl, { unknown: "" })).bytes, 8 * 1024 * 1024);
  assert.deepEqual(enough.writes, []);
});
