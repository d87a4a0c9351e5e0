/**
 * The MQTT command path: message formats (lua-collectd-monitor's), validation, signatures, the
 * router (validate → host → signature → max age → duplicate → executor), the MQTT channel
 * (commands in, results out, status, events), central mode (rule actions for other hosts), the
 * maintenance switch, and the operator's client (`send-command`, `send-config`).
 * @module
 */
export { channelSettingsKey, createMqttChannel } from "./channel.ts";
export type { MqttChannel, MqttChannelOptions } from "./channel.ts";
export type { LateResult } from "./central.ts";
export { forwardActions, lateResultRecord } from "./forward.ts";
export type { ForwardOptions } from "./forward.ts";
export { maintenanceSwitch } from "./maintenance.ts";
export { escalationEvent } from "./events.ts";
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
