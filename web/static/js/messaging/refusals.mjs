// What a refusal means to the person: the relay names the failed check in every refusal (its
// JSON `check`), and the page carries each check's explanation, translated (`T.refusals`, from
// messaging/refusals.py). A check without a text, or no answer at all, falls back to the generic
// message; a lost connection says so.
import { ApiError } from "./api.mjs";

export function explainRefusal(error, T) {
  const texts = T.refusals || {};
  if (error instanceof ApiError) {
    if (error.check && texts[error.check]) return texts[error.check];
    if (error.status === 429) return T.rateLimited;
    if (error.status === 0) return texts.network || T.error;
    return T.error;
  }
  // fetch rejects with a TypeError when there is no answer at all ("Failed to fetch" and the like)
  if (error instanceof TypeError && /fetch|network|load failed/i.test(error.message) && texts.network) {
    return texts.network;
  }
  return T.error;
}
