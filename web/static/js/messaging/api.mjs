// The relay API as the page calls it: session cookie plus the X-CSRF-Token header on writes.
// Nothing here logs bodies: what goes in and out is ciphertext, but it is never logged anyway.
import { forgetUnlocked } from "../session-keys.mjs";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, check, detail) {
    super(detail || check || String(status));
    this.status = status;
    this.check = check;
  }
}

/** Fetch a relay route; JSON in and out unless `raw` is given. */
export async function api(method, path, { json, raw, expect = "json" } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (raw !== undefined) {
    headers["Content-Type"] = "application/json";
    body = raw;
  }
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body, credentials: "same-origin", cache: "no-store",
  });
  if (!response.ok) {
    // the server says this browser is not signed in (any more): nothing unlocked may stay
    // behind, and the way on is signing in again
    if (response.status === 401) {
      forgetUnlocked();
      window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
    }
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem.check, problem.detail);
  }
  if (expect === "text") return response.text();
  if (expect === "response") return response;
  return response.json();
}

/** Upload blob bytes with upload progress (fetch has none): XMLHttpRequest. */
export function uploadBlob(blobId, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1/blobs?id=${encodeURIComponent(blobId)}`);
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve(JSON.parse(request.responseText));
      else {
        let check;
        try { check = JSON.parse(request.responseText).check; } catch { /* not JSON */ }
        reject(new ApiError(request.status, check, "upload refused"));
      }
    });
    request.addEventListener("error", () => reject(new ApiError(0, "network", "upload failed")));
    request.send(blob);
  });
}
