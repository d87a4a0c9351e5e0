/**
 * collectd's binary network protocol: the intake stage (UDP → security → plaintext), the pure
 * decoder and encoder, types.db, rates, AuthFile and signing/encryption.
 * @module
 */
export { createDecodeStats, decodePacket, DROP_REASONS } from "./decode.ts";
export type { DecodeOptions, DecodeStats, DropReason, PacketVisitor } from "./decode.ts";
export { encodeNotification, encodeValueList, PacketBuilder } from "./encode.ts";
export type { EncodeOptions, PacketBuilderOptions } from "./encode.ts";
export { parseTypesDb } from "./types_db.ts";
export type { DataSource, TypeInfo, TypesDb } from "./types_db.ts";
export { DEFAULT_TYPES_DB_PATHS, loadTypesDb } from "./load_types_db.ts";
export type { LoadTypesDbOptions } from "./load_types_db.ts";
export { RateTracker } from "./rates.ts";
export type { RateTrackerOptions } from "./rates.ts";
export { authUser, loadAuthFile, parseAuthFile } from "./auth_file.ts";
export type { AuthUser, AuthUsers } from "./auth_file.ts";
export { aes256Ofb, decryptPart, encryptPacket, signPacket, verifySignature } from "./security.ts";
export { INTAKE_DROP_REASONS, MAX_NESTING, unwrapPacket } from "./unwrap.ts";
export type { IntakeDropReason, SecurityLevel, UnwrapSink } from "./unwrap.ts";
export { createIntake, DEFAULT_RECEIVE_BUFFER } from "./intake.ts";
export type { Intake, IntakeOptions } from "./intake.ts";
export {
  BYTES_COUNTER,
  DROPPED_COUNTER,
  DROPPED_VALUES_COUNTER,
  PACKETS_COUNTER,
  VALUES_COUNTER,
} from "./counters.ts";
