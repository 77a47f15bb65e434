// Liaison's browser crypto (envelope v1, ../shared/specs/envelope-v1.md), one module to import.
export { loadSodium } from "./sodium.mjs";
export { CryptoError } from "./errors.mjs";
export { b64, unb64, pack, H, sign, verify, now } from "./encoding.mjs";
export * from "./identity.mjs";
export { parseEnvelope, headerHash } from "./envelope.mjs";
export { checkBody, checkManifest, TLP_MARKINGS } from "./body.mjs";
export { seal, openMessage, envelopeToJson } from "./messages.mjs";
export * from "./blobs.mjs";
export * from "./backup.mjs";
export * from "./recovery-key.mjs";
export * from "./keylog.mjs";
export { runVectors, vectorCases } from "./vectors.mjs";
