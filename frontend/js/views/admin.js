// Administration view: the served model, live quality per model version, latest predictions,
// and the monitoring figures when the API offers them.

import { apiRequest } from "../api.js";
import { categoryName, loadCategories } from "../categories.js";
import {
  byId,
  el,
  formatDate,
  formatDecimal,
  formatPercent,
  formatRatio,
  hideAlert,
  setBusy,
  showAlert,
} from "../dom.js";
import { describeError } from "../errors.js";

export const title = "Administration";

const LATEST_PREDICTIONS = 20;
const MONITORING_WINDOW_DAYS = 7;

// ---------------------------------------------------------------- served model

function renderModel(result) {
  const facts = byId("model-info");
  if (result.status === "rejected") {
    const { message, detail } = describeError(result.reason);
    const noModel = result.reason?.status === 503;
    facts.replaceChildren(
      el("dt", {}, "État"),
      el("dd", { id: "model-missing" }, noModel ? "Aucun modèle n'est servi pour l'instant." : message),
    );
    if (detail) facts.append(el("dd", { className: "facts-note muted" }, detail));
    return null;
  }
  const model = result.value.data;
  const fact = (label, id, value) => [el("dt", {}, label), el("dd", { id }, value)];
  facts.replaceChildren(
    ...fact("Nom", "model-name", model.name),
    ...fact("Version", "model-version", model.version),
    ...fact("Alias", "model-alias", model.alias),
    ...fact("Chargé le", "model-loaded-at", formatDate(model.loaded_at)),
    ...(model.run_id ? fact("Run MLflow", "model-run-id", model.run_id) : []),
  );
  return model;
}

// ---------------------------------------------------------------- quality from feedback

function renderStats(result, servedVersion) {
  const body = byId("stats-table").querySelector("tbody");
  if (result.status === "rejected") {
    body.replaceChildren();
    const { message } = describeError(result.reason);
    showAlert(byId("admin-message"), "error", `Qualité indisponible : ${message}`);
    return;
  }
  const rows = result.value.data;
  byId("stats-empty").hidden = rows.length > 0;
  byId("stats-table").hidden = rows.length === 0;
  body.replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        { dataset: { modelVersion: row.model_version } },
        el(
          "td",
          {},
          row.model_version,
          row.model_version === servedVersion ? [" ", el("span", { className: "badge badge-ok" }, "servie")] : null,
        ),
        el("td", { className: "num", dataset: { field: "count" } }, String(row.count)),
        el("td", { className: "num", dataset: { field: "accuracy" } }, formatRatio(row.accuracy)),
        el("td", { className: "num", dataset: { field: "weighted_f1" } }, formatDecimal(row.weighted_f1, 3)),
      ),
    ),
  );
}

// ---------------------------------------------------------------- latest predictions

function renderPredictions(result) {
  const card = byId("predictions-card");
  // Shown only when the API lists predictions (GET /predictions/, administrators).
  card.hidden = result.status === "rejected" || !Array.isArray(result.value.data);
  if (card.hidden) return;
  const rows = result.value.data;
  byId("predictions-empty").hidden = rows.length > 0;
  byId("predictions-table").hidden = rows.length === 0;
  byId("predictions-table")
    .querySelector("tbody")
    .replaceChildren(
      ...rows.map((row) => {
        const top = row.results?.[0];
        const image = row.image_width ? `${row.image_width}×${row.image_height}` : "—";
        return el(
          "tr",
          { dataset: { predictionId: row.id } },
          el("td", { className: "num" }, String(row.id)),
          el("td", {}, formatDate(row.created_at)),
          el("td", {}, `${row.model_name} v${row.model_version}`),
          el("td", { className: "clip", title: row.designation }, row.designation || "—"),
          el("td", {}, image),
          el("td", { dataset: { field: "category" } }, top ? `${categoryName(top.category_id)} (${top.category_id})` : "—"),
          el("td", { className: "num" }, top ? formatPercent(top.probabilities) : "—"),
          el("td", { className: "num" }, `${formatDecimal(row.latency_ms, 0)}\u00a0ms`),
        );
      }),
    );
}

// ---------------------------------------------------------------- monitoring (telemetry issue)

function monitoringBlock(heading, ...content) {
  return el("div", { className: "monitoring-block" }, el("h3", {}, heading), ...content);
}

function table(headers, rows) {
  return el(
    "div",
    { className: "table-wrap" },
    el(
      "table",
      { className: "table" },
      el("thead", {}, el("tr", {}, headers.map(([label, numeric]) => el("th", { scope: "col", className: numeric ? "num" : "" }, label)))),
      el("tbody", {}, rows),
    ),
  );
}

