import { decodePacket, type PacketVisitor, parseTypesDb, RateTracker } from "../collectd/mod.ts";
import type { Metric, Notification } from "../model/mod.ts";

/**
 * Decoding collectd packets inside the rule host: a decoder built once from the types.db text
 * appends every metric and notification of a packet to `out` (rates filled from the host's own
 * rate tracker, so the first sample after a host restart has null rates).
 */
export type PacketDecoder = (bytes: Uint8Array, out: unknown[]) => void;
export type PacketDecoderFactory = (
  typesDbText: string,
  onUnknownType?: (type: string) => void,
) => PacketDecoder;

/** The collectd decoder (src/collectd). */
export const createPacketDecoder: PacketDecoderFactory = (typesDbText, onUnknownType) => {
  const typesDb = parseTypesDb(typesDbText);
  const rates = new RateTracker();
  let sink: unknown[] = [];
  const visitor: PacketVisitor = {
    metric: (m: Metric) => void sink.push(m),
    notification: (n: Notification) => void sink.push(n),
  };
  // the decoder reports each unknown type once per TypesDb
  const options = { typesDb, rates, ...(onUnknownType ? { onUnknownType } : {}) };
  return (bytes, out) => {
    sink = out;
    decodePacket(bytes, visitor, options);
  };
};
