// Login view: the OAuth2 password form; the token goes to sessionStorage.

import { logIn } from "../api.js";
import { byId, hideAlert, setBusy, showAlert } from "../dom.js";
import { describeError } from "../errors.js";
import { setToken, takeLoginNotice } from "../session.js";

export const title = "Connexion";

let navigateTo = null;

async function submit(event) {
  event.preventDefault();
  const message = byId("login-message");
  const email = byId("login-email").value.trim();
  const password = byId("login-password").value;
  if (!email || !password) {
    showAlert(message, "error", "Renseignez votre adresse e-mail et votre mot de passe.");
    return;
  }
  const button = byId("login-submit");
  setBusy(button, true);
  hideAlert(message);
  try {
    setToken(await logIn(email, password));
    byId("login-password").value = "";
    navigateTo("prediction");
  } catch (error) {
    const { message: text } = describeError(error);
    showAlert(message, "error", text);
    byId("login-password").select();
  } finally {
    setBusy(button, false);
  }
}

/** Wire the form once. */
export function init({ navigate }) {
  navigateTo = navigate;
  byId("login-form").addEventListener("submit", submit);
}

/** Show the view, with the message left by a previous page (e.g. "session expired"). */
export async function show() {
  const message = byId("login-message");
  const notice = takeLoginNotice();
  if (notice) showAlert(message, "info", notice);
  else hideAlert(message);
  const email = byId("login-email");
  (email.value ? byId("login-password") : email).focus();
}