function qualityBlock(rows) {
  if (!Array.isArray(rows) || rows.length === 0) return null;
  return monitoringBlock(
    `Qualité sur les ${MONITORING_WINDOW_DAYS} derniers jours`,
    table(
      [["Version"], ["Retours", true], ["Exactitude", true], ["F1 pondéré", true]],
      rows.map((row) =>
        el(
          "tr",
          {},
          el("td", {}, row.model_version),
          el("td", { className: "num" }, String(row.count)),
          el("td", { className: "num" }, formatRatio(row.accuracy)),
          el("td", { className: "num" }, formatDecimal(row.weighted_f1, 3)),
        ),
      ),
    ),
  );
}

function confusionsBlock(rows) {
  if (!Array.isArray(rows) || rows.length === 0) return null;
  return monitoringBlock(
    "Confusions les plus fréquentes",
    table(
      [["Catégorie prédite"], ["Catégorie réelle"], ["Nombre", true]],
      rows.map((row) =>
        el(
          "tr",
          {},
          el("td", {}, `${categoryName(row.pred_category_id)} (${row.pred_category_id})`),
          el("td", {}, `${categoryName(row.real_category_id)} (${row.real_category_id})`),
          el("td", { className: "num" }, String(row.count)),
        ),
      ),
    ),
  );
}

function driftBlock(drift) {
  const statistics = drift?.statistics;
  if (!Array.isArray(statistics) || statistics.length === 0) return null;
  const flag = (drifted) =>
    el("span", { className: `badge ${drifted ? "badge-alert" : "badge-ok"}` }, drifted ? "dérive" : "stable");
  const number = (value) => (typeof value === "number" ? formatDecimal(value, 3) : "—");
  return monitoringBlock(
    "Dérive des données récentes",
    el("p", {}, "Verdict global : ", flag(Boolean(drift.drifted))),
    table(
      [["Statistique"], ["Référence", true], ["Récent", true], ["Écart", true], ["Seuil", true], ["État"]],
      statistics.map((row) =>
        el(
          "tr",
          {},
          el("td", {}, row.label ?? row.name),
          el("td", { className: "num" }, number(row.reference)),
          el("td", { className: "num" }, number(row.current)),
          el("td", { className: "num" }, number(row.score)),
          el("td", { className: "num" }, number(row.threshold)),
          el("td", {}, flag(Boolean(row.drifted))),
        ),
      ),
    ),
  );
}

async function loadMonitoring() {
  // Each figure shows only when its endpoint answers; the card stays hidden otherwise.
  const query = { window_days: MONITORING_WINDOW_DAYS };
  const [quality, confusions, drift] = await Promise.allSettled([
    apiRequest("/monitoring/quality", { query }),
    apiRequest("/monitoring/confusions", { query }),
    apiRequest("/monitoring/drift", { query }),
  ]);
  const value = (result) => (result.status === "fulfilled" ? result.value.data : null);
  const blocks = [
    qualityBlock(value(quality)),
    confusionsBlock(value(confusions)),
    driftBlock(value(drift)),
  ].filter(Boolean);
  byId("monitoring").replaceChildren(...blocks);
  byId("monitoring-card").hidden = blocks.length === 0;
}

// ---------------------------------------------------------------- view

async function refresh() {
  const button = byId("admin-refresh");
  setBusy(button, true);
  hideAlert(byId("admin-message"));
  try {
    await loadCategories();
    const [model, stats, predictions] = await Promise.allSettled([
      apiRequest("/models/current"),
      apiRequest("/feedback/stats"),
      apiRequest("/predictions/", { query: { limit: LATEST_PREDICTIONS } }),
    ]);
    const served = renderModel(model);
    renderStats(stats, served?.version);
    renderPredictions(predictions);
    await loadMonitoring();
  } finally {
    setBusy(button, false);
  }
}

/** Wire the refresh button once. */
export function init() {
  byId("admin-refresh").addEventListener("click", refresh);
}

/** Show the view: administrators see the figures, others a plain refusal. */
export async function show({ user }) {
  const allowed = Boolean(user?.is_admin);
  for (const card of document.querySelectorAll("#view-admin .card, #view-admin .grid-2")) {
    card.hidden = !allowed;
  }
  byId("admin-refresh").hidden = !allowed;
  if (!allowed) {
    showAlert(byId("admin-message"), "error", "Cette page est réservée aux administrateurs.");
    return;
  }
  await refresh();
}
