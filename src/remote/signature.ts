import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The bytes a command signature covers: the message without `signature`, as JSON with keys
 * sorted, no whitespace (nested objects sorted too).
 */
export function canonicalMessage(message: Record<string, unknown>): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  const { signature: _, ...rest } = message;
  return JSON.stringify(sort(rest));
}

/** Hex HMAC-SHA-256 of the canonical message under `secret`. */
export function signMessage(message: Record<string, unknown>, secret: string): string {
  return createHmac("sha256", secret).update(canonicalMessage(message)).digest("hex");
}

/** Returns `message` with `sender` set and `signature` added. */
export function withSignature<T extends Record<string, unknown>>(
  message: T,
  sender: { Name: string; Secret: string },
): T & { sender: string; signature: string } {
  const signed = { ...message, sender: sender.Name };
  return { ...signed, signature: signMessage(signed, sender.Secret) };
}

/** Why a message's signature is not acceptable, or null when it is. */
export function checkSignature(
  message: Record<string, unknown>,
  senders: ReadonlyMap<string, string>,
): string | null {
  const { sender, signature } = message;
  if (typeof signature !== "string" || typeof sender !== "string") {
    return "unsigned command (signed commands are required)";
  }
  const secret = senders.get(sender);
  if (secret === undefined) return `unknown sender "${sender}"`;
  const expected = Buffer.from(signMessage(message, secret), "hex");
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return `bad signature from sender "${sender}"`;
  }
  return null;
}
