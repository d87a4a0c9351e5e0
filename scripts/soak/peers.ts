/**
 * Soak harness: the real processes — two mosquitto brokers (which one the agent is on is read
 * from their connection log lines), collectd 5.12, and the agent through scripts/agent.
 */
import { type Proc, spawnProc, waitForTcp } from "./proc.ts";
import type { SoakLayout } from "./setup.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The two brokers, restartable, knowing which one the agent's client is connected to. */
export class Brokers {
  readonly procs: [Proc | null, Proc | null] = [null, null];
  /** Per broker: whether the agent's MQTT client is connected there (from the log). */
  readonly agentConnected: [boolean, boolean] = [false, false];
  kills = 0;
  #l: SoakLayout;
  #clientId: string;

  constructor(l: SoakLayout) {
    this.#l = l;
    this.#clientId = `edge-agent-${l.hostName}`;
  }

  async start(i: 0 | 1): Promise<void> {
    // stdbuf: mosquitto's stdout log is block-buffered into a pipe; the harness reads it live.
    const p = spawnProc(`broker-${"ab"[i]}`, "/usr/bin/stdbuf", {
      args: ["-oL", "/usr/sbin/mosquitto", "-c", this.#l.brokerConfs[i]],
      logFile: `${this.#l.dir}/broker-${"ab"[i]}.log`,
    });
    this.procs[i] = p;
    this.agentConnected[i] = false;
    const id = this.#clientId;
    p.onLine((line) => {
      if (line.includes(`New client connected`) && line.includes(` as ${id} `)) {
        this.agentConnected[i] = true;
      } else if (
        line.includes(`Client ${id} `) &&
        /disconnected|closed its connection|has exceeded timeout/.test(line)
      ) {
        this.agentConnected[i] = false;
      }
    });
    await waitForTcp(this.#l.brokerPorts[i]);
  }

  /** The broker the agent is on, or null when none (yet). */
  active(): 0 | 1 | null {
    if (this.agentConnected[0]) return 0;
    if (this.agentConnected[1]) return 1;
    return null;
  }

  /** SIGKILLs broker `i` (an expected exit). */
  async kill(i: 0 | 1): Promise<void> {
    const p = this.procs[i];
    if (!p) return;
    this.kills++;
    p.kill("SIGKILL");
    await p.status;
    this.agentConnected[i] = false;
    this.procs[i] = null;
  }

  /** Brokers that ended without being signalled. */
  crashed(): string[] {
    return this.procs.filter((p) => p?.exitedOnItsOwn).map((p) => p!.name);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p?.stop()));
  }
}

/** collectd 5.12 in the foreground with the generated config. */
export async function startCollectd(l: SoakLayout): Promise<Proc> {
  const p = spawnProc("collectd", "/usr/sbin/collectd", {
    args: ["-f", "-C", l.collectdConf],
    logFile: `${l.dir}/collectd.log`,
  });
  await p.waitFor(/Initialization complete/, 20_000);
  return p;
}

/** Starts the agent (scripts/agent --config); see {@linkcode agentReady}. */
export function spawnAgent(l: SoakLayout, generation: number): Proc {
  return spawnProc(`agent#${generation}`, `${root}scripts/agent`, {
    args: ["--config", l.agentConfig],
    cwd: l.dir,
    logFile: `${l.dir}/agent.log`,
    tailLines: 2000,
  });
}

/** Resolves once the agent's intake listens; rejects after `timeoutMs` or when it exits. */
export async function agentReady(p: Proc, timeoutMs = 60_000): Promise<void> {
  await p.waitFor(/listening for collectd packets/, timeoutMs);
}
