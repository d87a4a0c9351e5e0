import assert from "node:assert/strict";
import { channelConfig, startTestAgent } from "../_helpers/channel.ts";
import { makeCerts } from "../_helpers/certs.ts";
import { collect, nowStamp, testClient, until } from "../_helpers/mqtt.ts";
import { startMosquitto } from "../_helpers/mosquitto.ts";

async function roundTrip(
  requireClientCert: boolean,
  tlsKeys: (c: Awaited<ReturnType<typeof makeCerts>>) => Record<string, unknown>,
  expectConnect: boolean,
) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-tls-" });
  const certs = await makeCerts(dir);
  const broker = await startMosquitto({
    tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireClientCert },
  });
  const agent = await startTestAgent(
    channelConfig(`127.0.0.1:${broker.tlsPort}`, dir, { Secure: true, ...tlsKeys(certs) }),
  );
  const client = await testClient(broker.port);
  try {
    if (!expectConnect) {
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(agent.channel.connected, false);
      return;
    }
    await until(() => agent.channel.connected, "the agent to connect over TLS");
    const results = await collect(client, "result/edge1");
    await client.publishAsync(
      "cmd/edge1",
      JSON.stringify({ task_id: 9, timestamp: nowStamp(), service: "hello", command: "exec" }),
      { qos: 1 },
    );
    await results.waitFor(1);
    assert.equal(results.messages[0]!.code, 0);
  } finally {
    await client.endAsync();
    await agent.stop();
    await broker.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Secure with CAFile and ServerName connects over TLS and serves commands", async () => {
  await roundTrip(false, (c) => ({ CAFile: c.ca, ServerName: "localhost" }), true);
});

Deno.test("mutual TLS with CertFile and KeyFile connects to a broker that requires client certificates", async () => {
  await roundTrip(
    true,
    (c) => ({
      CAFile: c.ca,
      CertFile: c.clientCert,
      KeyFile: c.clientKey,
      ServerName: "localhost",
    }),
    true,
  );
});

Deno.test("a broker whose certificate is not signed by CAFile is refused", async () => {
  await roundTrip(false, (c) => ({ CAFile: c.otherCa, ServerName: "localhost" }), false);
});

Deno.test("without a client certificate, a broker requiring one refuses the agent", async () => {
  await roundTrip(true, (c) => ({ CAFile: c.ca, ServerName: "localhost" }), false);
});
