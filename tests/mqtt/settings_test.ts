import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { brokerSettings, parseEndpoint } from "../../src/mqtt/mod.ts";

Deno.test("parseEndpoint() takes host, host:port, [v6]:port and mqtt:// URIs, defaulting to 1883 or 8883", () => {
  assert.deepEqual(parseEndpoint("localhost", false), { host: "localhost", port: 1883 });
  assert.deepEqual(parseEndpoint("localhost", true), { host: "localhost", port: 8883 });
  assert.deepEqual(parseEndpoint("broker.example:1884", false), {
    host: "broker.example",
    port: 1884,
  });
  assert.deepEqual(parseEndpoint("[::1]:1885", false), { host: "::1", port: 1885 });
  assert.deepEqual(parseEndpoint("::1", false), { host: "::1", port: 1883 });
  assert.deepEqual(parseEndpoint("mqtts://b:8884", true), { host: "b", port: 8884 });
});

Deno.test("parseEndpoint() rejects a port out of range or a missing host", () => {
  assert.throws(() => parseEndpoint("b:0", false), /Invalid broker address "b:0"/);
  assert.throws(() => parseEndpoint("b:70000", false), /Invalid broker address/);
  assert.throws(() => parseEndpoint(":1883", false), /Invalid broker address/);
});

Deno.test("brokerSettings() expands {host} in ClientId, lists every Host and reads TLS files relative to the config", async () => {
  const config = parseConfig(
    JSON.stringify({
      Host: ["a:1883", "b"],
      Secure: true,
      CAFile: "certs/ca.pem",
      ServerName: "mqtt.example",
      ReconnectInterval: 2,
      ProtocolVersion: 5,
    }),
    "/etc/edge-agent/config.json",
  ).config;
  const read: string[] = [];
  const s = await brokerSettings(config, "edge7", (p) => {
    read.push(p);
    return Promise.resolve("PEM");
  });
  assert.deepEqual(read, [join("/etc/edge-agent", "certs/ca.pem")]);
  assert.deepEqual(s.endpoints, [{ host: "a", port: 1883 }, { host: "b", port: 8883 }]);
  assert.equal(s.clientId, "edge-agent-edge7");
  assert.equal(s.reconnectMs, 2000);
  assert.equal(s.protocolVersion, 5);
  assert.deepEqual(s.tls, { ca: "PEM", servername: "mqtt.example" });
});

Deno.test("brokerSettings() refuses a CertFile without its KeyFile and names an unreadable file", async () => {
  const cfg = (extra: Record<string, unknown>) =>
    parseConfig(JSON.stringify({ Host: "a", Secure: true, ...extra }), "/x/config.json").config;
  await assert.rejects(
    brokerSettings(cfg({ CertFile: "c.pem" }), "h", () => Promise.resolve("PEM")),
    /both CertFile and KeyFile/,
  );
  await assert.rejects(
    brokerSettings(cfg({ CAFile: "missing.pem" }), "h", () => Promise.reject(new Error("nope"))),
    /Cannot read CAFile \/x\/missing.pem: nope/,
  );
});

Deno.test("the MQTT config keys are strict: a misspelled TLS key is an error", () => {
  assert.throws(
    () => parseConfig(JSON.stringify({ Host: "a", CaFile: "x" }), "/x/config.json"),
    /CaFile: unknown key \(did you mean "CAFile"\?\)/,
  );
  assert.throws(
    () => parseConfig(JSON.stringify({ CommandSenders: [{ Name: "a", Secret: "short" }] }), "/c"),
    /CommandSenders\[0\]\.Secret/,
  );
});

Deno.test("brokerSettings() with Secure and no CAFile uses the system CA bundle", async () => {
  const config = parseConfig(JSON.stringify({ Host: "b", Secure: true }), "/x/config.json").config;
  const read: string[] = [];
  const s = await brokerSettings(config, "h", (p) => {
    read.push(p);
    return p === "/etc/pki/tls/certs/ca-bundle.crt"
      ? Promise.resolve("SYSTEM PEM")
      : Promise.reject(new Deno.errors.NotFound("no"));
  });
  assert.equal(s.tls?.ca, "SYSTEM PEM");
  assert.deepEqual(read, [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
  ]);
});

Deno.test("brokerSettings() reports a system CA bundle it may not read instead of trusting Deno's roots", async () => {
  const config = parseConfig(JSON.stringify({ Host: "b", Secure: true }), "/x/config.json").config;
  await assert.rejects(
    () => brokerSettings(config, "h", () => Promise.reject(new Deno.errors.NotCapable("denied"))),
    /Cannot read the system CA bundle \/etc\/ssl\/certs\/ca-certificates\.crt: denied/,
  );
});
