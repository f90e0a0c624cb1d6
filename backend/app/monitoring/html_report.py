"""Render a :class:`MonitoringReport` as one self-contained HTML page (plots inline as PNG).

No JavaScript and no external file: the page opens anywhere and can be mailed or archived.
Plots use matplotlib's object API (no pyplot state), so rendering is safe in any thread.
"""

import base64
import io
from collections.abc import Sequence
from html import escape
from typing import Final

from matplotlib.figure import Figure

from app.schemas.monitoring import (
    DriftReport,
    DriftStatistic,
    LengthDistribution,
    MonitoringReport,
    ProfileSummary,
)
from product_classifier.categories import CATEGORY_CODES

REFERENCE_COLOUR: Final = "#4c72b0"
RECENT_COLOUR: Final = "#dd8452"

STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drift td { background: #fde2e1; font-weight: 600; }
.badge { padding: 0.15rem 0.5rem; border-radius: 0.3rem; color: white; }
.badge.ok { background: #2e7d32; } .badge.drift { background: #c62828; }
.badge.insufficient_data, .badge.no_reference { background: #757575; }
.note { color: #555; } img { max-width: 100%; }
"""


MISSING: Final = "n/a"


def _percent(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.1f} %"


def _number(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _figure_html(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<p><img alt="{escape(alt)}" src="data:image/png;base64,{encoded}"></p>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for row, row_class in zip(rows, classes, strict=True):
        cells = "".join(
            f'<td class="num">{escape(cell)}</td>'
            if cell[:1].isdigit() or cell == MISSING
            else f"<td>{escape(cell)}</td>"
            for cell in row
        )
        attribute = f' class="{row_class}"' if row_class else ""
        body.append(f"<tr{attribute}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


def _bin_labels(distribution: LengthDistribution) -> list[str]:
    edges = distribution.edges
    labels = []
    for index, low in enumerate(edges):
        if index + 1 == len(edges):
            labels.append(f"{low}+")
        elif edges[index + 1] - 1 == low:
            labels.append(str(low))
        else:
            labels.append(f"{low}-{edges[index + 1] - 1}")
    return labels


def _paired_bars(
    title: str,
    labels: Sequence[str],
    reference: Sequence[float] | None,
    recent: Sequence[float],
    ylabel: str,
) -> Figure:
    figure = Figure(figsize=(10, 3.6))
    axes = figure.add_subplot()
    positions = range(len(labels))
    width = 0.4
    if reference is not None:
        axes.bar(
            [p - width / 2 for p in positions],
            reference,
            width,
            label="training data",
            color=REFERENCE_COLOUR,
        )
    axes.bar(
        [p + width / 2 for p in positions],
        recent,
        width,
        label="recent predictions",
        color=RECENT_COLOUR,
    )
    axes.set_xticks(list(positions), labels, rotation=60 if len(labels) > 12 else 0, fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend()
    return figure


def _quality_section(report: MonitoringReport) -> str:
    versions = report.quality.versions
    parts = ["<h2>Quality per model version (feedback)</h2>"]
    if not versions:
        parts.append('<p class="note">No feedback in this window.</p>')
        return "".join(parts)
    rows = [
        [
            version.model_version,
            str(version.feedback_count),
            str(version.correct),
            _percent(version.accuracy),
            _number(version.weighted_f1),
        ]
        for version in versions
    ]
    parts.append(
        _table(
            ["model version", "feedback", "correct", "accuracy", "weighted F1"],
            rows,
            [""] * len(rows),
        )
    )
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    labels = [version.model_version for version in versions]
    positions = range(len(labels))
    axes.bar([p - 0.2 for p in positions], [v.accuracy for v in versions], 0.4, label="accuracy")
    axes.bar(
        [p + 0.2 for p in positions], [v.weighted_f1 for v in versions], 0.4, label="weighted F1"
    )
    axes.set_xticks(list(positions), labels)
    axes.set_xlabel("model version")
    axes.set_ylim(0, 1)
    axes.set_title("Live quality per model version")
    axes.legend()
    parts.append(_figure_html(figure, "Accuracy and weighted F1 per model version"))
    return "".join(parts)


def _errors_section(report: MonitoringReport) -> str:
    errors = report.errors
    scope = (
        f"model version {errors.model_version}" if errors.model_version else "all model versions"
    )
    parts = [
        "<h2>Most frequent errors</h2>",
        f'<p class="note">{escape(scope)}: {errors.wrong_count} wrong of '
        f"{errors.feedback_count} feedback.</p>",
    ]
    if not errors.pairs:
        parts.append('<p class="note">No wrong prediction in this window.</p>')
        return "".join(parts)
    rows = [
        [
            f"{pair.predicted_category_id} {pair.predicted_category}",
            f"{pair.real_category_id} {pair.real_category}",
            str(pair.count),
            _percent(pair.share_of_errors),
        ]
        for pair in errors.pairs
    ]
    parts.append(
        _table(
            ["predicted", "real (seller's choice)", "count", "share of errors"],
            rows,
            [""] * len(rows),
        )
    )
    return "".join(parts)


def _statistic_row(statistic: DriftStatistic) -> list[str]:
    is_rate = statistic.method == "absolute_difference" or statistic.name.startswith("category")

    def shown(value: float | None) -> str:
        return _percent(value) if is_rate else _number(value, 1)

    return [
        statistic.name,
        statistic.method,
        _number(statistic.value),
        _number(statistic.threshold, 2),
        "DRIFT" if statistic.drifted else "no",
        shown(statistic.reference_value),
        shown(statistic.recent_value),
    ]


def _drift_plots(reference: ProfileSummary | None, recent: ProfileSummary) -> list[str]:
    plots = []
    for field, title in (
        ("designation_length", "Designation length (characters)"),
        ("description_length", "Description length (characters)"),
    ):
        recent_distribution: LengthDistribution = getattr(recent, field)
        reference_distribution = getattr(reference, field) if reference else None
        figure = _paired_bars(
            title,
            _bin_labels(recent_distribution),
            _shares(reference_distribution.counts) if reference_distribution else None,
            _shares(recent_distribution.counts),
            "share of products",
        )
        plots.append(_figure_html(figure, title))
    reference_counts = (
        [reference.categories.get(code, 0) for code in CATEGORY_CODES] if reference else None
    )
    recent_counts = [recent.categories.get(code, 0) for code in CATEGORY_CODES]
    title = "Categories: training labels vs predicted"
    figure = _paired_bars(
        title,
        [str(code) for code in CATEGORY_CODES],
        _shares(reference_counts) if reference_counts is not None else None,
        _shares(recent_counts),
        "share of products",
    )
    plots.append(_figure_html(figure, title))
    rates = ["empty description", "with image"]
    figure = _paired_bars(
        "Empty descriptions and images",
        rates,
        [reference.empty_description_rate, reference.image_rate] if reference else None,
        [recent.empty_description_rate, recent.image_rate],
        "share of products",
    )
    plots.append(_figure_html(figure, "Empty-description and image rates"))
    return plots


def _drift_section(drift: DriftReport) -> str:
    status = escape(drift.status)
    parts = [
        f"<h2>Data drift: {escape(drift.model_name)} version {escape(drift.model_version)}</h2>",
        f'<p>Status: <span class="badge {status}">{status.upper()}</span> '
        f"{escape(drift.message)}</p>",
        f'<p class="note">Reference: {escape(drift.reference_source)}'
        + (f" ({drift.reference.rows} rows)" if drift.reference else "")
        + f". Recent: {drift.recent.rows} predictions (at least {drift.min_predictions} "
        "needed to flag drift).</p>",
    ]
    rows = [_statistic_row(statistic) for statistic in drift.statistics]
    parts.append(
        _table(
            ["statistic", "method", "value", "threshold", "drifted", "training", "recent"],
            rows,
            ["drift" if statistic.drifted else "" for statistic in drift.statistics],
        )
    )
    parts.append(
        '<p class="note">PSI: population stability index over bins (0.5 pseudo-count per bin); '
        "absolute difference: of the two rates. Length rows show mean lengths; the category "
        "row shows the share of the most frequent category.</p>"
    )
    parts.extend(_drift_plots(drift.reference, drift.recent))
    return "".join(parts)


def _volume_section(report: MonitoringReport) -> str:
    parts = ["<h2>Predictions in the window</h2>"]
    if not report.volume:
        parts.append('<p class="note">No prediction in this window.</p>')
        return "".join(parts)
    rows = [[v.model_name, v.model_version, str(v.count)] for v in report.volume]
    parts.append(_table(["model", "version", "predictions"], rows, [""] * len(rows)))
    return "".join(parts)


def render_html(report: MonitoringReport) -> str:
    """The report as a complete HTML document."""
    window = report.window
    title = f"Model monitoring: {report.drift.model_name} version {report.drift.model_version}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="note">Window: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M}'
        f" UTC. Generated {report.generated_at:%Y-%m-%d %H:%M:%S} UTC.</p>"
        + _quality_section(report)
        + _errors_section(report)
        + _drift_section(report.drift)
        + _volume_section(report)
        + "</body></html>\n"
    )
