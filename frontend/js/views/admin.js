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
import { loadCharts } from "./admin-charts.js";

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
      el(
        "dd",
        { id: "model-missing" },
        noModel ? "Aucun modèle n'est servi pour l'instant." : message,
      ),
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
    ...aliasTargetFacts(model, fact),
    ...registryFacts(model, fact),
  );
  return model;
}

// What the alias points at when it is not the served version (loading, or failed to load).
function aliasTargetFacts(model, fact) {
  const target = model.alias_target;
  if (!target || target.state === "served") return [];
  const alert = (text) => el("span", { className: "badge badge-alert" }, text);
  if (target.state === "unset") {
    return fact(
      "Alias actuel",
      "model-alias-target",
      alert("l'alias ne pointe vers aucune version"),
    );
  }
  const facts = fact("Alias actuel", "model-alias-target", `version ${target.version} `);
  facts[1].append(
    alert(target.state === "failed" ? "échec du chargement" : "en cours de chargement"),
  );
  if (target.load_error) {
    facts.push(
      el("dd", { id: "model-load-error", className: "facts-note muted" }, target.load_error),
    );
  }
  return facts;
}

// Whether the model registry answered the last check.
function registryFacts(model, fact) {
  const registry = model.registry;
  if (!registry || registry.reachable) return [];
  const since = registry.unreachable_since
    ? ` depuis ${formatDate(registry.unreachable_since)}`
    : "";
  return [
    ...fact("Registre MLflow", "model-registry", `injoignable${since}`),
    el("dd", { className: "facts-note muted" }, registry.error ?? ""),
  ];
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
          row.model_version === servedVersion
            ? [" ", el("span", { className: "badge badge-ok" }, "servie")]
            : null,
        ),
        el("td", { className: "num", dataset: { field: "count" } }, String(row.count)),
        el("td", { className: "num", dataset: { field: "accuracy" } }, formatRatio(row.accuracy)),
        el(
          "td",
          { className: "num", dataset: { field: "weighted_f1" } },
          formatDecimal(row.weighted_f1, 3),
        ),
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
          el(
            "td",
            { dataset: { field: "category" } },
            top ? `${categoryName(top.category_id)} (${top.category_id})` : "—",
          ),
          el("td", { className: "num" }, top ? formatPercent(top.probabilities) : "—"),
          el("td", { className: "num" }, `${formatDecimal(row.latency_ms, 0)}\u00a0ms`),
        );
      }),
    );
}

// ---------------------------------------------------------------- monitoring (GET /monitoring/*)

// Drift statistics as the API names them → what a French reader sees, and how values read.
const DRIFT_STATISTICS = {
  designation_length: { label: "Longueur de la désignation (moyenne)", unit: "characters" },
  description_length: { label: "Longueur de la description (moyenne)", unit: "characters" },
  empty_description_rate: { label: "Part des descriptions vides", unit: "ratio" },
  image_rate: { label: "Part des produits avec photo", unit: "ratio" },
  category_distribution: {
    label: "Catégories prédites (part de la plus fréquente)",
    unit: "ratio",
  },
};

const DRIFT_STATUS = {
  ok: ["stable", "badge-ok", "Aucune statistique ne dépasse son seuil."],
  drift: ["dérive détectée", "badge-alert", "Au moins une statistique dépasse son seuil."],
  insufficient_data: [
    "pas assez de données",
    "",
    "Trop peu de prédictions récentes pour conclure.",
  ],
  no_reference: ["pas de référence", "", "Le profil des données d'entraînement est introuvable."],
};

function monitoringBlock(id, heading, ...content) {
  return el("div", { className: "monitoring-block", id }, el("h3", {}, heading), ...content);
}

function table(headers, rows) {
  const head = headers.map(([label, numeric]) =>
    el("th", { scope: "col", className: numeric ? "num" : "" }, label),
  );
  return el(
    "div",
    { className: "table-wrap" },
    el("table", { className: "table" }, el("thead", {}, el("tr", {}, head)), el("tbody", {}, rows)),
  );
}

function windowText(window) {
  return window ? `Du ${formatDate(window.start)} au ${formatDate(window.end)}.` : "";
}

function qualityBlock(report) {
  if (!Array.isArray(report?.versions)) return null;
  const rows = report.versions.map((row) =>
    el(
      "tr",
      { dataset: { modelVersion: row.model_version } },
      el("td", {}, row.model_version),
      el("td", { className: "num", dataset: { field: "count" } }, String(row.feedback_count)),
      el("td", { className: "num", dataset: { field: "correct" } }, String(row.correct)),
      el("td", { className: "num", dataset: { field: "accuracy" } }, formatRatio(row.accuracy)),
      el(
        "td",
        { className: "num", dataset: { field: "weighted_f1" } },
        formatDecimal(row.weighted_f1, 3),
      ),
    ),
  );
  return monitoringBlock(
    "monitoring-quality",
    `Qualité sur les ${MONITORING_WINDOW_DAYS} derniers jours`,
    el("p", { className: "muted" }, windowText(report.window)),
    rows.length
      ? table(
          [
            ["Version"],
            ["Retours", true],
            ["Justes", true],
            ["Exactitude", true],
            ["F1 pondéré", true],
          ],
          rows,
        )
      : el("p", { className: "muted" }, "Aucun retour sur cette période."),
  );
}

