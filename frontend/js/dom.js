// Small DOM and formatting helpers shared by the views.

/** Return the element with this id (throws when the page lacks it: a programming error). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`Missing element #${id}`);
  return node;
}

/**
 * Create an element: el("td", { className: "num", dataset: { value: 3 } }, "3").
 * Children are nodes or strings (strings become text, never HTML).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Show a message in an alert box: kind is "error", "success" or "info". */
export function showAlert(node, kind, message, detail = null) {
  node.className = `alert alert-${kind}`;
  node.replaceChildren(el("span", { className: "alert-text" }, message));
  if (detail) node.append(el("small", { className: "detail" }, `Message du serveur : ${detail}`));
  node.hidden = false;
}

/** Hide an alert box. */
export function hideAlert(node) {
  node.hidden = true;
  node.replaceChildren();
}

/** Show a button as working (disabled, with a spinner) or idle again. */
export function setBusy(button, busy) {
  button.disabled = busy;
  button.classList.toggle("busy", busy);
  button.setAttribute("aria-busy", String(busy));
}

const NBSP = "\u00a0";

/** Format a number with a French decimal comma: formatDecimal(0.8125, 3) → "0,813". */
export function formatDecimal(value, digits) {
  return Number(value).toFixed(digits).replace(".", ",");
}

/** Format a percentage already in percent: formatPercent(42.345) → "42,3 %". */
export function formatPercent(value, digits = 1) {
  return `${formatDecimal(value, digits)}${NBSP}%`;
}

/** Format a ratio 0..1 as a percentage: formatRatio(0.5) → "50,0 %". */
export function formatRatio(value, digits = 1) {
  return formatPercent(Number(value) * 100, digits);
}

const DATE_FORMAT = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeStyle: "medium" });

/** Format an ISO date from the API in French local time (assumes UTC when no zone is given). */
export function formatDate(iso) {
  if (!iso) return "—";
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_FORMAT.format(date);
}

/** Format a byte count: formatBytes(123456) → "120,6 Ko". */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes}${NBSP}octets`;
  if (bytes < 1024 * 1024) return `${formatDecimal(bytes / 1024, 1)}${NBSP}Ko`;
  return `${formatDecimal(bytes / (1024 * 1024), 1)}${NBSP}Mo`;
}
