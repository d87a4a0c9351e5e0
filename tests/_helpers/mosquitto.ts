import { join } from "node:path";
import { freeTcpPort } from "./ports.ts";

/** A real mosquitto on loopback, on a free port, with a password file. */
export interface Mosquitto {
  readonly port: number;
  /** The TLS listener's port (0 without `tls`). */
  readonly tlsPort: number;
  readonly address: string;
  readonly dir: string;
  readonly pid: number;
  /** SIGKILL (a broker crash) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the broker freezes without closing its sockets. */
  pause(): void;
  resume(): void;
  /** Stops it (idempotent) and removes its folder. */
  stop(): Promise<void>;
  /** Its log so far (for failure messages). */
  log(): string;
}

export const USER = "agent";
export const PASSWORD = "s3cret-pass";

/** Options of {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /** PEM files for a TLS listener. */
  tls?: { ca: string; cert: string; key: string; requireClientCert?: boolean };
  /** Extra lines for mosquitto.conf. */
  extra?: string[];
  /** A fixed port (to bring a killed broker back on its address); default: a free one. */
  port?: number;
}

/** Starts mosquitto 2 (set_tcp_nodelay true) and resolves once it accepts connections. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-mosquitto-" });
  const passwd = join(dir, "passwd");
  const pw = await new Deno.Command("/usr/bin/mosquitto_passwd", {
    args: ["-b", "-c", passwd, USER, PASSWORD],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!pw.success) {
    throw new Error(`mosquitto_passwd failed: ${new TextDecoder().decode(pw.stderr)}`);
  }
  await Deno.chmod(passwd, 0o600);
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? freeTcpPort();
    const tlsPort = options.tls ? freeTcpPort() : 0;
    const lines = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous false",
      `password_file ${passwd}`,
      "set_tcp_nodelay true",
      "persistence false",
      // As root, mosquitto would drop to user "mosquitto", which cannot read our 0600 files.
      ...(Deno.uid() === 0 ? ["user root"] : []),
      "max_queued_messages 100000",
      ...(options.tls
        ? [
          `listener ${tlsPort} 127.0.0.1`,
          `cafile ${options.tls.ca}`,
          `certfile ${options.tls.cert}`,
          `keyfile ${options.tls.key}`,
          `require_certificate ${options.tls.requireClientCert ? "true" : "false"}`,
        ]
        : []),
      ...(options.extra ?? []),
    ];
    const conf = join(dir, "mosquitto.conf");
    await Deno.writeTextFile(conf, lines.join("\n") + "\n");
    const child = new Deno.Command("/usr/sbin/mosquitto", {
      args: ["-c", conf, "-v"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const logText: string[] = [];
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) logText.push(chunk);
    };
    const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
    let exited = false;
    const status = child.status.then(async (s) => {
      exited = true;
      await pumps;
      return s;
    });
    if (await waitListening(port, () => exited)) {
      let stopped = false;
      const stop = async () => {
        if (!stopped) {
          stopped = true;
          try {
            child.kill("SIGCONT");
            child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }
        await status;
      };
      if (options.tls) await waitListening(tlsPort, () => exited);
      return {
        port,
        tlsPort,
        address: `127.0.0.1:${port}`,
        dir,
        pid: child.pid,
        kill: stop,
        pause: () => child.kill("SIGSTOP"),
        resume: () => child.kill("SIGCONT"),
        async stop() {
          await stop();
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
        log: () => logText.join(""),
      };
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await status;
    lastError = logText.join("");
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  throw new Error(`mosquitto did not start: ${lastError}`);
}

async function waitListening(port: number, exited: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !exited(); i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
