import { DECODER_PROTOCOL, decoderRuntime } from "./decoder_runtime.ts";

/** The one decoder instance `decode.ts`, `rates.ts` and `types_db.ts` export the members of. */
export const decoder = decoderRuntime(DECODER_PROTOCOL);