function errorsBlock(report) {
  if (!Array.isArray(report?.pairs)) return null;
  const rows = report.pairs.map((pair) =>
    el(
      "tr",
      {},
      el("td", {}, `${categoryName(pair.predicted_category_id)} (${pair.predicted_category_id})`),
      el("td", {}, `${categoryName(pair.real_category_id)} (${pair.real_category_id})`),
      el("td", { className: "num", dataset: { field: "count" } }, String(pair.count)),
      el("td", { className: "num" }, formatRatio(pair.share_of_errors)),
    ),
  );
  return monitoringBlock(
    "monitoring-errors",
    "Confusions les plus fréquentes",
    el(
      "p",
      { className: "muted" },
      `${report.wrong_count} erreur(s) sur ${report.feedback_count} retour(s) sur la période.`,
    ),
    rows.length
      ? table(
          [
            ["Catégorie prédite"],
            ["Catégorie choisie"],
            ["Nombre", true],
            ["Part des erreurs", true],
          ],
          rows,
        )
      : el("p", { className: "muted" }, "Aucune erreur sur cette période."),
  );
}

function driftValue(value, unit) {
  if (typeof value !== "number") return "—";
  return unit === "ratio" ? formatRatio(value) : `${formatDecimal(value, 0)}\u00a0car.`;
}

function driftState(statistic, badge, conclusive) {
  if (statistic.drifted) return badge("dérive", "badge-alert");
  if (typeof statistic.value !== "number") return "—";
  // Too few recent predictions: the verdict says so, and no row claims more than it.
  if (!conclusive) return badge("pas assez de données", "");
  if (statistic.value > statistic.threshold) return badge("à surveiller", "");
  return badge("stable", "badge-ok");
}

function driftStatusText(report, statusText) {
  if (report.status !== "insufficient_data") return statusText;
  const recent = report.recent?.rows ?? 0;
  return `Trop peu de prédictions récentes pour conclure : ${recent} sur les ${report.min_predictions} nécessaires.`;
}

function driftBlock(report) {
  if (!Array.isArray(report?.statistics)) return null;
  const [statusLabel, statusClass, statusText] = DRIFT_STATUS[report.status] ?? [
    report.status,
    "",
    "",
  ];
  const badge = (label, className) => el("span", { className: `badge ${className}` }, label);
  const rows = report.statistics.map((statistic) => {
    const known = DRIFT_STATISTICS[statistic.name] ?? { label: statistic.name, unit: "ratio" };
    const method = statistic.method === "psi" ? "PSI" : "écart absolu";
    return el(
      "tr",
      { dataset: { statistic: statistic.name } },
      el("td", { title: statistic.description }, known.label),
      el("td", { className: "num" }, driftValue(statistic.reference_value, known.unit)),
      el("td", { className: "num" }, driftValue(statistic.recent_value, known.unit)),
      el(
        "td",
        { className: "num", dataset: { field: "value" } },
        typeof statistic.value === "number" ? formatDecimal(statistic.value, 3) : "—",
      ),
      el("td", { className: "num" }, `${formatDecimal(statistic.threshold, 2)} (${method})`),
      el(
        "td",
        { dataset: { field: "state" } },
        driftState(statistic, badge, report.status !== "insufficient_data"),
      ),
    );
  });
  return monitoringBlock(
    "monitoring-drift",
    `Dérive des données — modèle « ${report.model_name} », version ${report.model_version}`,
    el(
      "p",
      {},
      "Verdict : ",
      el(
        "span",
        { id: "drift-status", dataset: { status: report.status } },
        badge(statusLabel, statusClass),
      ),
      ` ${driftStatusText(report, statusText)} `,
      el("span", { className: "muted" }, windowText(report.window)),
    ),
    table(
      [
        ["Statistique"],
        ["Entraînement", true],
        ["Récent", true],
        ["Écart", true],
        ["Seuil", true],
        ["État"],
      ],
      rows,
    ),
  );
}

async function loadMonitoring() {
  // Each block shows only when its route answers; the card stays hidden when none does.
  const days = MONITORING_WINDOW_DAYS;
  const [quality, errors, drift] = await Promise.allSettled([
    apiRequest("/monitoring/quality", { query: { days } }),
    apiRequest("/monitoring/errors", { query: { days, limit: 10 } }),
    apiRequest("/monitoring/drift", { query: { days } }),
  ]);
  const value = (result) => (result.status === "fulfilled" ? result.value.data : null);
  const blocks = [
    qualityBlock(value(quality)),
    errorsBlock(value(errors)),
    driftBlock(value(drift)),
  ];
  const shown = blocks.filter(Boolean);
  byId("monitoring").replaceChildren(...shown);
  byId("monitoring-card").hidden = shown.length === 0;
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
    await Promise.all([loadMonitoring(), loadCharts()]);
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
