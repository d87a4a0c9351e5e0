import { z } from "zod";

/** Settings of the MQTT command channel (lua-collectd-monitor's names, plus new ones). */
export const mqttKeys = {
  /** Broker `host` or `host:port`, or a list of them (redundant brokers). Absent: local-only. */
  Host: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  User: z.string().optional(),
  Password: z.string().optional(),
  /** TLS to the broker. */
  Secure: z.boolean().default(false),
  CleanSession: z.boolean().default(false),
  /** Seconds between reconnect attempts. */
  ReconnectInterval: z.number().positive().default(5),
  QoS: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2),
  CommandTopic: z.string().min(1).optional(),
  CommandResultTopic: z.string().min(1).optional(),
};
