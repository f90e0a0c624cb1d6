// Calls to the REST API (same origin, under /api/v1), with the bearer token of the session.

import { ApiError } from "./errors.js";
import { clearToken, getToken, isExpired, setLoginNotice } from "./session.js";

export const API_PREFIX = "/api/v1";

export const SESSION_EXPIRED_MESSAGE = "Votre session a expiré. Reconnectez-vous pour continuer.";
export const SESSION_INVALID_MESSAGE = "Votre session n'est plus valide. Reconnectez-vous.";
export const SESSION_EVENT = "session-ended";

/**
 * End the session after the API refused the token: forget it, leave a message for the login
 * page and tell the router (which shows the login page).
 */
function endSession(token) {
  clearToken();
  setLoginNotice(isExpired(token) ? SESSION_EXPIRED_MESSAGE : SESSION_INVALID_MESSAGE);
  window.dispatchEvent(new CustomEvent(SESSION_EVENT));
}

async function readBody(response) {
  const type = response.headers.get("content-type") ?? "";
  if (response.status === 204) return null;
  if (type.includes("application/json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return await response.text();
}

// Marks a BigInt in JSON.stringify's output, to be written back as the integer it is.
const BIGINT_MARK = "\u0000bigint:";

/**
 * JSON text of `value`, a BigInt written as an exact JSON integer (a product reference above
 * 2^53, which a JavaScript number would round).
 */
export function toJson(value) {
  const text = JSON.stringify(value, (_key, item) =>
    typeof item === "bigint" ? `${BIGINT_MARK}${item}` : item,
  );
  // The mark starts with a NUL, which the API refuses in any text: no text it would accept can
  // be taken for a marked BigInt.
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}

/**
 * Call the API and return { data, headers, status }.
 *
 * Options: method, query (object; empty values are left out), json (a body sent as JSON),
 * body (FormData or URLSearchParams sent as is), auth (send the token; default true).
 * Throws ApiError for any non-2xx answer (status 0 when the server cannot be reached).
 */
export async function apiRequest(
  path,
  { method = "GET", query = null, json, body, auth = true } = {},
) {
  const url = new URL(API_PREFIX + path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  const token = auth ? getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = toJson(json);
  }

  let response;
  try {
    response = await fetch(url, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await readBody(response);
  if (!response.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? data.detail : data;
    const refusedToken =
      response.status === 401 ||
      (response.status === 403 && String(detail).toLowerCase().includes("could not validate"));
    // Only the session that sent this request ends: when parallel calls are refused, the
    // first ends it (and leaves its message for the login page); a later one must not end
    // it again, nor end a session started meanwhile.
    if (token && refusedToken && getToken() === token) endSession(token);
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiError(response.status, detail, Number.isNaN(retryAfter) ? null : retryAfter);
  }
  return { data, headers: response.headers, status: response.status };
}

/** Exchange an e-mail and a password for an access token (OAuth2 password form). */
export async function logIn(email, password) {
  const form = new URLSearchParams({ username: email, password });
  const { data } = await apiRequest("/login/access-token", {
    method: "POST",
    body: form,
    auth: false,
  });
  return data.access_token;
}
