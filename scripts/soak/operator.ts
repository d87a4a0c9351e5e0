/**
 * Soak harness: the operator — an MQTT client on each broker (npm:mqtt) that publishes commands
 * to the broker the agent is on, re-sends a command (same task_id) whose result is overdue, and
 * records every result seen on either broker.
 */
import mqtt from "mqtt";
import type { Brokers } from "./peers.ts";
import type { SoakLayout } from "./setup.ts";

/** One command the operator published. */
export interface SentTask {
  task_id: string;
  service: string;
  command: string;
  /** What the soak expects as `code` (undefined: any). */
  expectCode?: number;
  firstSentAt: number;
  /** How many times it was published (1 + re-sends). */
  sends: number;
}

/** One result message as received. */
export interface SeenResult {
  task_id: string | number;
  code: number;
  message: string;
  timestamp: string;
  raw: string;
  broker: 0 | 1;
  at: number;
}

/** The operator side of the soak. */
export class Operator {
  readonly tasks = new Map<string, SentTask>();
  readonly results: SeenResult[] = [];
  /** Payloads on the result topic that were not a result (not JSON, no task_id). */
  readonly junk: string[] = [];
  #clients: [mqtt.MqttClient | null, mqtt.MqttClient | null] = [null, null];
  #l: SoakLayout;
  #brokers: Brokers;
  #seq = 0;
  #commandTopic: string;
  #resultTopic: string;

  constructor(l: SoakLayout, brokers: Brokers) {
    this.#l = l;
    this.#brokers = brokers;
    this.#commandTopic = l.commandTopic.replaceAll("{host}", l.hostName);
    this.#resultTopic = l.resultTopic.replaceAll("{host}", l.hostName);
  }

  /** Connects to both brokers (reconnecting by itself when one goes away). */
  start(): void {
    for (const i of [0, 1] as const) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${this.#l.brokerPorts[i]}`, {
        clientId: `soak-operator-${"ab"[i]}`,
        clean: false,
        reconnectPeriod: 250,
        connectTimeout: 3000,
        keepalive: 10,
      });
      c.on("connect", () => c.subscribe(this.#resultTopic, { qos: 1 }));
      c.on("error", () => {/* reconnects by itself */});
      c.on("message", (_topic, payload) => this.#onResult(i, new TextDecoder().decode(payload)));
      this.#clients[i] = c;
    }
  }

  #onResult(broker: 0 | 1, raw: string) {
    try {
      const r = JSON.parse(raw);
      if (r === null || typeof r !== "object" || !("task_id" in r)) throw new Error("no task_id");
      this.results.push({
        task_id: r.task_id,
        code: Number(r.code),
        message: String(r.message ?? ""),
        timestamp: String(r.timestamp ?? ""),
        raw,
        broker,
        at: Date.now(),
      });
    } catch {
      this.junk.push(raw);
    }
  }

  /** Publishes a new command to the broker the agent is on; returns its task_id. */
  send(service: string, command: string, expectCode?: number): string {
    const task_id = `soak-${Date.now().toString(36)}-${this.#seq++}`;
    const t: SentTask = { task_id, service, command, firstSentAt: Date.now(), sends: 0 };
    if (expectCode !== undefined) t.expectCode = expectCode;
    this.tasks.set(task_id, t);
    this.#publish(t);
    return task_id;
  }

  #publish(t: SentTask) {
    t.sends++;
    const target = this.#brokers.active() ?? 0;
    const msg = {
      task_id: t.task_id,
      timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      service: t.service,
      command: t.command,
    };
    // QoS 1; while the broker is down mqtt.js keeps it and sends it after reconnecting.
    this.#clients[target]?.publish(this.#commandTopic, JSON.stringify(msg), { qos: 1 });
  }

  /** Results seen for `task_id` that are not refusals of a repeated task_id (0x1100). */
  realResults(task_id: string): SeenResult[] {
    return this.results.filter((r) => String(r.task_id) === task_id && r.code !== 0x1100);
  }

  /** Re-sends every command without a result for longer than `overdueMs`; returns how many. */
  resendOverdue(overdueMs: number): number {
    let n = 0;
    const now = Date.now();
    for (const t of this.tasks.values()) {
      if (now - t.firstSentAt < overdueMs * t.sends) continue;
      if (this.realResults(t.task_id).length > 0) continue;
      this.#publish(t);
      n++;
    }
    return n;
  }

  /** Tasks still without a result. */
  pending(): SentTask[] {
    return [...this.tasks.values()].filter((t) => this.realResults(t.task_id).length === 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#clients.map((c) => c && new Promise<void>((r) => c.end(true, {}, () => r()))),
    );
  }
}
