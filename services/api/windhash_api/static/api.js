// windhash dashboard: reading /api/v1 (errors in the API's shape become ApiError with its message and hint).
import { needLogin } from "./account.js";

export const API = "/api/v1";

export class ApiError extends Error {}

export function query(params = {}) {
  const kept = Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined);
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
}

export async function getJson(path, params = {}) {
  const url = `${API}${path}${query(params)}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (response.status === 401) needLogin();
  if (!response.ok) {
    const error = body?.error;
    throw new ApiError(error ? `${error.message}${error.hint ? ` — ${error.hint}` : ""}` : `${url}: ${response.status}`);
  }
  return body;
}

// Asks whether an answer changed since the last time, with If-None-Match on the ETag the API gave it (a 304
// costs the API no query). Answers without an ETag (asked with credentials: never cached) are compared whole.
const seen = new Map();

export async function changedSince(path, params = {}) {
  const url = `${API}${path}${query(params)}`;
  const before = seen.get(url);
  const headers = { Accept: "application/json" };
  if (before?.etag) headers["If-None-Match"] = before.etag;
  const response = await fetch(url, { headers, cache: "no-store" });
  if (response.status === 304 || !response.ok) return false;
  const etag = response.headers.get("ETag");
  const body = etag ? null : await response.text();
  seen.set(url, { etag, body });
  if (!before) return false; // the first look only learns what is there
  return etag ? etag !== before.etag : body !== before.body;
}

export function forgetChanges() {
  seen.clear();
}
