/**
 * Remote commands: message formats (lua-collectd-monitor's), validation, signatures, the router
 * (validate → host → signature → max age → duplicate → executor), the MQTT channel (commands in,
 * results out, status, central mode) and the result waiter used by `send-command`.
 * @module
 */
export { channelSettingsKey, createMqttChannel } from "./channel.ts";
export type { MqttChannel, MqttChannelOptions } from "./channel.ts";
export { createCommandRouter } from "./router.ts";
export type {
  CommandRouter,
  CommandRouterOptions,
  Execute,
  OnConfigMessage,
  OnMaintenanceMessage,
  RouteOutcome,
} from "./router.ts";
export {
  CommandMessageSchema,
  ConfigEnvelopeSchema,
  MaintenanceMessageSchema,
  parseMessage,
  TaskIdSchema,
} from "./message.ts";
export type {
  CommandMessage,
  ConfigMessage,
  MaintenanceMessage,
  ParsedMessage,
  TaskId,
} from "./message.ts";
export { canonicalMessage, checkSignature, signMessage, withSignature } from "./signature.ts";
export { createResultWaiter, newTaskId, ResultMessageSchema } from "./request.ts";
export type { ResultWaiter } from "./request.ts";
export {
  REMOTE_OPTIONS,
  remoteTargetFromArgs,
  RemoteUsageError,
  sendAndAwaitResult,
} from "./client.ts";
export type { RemoteTarget, SendOutcome } from "./client.ts";
