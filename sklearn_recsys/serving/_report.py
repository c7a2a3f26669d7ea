"""Offline drift report: a self-contained HTML page with tables and plots (matplotlib)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

__all__ = ["drift_report_html"]


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bin_labels(profile, categorical):
    if categorical:
        return [*profile["levels"], "(other)"]
    edges = profile["edges"]
    if not edges:
        return ["all"]
    labels = [f"<= {edges[0]:.3g}"]
    labels += [f"{a:.3g}-{b:.3g}" for a, b in zip(edges[:-1], edges[1:])]
    labels.append(f"> {edges[-1]:.3g}")
    return labels


def _plot(name, profile, res, categorical):
    import matplotlib.pyplot as plt

    labels = _bin_labels(profile, categorical)
    ref = np.asarray(profile["ref_props"])
    cur = np.asarray(res["props"]) if res is not None else np.zeros_like(ref)
    x = np.arange(len(ref))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(x - 0.2, ref, width=0.4, label="reference")
    ax.bar(x + 0.2, cur, width=0.4, label="current")
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
    ks = "" if res is None or res.get("ks") is None else f", KS {res['ks']:.3f}"
    psi = "" if res is None else f"PSI {res['psi']:.3f}"
    ax.set_title(f"{name}: {psi}{ks}", fontsize=10)
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = _png(fig)
    plt.close(fig)
    return out


def _row(cells, tag="td"):
    return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    return v


def drift_report_html(monitor, title="sklearn-recsys drift report"):
    """HTML report of a :class:`DriftMonitor` after its updates: alerts, tables, plots.

    Parameters
    ----------
    monitor : DriftMonitor
        Fitted, with the current data added by ``update``.
    title : str, default="sklearn-recsys drift report"

    Returns
    -------
    html : str
    """
    rep = monitor.report()
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        ".alert{color:#b00}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{monitor.n_reference_} reference rows; {rep['n_rows']} current rows "
        f"({rep['n_window']} in the window).</p>",
        "<h2>Alerts</h2>",
    ]
    if rep["alerts"]:
        parts.append("<ul class='alert'>")
        for a in rep["alerts"]:
            parts.append(
                f"<li>{html.escape(a['kind'])}: {html.escape(a['name'])} "
                f"{a['statistic']} = {a['value']:.4f} (threshold {a['threshold']})</li>"
            )
        parts.append("</ul>")
    else:
        parts.append("<p>none</p>")
    parts.append("<h2>Features</h2><table>")
    parts.append(
        _row(["feature", "PSI", "KS", "KS p-value", "current mean", "reference mean"], "th")
    )
    features = dict(rep["features"])
    if rep["scores"] is not None:
        features["score"] = rep["scores"]
    for name, res in features.items():
        res = res or {}
        parts.append(
            _row(
                [
                    name,
                    _fmt(res.get("psi")),
                    _fmt(res.get("ks")),
                    _fmt(res.get("ks_pvalue")),
                    _fmt(res.get("mean")),
                    _fmt(res.get("reference_mean")),
                ]
            )
        )
    parts.append("</table>")
    for title_, section in (
        ("Positive rate", rep["positive_rate"]),
        ("Performance", rep["performance"]),
        ("Long-tail exposure", rep["long_tail"]),
    ):
        parts.append(f"<h2>{title_}</h2><table>")
        parts += [_row([k, _fmt(v)]) for k, v in section.items()]
        parts.append("</table>")
    parts.append("<h2>Distributions</h2>")
    for name, res in features.items():
        cat = name in monitor.categorical_
        profile = (
            monitor.categorical_[name]
            if cat
            else monitor.score_profile_
            if name == "score"
            else monitor.numeric_[name]
        )
        parts.append(
            f"<img alt='{html.escape(name)}' src='data:image/png;base64,"
            f"{_plot(name, profile, res, cat)}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
