// The access token of the signed-in user, kept in sessionStorage (gone when the tab closes).

const TOKEN_KEY = "categorisation.access_token";
const NOTICE_KEY = "categorisation.login_notice";

/** Return the stored access token, or null. */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Store the access token returned by the login route. */
export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forget the access token (sign out). */
export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Return the expiry date written in a JWT, or null when it cannot be read.
 * The signature is not checked here: only the server can do that.
 */
export function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
    return typeof claims.exp === "number" ? new Date(claims.exp * 1000) : null;
  } catch {
    return null;
  }
}

/** Tell whether the token's expiry date has passed. */
export function isExpired(token) {
  const expiry = tokenExpiry(token);
  return expiry !== null && expiry.getTime() <= Date.now();
}

/** Leave a message for the login page (shown once, e.g. "session expired"). */
export function setLoginNotice(message) {
  sessionStorage.setItem(NOTICE_KEY, message);
}

/** Return and forget the message left for the login page. */
export function takeLoginNotice() {
  const message = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return message;
}
