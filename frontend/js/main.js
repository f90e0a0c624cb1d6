// Entry point: a hash router over three views (login, prediction, admin) and the top bar.

import { apiRequest, SESSION_EVENT, SESSION_EXPIRED_MESSAGE } from "./api.js";
import { byId } from "./dom.js";
import { clearToken, getToken, isExpired, setLoginNotice } from "./session.js";
import * as adminView from "./views/admin.js";
import * as loginView from "./views/login.js";
import * as predictView from "./views/predict.js";

const VIEWS = { login: loginView, prediction: predictView, admin: adminView };
const DEFAULT_ROUTE = "prediction";

// The signed-in user ({ email, is_admin, ... }), read from /users/me after login.
let currentUser = null;

function routeFromHash() {
  const name = window.location.hash.replace(/^#\/?/, "").split("?")[0];
  return name in VIEWS ? name : DEFAULT_ROUTE;
}

function navigate(route) {
  const hash = `#/${route}`;
  if (window.location.hash === hash) render();
  else window.location.hash = hash;
}

async function loadCurrentUser() {
  if (currentUser) return currentUser;
  try {
    const { data } = await apiRequest("/users/me");
    currentUser = data;
  } catch {
    currentUser = null;
  }
  return currentUser;
}

function updateTopBar(route) {
  const signedIn = Boolean(currentUser) && route !== "login";
  byId("nav").hidden = !signedIn;
  byId("nav-admin").hidden = !currentUser?.is_admin;
  byId("nav-user").textContent = currentUser?.email ?? "";
  for (const link of document.querySelectorAll("#nav a[data-route]")) {
    link.classList.toggle("active", link.dataset.route === route);
  }
}

function showView(route) {
  for (const section of document.querySelectorAll("[data-view]")) {
    section.hidden = section.dataset.view !== route;
  }
  document.title = `${VIEWS[route].title} · Catégorisation de produits`;
}

async function render() {
  delete document.body.dataset.ready;
  let route = routeFromHash();
  const token = getToken();
  if (token && isExpired(token)) {
    clearToken();
    setLoginNotice(SESSION_EXPIRED_MESSAGE);
  }
  if (!getToken()) {
    currentUser = null;
    route = "login";
  } else if (route === "login") {
    route = DEFAULT_ROUTE;
  } else if (!(await loadCurrentUser())) {
    // The token was refused: the session-ended handler already moved to the login page.
    if (!getToken()) return;
  }
  if (routeFromHash() !== route) {
    window.history.replaceState(null, "", `#/${route}`);
  }
  showView(route);
  updateTopBar(route);
  await VIEWS[route].show({ user: currentUser, navigate });
  document.body.dataset.ready = route;
}

function logOut() {
  clearToken();
  currentUser = null;
  predictView.reset();
  navigate("login");
}

function start() {
  for (const view of Object.values(VIEWS)) view.init({ navigate });
  byId("logout").addEventListener("click", logOut);
  window.addEventListener("hashchange", render);
  window.addEventListener(SESSION_EVENT, () => {
    currentUser = null;
    navigate("login");
  });
  render();
}

start();
