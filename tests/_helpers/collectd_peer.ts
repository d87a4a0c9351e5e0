/**
 * Test helper: runs Debian's collectd 5.12 (`collectd -f -C <conf>`) in a temp dir with its own
 * BaseDir/PIDFile, sending with the network plugin to the agent's intake on loopback.
 */

export interface CollectdPeerOptions {
  port: number;
  host?: string;
  securityLevel?: "None" | "Sign" | "Encrypt";
  username?: string;
  password?: string;
  /** Extra collectd.conf text (e.g. more plugins). */
  extra?: string;
  /** memory/used WarningMax 1 with Persist: a WARNING notification every interval. */
  threshold?: boolean;
  hostname?: string;
}

export interface CollectdPeer {
  dir: string;
  stop(): Promise<void>;
  output(): string;
}

export const COLLECTD = "/usr/sbin/collectd";

export function collectdConf(dir: string, o: CollectdPeerOptions): string {
  const level = o.securityLevel ?? "None";
  const auth = level === "None" ? "" : `
    SecurityLevel ${level}
    Username "${o.username ?? "alice"}"
    Password "${o.password ?? "secret"}"`;
  return `Hostname "${o.hostname ?? "e2e-host"}"
FQDNLookup false
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
</Plugin>
LoadPlugin memory
LoadPlugin load
LoadPlugin cpu
LoadPlugin interface
LoadPlugin network
<Plugin network>
  <Server "${o.host ?? "127.0.0.1"}" "${o.port}">${auth}
  </Server>
</Plugin>
${
    o.threshold
      ? `LoadPlugin threshold
<Plugin threshold>
  <Plugin "memory">
    <Type "memory">
      Instance "used"
      WarningMax 1
      Persist true
    </Type>
  </Plugin>
</Plugin>`
      : ""
  }
${o.extra ?? ""}
`;
}

/** Starts collectd; fails loudly when it is not installed or exits at once. */
export async function startCollectd(o: CollectdPeerOptions): Promise<CollectdPeer> {
  try {
    await Deno.stat(COLLECTD);
  } catch {
    throw new Error(`${COLLECTD} is missing: apt-get install collectd-core (the test needs it)`);
  }
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-collectd-" });
  const conf = `${dir}/collectd.conf`;
  await Deno.writeTextFile(conf, collectdConf(dir, o));
  const child = new Deno.Command(COLLECTD, {
    args: ["-f", "-C", conf],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += dec.decode(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let stopped = false;
  return {
    dir,
    output: () => out,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 3000);
      await child.status;
      clearTimeout(timer);
      await drained;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
