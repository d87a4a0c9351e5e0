import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentProcess, startAgent } from "../_helpers/agent_process.ts";
import { freeUdpPort } from "../_helpers/ports.ts";

// The receive buffer of the collectd sockets as an operator reads it in the log of scripts/agent
// (the production flags: the agent may not read /proc/sys itself, the launcher tells it).

const LINE = /collectd socket receive buffer: /;

async function withAgent(
  listen: Record<string, unknown>[],
  env: Record<string, string>,
  fn: (agent: AgentProcess) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-rcvbuf-" });
  await Deno.mkdir(join(dir, "rules"));
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({ StateDir: "state", RulesDir: "rules", Listen: listen }),
  );
  const agent = startAgent(["--config", path], { env });
  try {
    await agent.waitFor(/started in local-only mode/, 30_000);
    await fn(agent);
    assert.deepEqual(agent.lines.filter((l) => /NotCapable|Requires .* access/.test(l)), []);
  } finally {
    agent.kill("SIGKILL");
    await agent.status;
    await Deno.remove(dir, { recursive: true });
  }
}

/** The receive buffer the kernel gave the UDP socket on 127.0.0.1:`port` (ss's rb). */
async function kernelBuffer(port: number): Promise<number> {
  const out = await new Deno.Command("ss", { args: ["-uamnH", `sport = :${port}`] }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rb = /rb(\d+)/.exec(text)?.[1];
  if (rb === undefined) throw new Error(`ss shows no socket on port ${port}: ${text}`);
  return Number(rb);
}

Deno.test("scripts/agent logs once per socket the receive buffer the kernel gave it, from net.core.rmem_default", async () => {
  const port = freeUdpPort();
  await withAgent([{ Host: "127.0.0.1", Port: port }], {}, async (agent) => {
    const lines = agent.lines.filter((l) => LINE.test(l));
    assert.equal(lines.length, 1, agent.lines.join("\n"));
    const m = /collectd socket receive buffer: (\d+) bytes \(net\.core\.rmem_default\)/
      .exec(lines[0]!);
    assert.ok(m, lines[0]!);
    assert.match(lines[0]!, new RegExp(`addr=127\\.0\\.0\\.1:${port}`));
    assert.equal(Number(m[1]), await kernelBuffer(port));
    // at or above the 4 MiB the agent wants it is information, below it a warning
    assert.match(lines[0]!, Number(m[1]) >= 4194304 ? /^\S+ INFO / : /^\S+ WARN /);
    assert.ok(!agent.lines.some((l) => /receive buffer not applied/.test(l)));
  });
});

Deno.test("scripts/agent warns with the sysctl fix when net.core.rmem_default is below what a socket wants", async () => {
  const [low, small] = [freeUdpPort(), freeUdpPort()];
  await withAgent(
    [{ Host: "127.0.0.1", Port: low }, { Host: "127.0.0.1", Port: small, ReceiveBuffer: 131072 }],
    { EDGE_AGENT_RMEM_DEFAULT: "212992" },
    (agent) => {
      const lines = agent.lines.filter((l) => LINE.test(l));
      assert.equal(lines.length, 2, agent.lines.join("\n"));
      const [first, second] = [
        lines.find((l) => l.includes(`addr=127.0.0.1:${low}`))!,
        lines.find((l) => l.includes(`addr=127.0.0.1:${small}`))!,
      ];
      assert.match(
        first,
        /^\S+ WARN .*collectd socket receive buffer: 212992 bytes \(net\.core\.rmem_default\), below the 4194304 wanted/,
      );
      assert.match(
        first,
        /fix="sysctl -w net\.core\.rmem_default=4194304 \(the package sets it in \/usr\/lib\/sysctl\.d\/60-edge-agent\.conf/,
      );
      // a socket that wants no more than it got: information, no fix
      assert.match(second, /^\S+ INFO .*collectd socket receive buffer: 212992 bytes/);
      assert.doesNotMatch(second, /fix=/);
      return Promise.resolve();
    },
  );
});

Deno.test("scripts/agent started without the launcher's reading says the receive buffer is unknown", async () => {
  const port = freeUdpPort();
  // an empty value is what the launcher passes when /proc/sys cannot be read
  await withAgent([{ Host: "127.0.0.1", Port: port }], { EDGE_AGENT_RMEM_DEFAULT: "" }, (agent) => {
    const lines = agent.lines.filter((l) => LINE.test(l));
    assert.equal(lines.length, 1, agent.lines.join("\n"));
    assert.match(
      lines[0]!,
      /^\S+ INFO .*collectd socket receive buffer: unknown \(EDGE_AGENT_RMEM_DEFAULT is not set/,
    );
    return Promise.resolve();
  });
});
