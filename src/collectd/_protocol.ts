/**
 * collectd network protocol constants (collectd 5.x `src/network.h`): part types, data-source
 * type codes and the sizes the parser checks against.
 */
export const Part = {
  HOST: 0x0000,
  TIME: 0x0001,
  PLUGIN: 0x0002,
  PLUGIN_INSTANCE: 0x0003,
  TYPE: 0x0004,
  TYPE_INSTANCE: 0x0005,
  VALUES: 0x0006,
  INTERVAL: 0x0007,
  TIME_HR: 0x0008,
  INTERVAL_HR: 0x0009,
  MESSAGE: 0x0100,
  SEVERITY: 0x0101,
  SIGN_SHA256: 0x0200,
  ENCR_AES256: 0x0210,
} as const;

/** Data-source type codes in a values part. */
export const DsCode = { COUNTER: 0, GAUGE: 1, DERIVE: 2, ABSOLUTE: 3 } as const;

/** Part header: type (uint16) + length (uint16), both big-endian; length includes the header. */
export const HEADER_SIZE = 4;
/** A numeric part (time, interval, severity): header + uint64. */
export const NUMBER_PART_SIZE = 12;
/** collectd's DATA_MAX_NAME_LEN: a name string including its NUL. */
export const MAX_NAME = 128;
/** collectd's NOTIF_MAX_MSG_LEN: a message string including its NUL. */
export const MAX_MESSAGE = 256;
/** Signature part without the user name: header + HMAC-SHA-256. */
export const SIGN_HEADER_SIZE = 4 + 32;
/** Encryption part without user name and payload: header + name length + IV + SHA-1. */
export const ENCR_HEADER_SIZE = 4 + 2 + 16 + 20;
/** collectd's default MaxPacketSize (what a 5.12 client keeps its datagrams at or under). */
export const DEFAULT_MAX_PACKET = 1452;
/** time_hr / interval_hr unit: 2^-30 s. */
export const HR_PER_SECOND = 1073741824;
