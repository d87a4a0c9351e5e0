/**
 * collectd supervised the way systemd supervises Debian's collectd.service (Type=notify,
 * ExecStart=/usr/sbin/collectd): started with $NOTIFY_SOCKET set, so it neither forks nor writes a
 * pid file, and counts as started once it sent READY=1. systemd itself cannot run here, so this
 * test process is the supervisor (collectd is its child, reaped by it), and a stand-in
 * `systemctl` script answers `status`, `show --property MainPID --value`, `start`, `stop` and
 * `restart` for the unit `collectd` from it, over a loopback socket. Nothing else is faked.
 */
import { join } from "node:path";
import { freeTcpPort } from "../_helpers/ports.ts";
import { COLLECTD } from "./_fleet.ts";

export interface SystemdCollectd {
  /** The stand-in systemctl (an executable script). */
  systemctl: string;
  /** collectd's pid while it runs (systemd's MainPID), else null. */
  mainPid(): number | null;
  /** `systemctl start collectd`: resolves once collectd sent READY=1; rejects when it did not. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

export async function systemdCollectd(dir: string, conf: string): Promise<SystemdCollectd> {
  const notifyPath = join(dir, "systemd-notify.sock");
  const notify = Deno.listenDatagram({ transport: "unixpacket", path: notifyPath });
  let readyCount = 0;
  const receiving = (async () => {
    try {
      for (;;) {
        const [bytes] = await notify.receive();
        if (new TextDecoder().decode(bytes).split("\n").includes("READY=1")) readyCount++;
      }
    } catch { /* closed */ }
  })();

  let child: Deno.ChildProcess | null = null;
  let exited: Promise<Deno.CommandStatus> | null = null;
  const isRunning = () => child !== null;

  async function start(): Promise<void> {
    if (isRunning()) return;
    const before = readyCount;
    const c = new Deno.Command(COLLECTD, {
      args: ["-C", conf], // ExecStart=/usr/sbin/collectd (the unit passes no -C; ours is a temp file)
      clearEnv: true,
      env: { NOTIFY_SOCKET: notifyPath, PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child = c;
    const status = c.status.then((s) => {
      if (child === c) child = null; // systemd forgets a dead main process
      return s;
    });
    exited = status;
    const end = Date.now() + READY_TIMEOUT_MS;
    while (readyCount === before) {
      if (child !== c) {
        throw new Error(`collectd exited with ${(await status).code} before READY=1`);
      }
      if (Date.now() > end) throw new Error("collectd sent no READY=1 in time");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c) return;
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** One `systemctl ARGS` request: the exit code and output systemctl would give. */
  async function answer(args: string[]): Promise<[number, string]> {
    const words = args.filter((a) => !a.startsWith("-"));
    const [verb, unit] = [words[0], words.at(-1)];
    if (unit !== "collectd" && unit !== "collectd.service") {
      return [4, `Unit ${unit}.service could not be found.`];
    }
    try {
      switch (verb) {
        case "status":
          return isRunning()
            ? [0, `● collectd.service\n     Active: active (running)\n   Main PID: ${child!.pid}`]
            : [3, "● collectd.service\n     Active: inactive (dead)"];
        case "show":
          return [0, String(child?.pid ?? 0)];
        case "start":
          await start();
          return [0, ""];
        case "stop":
          await stop();
          return [0, ""];
        case "restart":
          await stop();
          await start();
          return [0, ""];
      }
    } catch (e) {
      return [1, `Job for collectd.service failed: ${(e as Error).message}`];
    }
    return [1, `Unknown command verb ${verb}.`];
  }

  const port = freeTcpPort();
  const server = Deno.listen({ hostname: "127.0.0.1", port });
  const serving = (async () => {
    for await (const conn of server) {
      (async () => {
        try {
          const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
          let line = "";
          while (!line.includes("\n")) {
            const { value, done } = await reader.read();
            if (done) break;
            line += value;
          }
          const [code, output] = await answer(line.trim().split(" ").filter((w) => w));
          await conn.write(new TextEncoder().encode(`${code}\n${output}\n`));
        } catch {
          /* the client went away */
        } finally {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })();
    }
  })();

  const systemctl = join(dir, "systemctl");
  await Deno.writeTextFile(
    systemctl,
    `#!/bin/bash
# Stand-in for systemctl (tests/acceptance/_systemd.ts): asks the test, which supervises collectd
# the way systemd does, and answers like systemctl (exit code and output).
exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1
printf '%s\\n' "$*" >&3
IFS= read -r code <&3
cat <&3
exit "$code"
`,
  );
  await Deno.chmod(systemctl, 0o755);

  return {
    systemctl,
    mainPid: () => child?.pid ?? null,
    start,
    async close() {
      await stop();
      server.close();
      await serving.catch(() => {});
      notify.close();
      await receiving;
    },
  };
}
