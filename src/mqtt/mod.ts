/**
 * The agent's one broker connection (redundant brokers, TLS, Nagle off), the durable result
 * spool and outbox, and the durable store of seen task ids.
 * @module
 */
export { createBrokerConnection } from "./connection.ts";
export type {
  BrokerConnection,
  BrokerConnectionOptions,
  IncomingMessage,
  QoS,
} from "./connection.ts";
export { agentHostName, brokerSettings, parseEndpoint, SYSTEM_CA_BUNDLES } from "./settings.ts";
export type { BrokerEndpoint, BrokerSettings, ReadTextFile, TlsMaterial } from "./settings.ts";
export { openSpool } from "./spool.ts";
export type { Spool, SpoolEntry, SpoolOptions } from "./spool.ts";
export { createOutbox } from "./outbox.ts";
export type { Outbox, OutboxOptions } from "./outbox.ts";
export { openSeenStore } from "./seen_store.ts";
export type { SeenStore, SeenStoreOptions, SeenTask, UnfinishedTask } from "./seen_store.ts";
export { expandTopic, topicMatches } from "./topics.ts";
