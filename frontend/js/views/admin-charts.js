// Administration charts, drawn in the browser from the monitoring routes with the vendored
// Chart.js (vendor/chartjs, window.Chart): quality per model version over time, champion
// against challenger, and the drift statistics against their thresholds.

import { apiRequest } from "../api.js";
import { byId, el, formatDate } from "../dom.js";

const TIMELINE_DAYS = 30;
const TIMELINE_SLICES = 15;
const CHALLENGER_DAYS = 7;
const COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d"];

// Chart.js keeps one chart per canvas: the previous one is destroyed before drawing again.
function draw(canvasId, config) {
  const canvas = byId(canvasId);
  window.Chart.getChart(canvas)?.destroy();
  return new window.Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
}

function chartBlock(id, heading, note) {
  return el(
    "div",
    { className: "chart-block", id: `${id}-block` },
    el("h3", {}, heading),
    el("p", { className: "muted" }, note),
    el("div", { className: "chart-box" }, el("canvas", { id, role: "img", ariaLabel: heading })),
  );
}

// ---------------------------------------------------------------- quality over time

function timelineBlocks(timeline) {
  const slices = timeline?.slices;
  if (!Array.isArray(slices)) return [];
  const versions = [...new Set(slices.flatMap((slice) => slice.versions.map((v) => v.model_version)))];
  if (versions.length === 0) return [];
  const labels = slices.map((slice) => formatDate(slice.window.end));
  const series = (field) =>
    versions.map((version, index) => ({
      label: `version ${version}`,
      data: slices.map(
        (slice) => slice.versions.find((row) => row.model_version === version)?.[field] ?? null,
      ),
      borderColor: COLOURS[index % COLOURS.length],
      backgroundColor: COLOURS[index % COLOURS.length],
      spanGaps: true,
    }));
  const note = `Retours reçus, par tranche, sur les ${TIMELINE_DAYS} derniers jours.`;
  return [
    ["chart-accuracy", "Exactitude par version", "accuracy"],
    ["chart-f1", "F1 pondéré par version", "weighted_f1"],
  ].map(([id, heading, field]) => [
    chartBlock(id, heading, note),
    () =>
      draw(id, {
        type: "line",
        data: { labels, datasets: series(field) },
        options: { scales: { y: { min: 0, max: 1 } } },
      }),
  ]);
}

// ---------------------------------------------------------------- champion vs challenger

function challengerBlocks(report) {
  const comparisons = report?.comparisons;
  if (!Array.isArray(comparisons) || comparisons.length === 0) return [];
  const labels = comparisons.map(
    (row) => `v${row.champion_version} / v${row.challenger_version} (${row.labelled} retours)`,
  );
  const bars = (label, field, colour) => ({
    label,
    data: comparisons.map((row) => row[field]),
    backgroundColor: colour,
  });
  return [
    [
      chartBlock(
        "chart-challenger",
        "Modèle servi contre challenger",
        `Mêmes prédictions, ${CHALLENGER_DAYS} derniers jours : accord, puis exactitude et F1 ` +
          "sur celles qui ont reçu un retour.",
      ),
      () =>
        draw("chart-challenger", {
          type: "bar",
          data: {
            labels,
            datasets: [
              bars("Accord", "agreement_rate", "#94a3b8"),
              bars("Exactitude (servi)", "champion_accuracy", COLOURS[0]),
              bars("Exactitude (challenger)", "challenger_accuracy", COLOURS[1]),
              bars("F1 pondéré (servi)", "champion_weighted_f1", "#93c5fd"),
              bars("F1 pondéré (challenger)", "challenger_weighted_f1", "#fca5a5"),
            ],
          },
          options: { scales: { y: { min: 0, max: 1 } } },
        }),
    ],
  ];
}

// ---------------------------------------------------------------- drift against thresholds

function driftBlocks(report) {
  const statistics = (report?.statistics ?? []).filter((row) => typeof row.value === "number");
  if (statistics.length === 0) return [];
  return [
    [
      chartBlock(
        "chart-drift",
        `Dérive — version ${report.model_version}`,
        "Écart de chaque statistique (PSI ou écart absolu) et son seuil.",
      ),
      () =>
        draw("chart-drift", {
          type: "bar",
          data: {
            labels: statistics.map((row) => row.name),
            datasets: [
              {
                label: "Écart",
                data: statistics.map((row) => row.value),
                backgroundColor: statistics.map((row) => (row.drifted ? "#dc2626" : COLOURS[0])),
              },
              {
                label: "Seuil",
                data: statistics.map((row) => row.threshold),
                backgroundColor: "#d1d5db",
              },
            ],
          },
        }),
    ],
  ];
}

export async function loadCharts() {
  const card = byId("charts-card");
  if (typeof window.Chart !== "function") {
    card.hidden = true;
    return;
  }
  const [timeline, challenger, drift] = await Promise.allSettled([
    apiRequest("/monitoring/quality/timeline", {
      query: { days: TIMELINE_DAYS, slices: TIMELINE_SLICES },
    }),
    apiRequest("/monitoring/challenger", { query: { days: CHALLENGER_DAYS } }),
    apiRequest("/monitoring/drift", { query: { days: CHALLENGER_DAYS } }),
  ]);
  const value = (result) => (result.status === "fulfilled" ? result.value.data : null);
  const charts = [
    ...timelineBlocks(value(timeline)),
    ...challengerBlocks(value(challenger)),
    ...driftBlocks(value(drift)),
  ];
  byId("charts").replaceChildren(...charts.map(([block]) => block));
  card.hidden = charts.length === 0;
  for (const [, render] of charts) render();
}
