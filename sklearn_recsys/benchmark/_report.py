"""The case-study report: one self-contained HTML file (plots embedded) to send a colleague."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import html
import io
import logging

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    recall_score,
    roc_auc_score,
)

from ._registry import NotApplicable, get_strategy_names
from ._run import _check_inputs, _fit_and_score, summarize

__all__ = ["make_report", "write_report"]

logger = logging.getLogger(__name__)

_STYLES = ["-", "--", "-.", ":"]
_BUCKETS = ("head", "torso", "tail")


def _png(fig):
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return (
        '<img alt="plot" src="data:image/png;base64,'
        + base64.b64encode(buf.getvalue()).decode()
        + '">'
    )


def _table(frame, fmt="{:.4f}"):
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "\u2013" if np.isnan(v) else fmt.format(v)
        return html.escape(str(v))

    head = "".join(
        f"<th>{html.escape(str(c))}</th>" for c in [frame.index.name or "", *frame.columns]
    )
    rows = "".join(
        "<tr><th>"
        + html.escape(str(i))
        + "</th>"
        + "".join(f"<td>{cell(v)}</td>" for v in row)
        + "</tr>"
        for i, row in zip(frame.index, frame.to_numpy())
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _lorenz(counts):
    """Cumulative share of items (ascending popularity) and of their interactions; Gini."""
    c = np.sort(np.asarray(counts, dtype=float))
    y = np.concatenate([[0.0], np.cumsum(c) / max(c.sum(), 1.0)])
    x = np.linspace(0, 1, len(y))
    gini = 1 - 2 * np.trapezoid(y, x) if len(c) else 0.0
    return x, y, float(gini)


def _profile(data):
    X_tr, X_te = data.X_train, data.X_test
    n_pos = int(np.sum(data.y_train)) + int(np.sum(data.y_test))
    n = len(X_tr) + len(X_te)
    counts = X_tr["item_id"].value_counts()
    _, _, gini = _lorenz(counts.to_numpy())
    cold_items = ~X_te["item_id"].isin(counts.index)
    cold_users = ~X_te["user_id"].isin(X_tr["user_id"].unique())
    rows = {
        "rows (train / test)": f"{len(X_tr):,} / {len(X_te):,}",
        "users": f"{pd.concat([X_tr['user_id'], X_te['user_id']]).nunique():,}",
        "items": f"{pd.concat([X_tr['item_id'], X_te['item_id']]).nunique():,}",
        "positive rate (train / test)": f"{np.mean(data.y_train):.4f} / {np.mean(data.y_test):.4f}",
        "imbalance ratio (negatives per positive)": f"{(n - n_pos) / max(n_pos, 1):.1f}",
        "Gini of item popularity (training rows)": f"{gini:.3f}",
        "test rows on cold items (unseen in training)": f"{cold_items.mean():.1%}",
        "test rows of cold users": f"{cold_users.mean():.1%}",
        "training rows purged (label not yet known)": f"{data.n_purged:,}",
        "split": data.protocol,
    }
    return pd.DataFrame({"value": rows}).rename_axis("data profile")


def _lorenz_plot(data):
    import matplotlib.pyplot as plt

    x, y, gini = _lorenz(data.X_train["item_id"].value_counts().to_numpy())
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(x, y, label=f"items (Gini {gini:.2f})")
    ax.plot([0, 1], [0, 1], "k:", label="equal popularity")
    ax.set(
        xlabel="share of items (least popular first)",
        ylabel="share of interactions",
        title="Long tail: Lorenz curve of item popularity",
    )
    ax.legend(loc="upper left")
    return _png(fig)


def _buckets(data):
    """head / torso / tail bucket of each test row: items ranked by training popularity, cut
    where the cumulative share of training rows reaches 1/3 and 2/3; unseen items are tail."""
    counts = data.X_train["item_id"].value_counts()
    share = counts.cumsum() / counts.sum()
    bucket = pd.Series(
        np.where(share <= 1 / 3, "head", np.where(share <= 2 / 3, "torso", "tail")),
        index=counts.index,
    )
    return data.X_test["item_id"].map(bucket).fillna("tail").to_numpy()


def _recall_by_bucket(data, scores):
    """Recall of the test positives per bucket when each strategy flags its top-P rows
    (P = number of test positives): a threshold every scorer has, popularity included."""
    y = np.asarray(data.y_test)
    bucket = _buckets(data)
    n_pos = int(y.sum())
    out = {}
    for name, s in scores.items():
        flagged = np.zeros(len(y), dtype=bool)
        flagged[np.argsort(-np.asarray(s), kind="stable")[:n_pos]] = True
        out[name] = {
            b: (flagged & (y == 1) & (bucket == b)).sum() / max(((y == 1) & (bucket == b)).sum(), 1)
            for b in _BUCKETS
        }
    counts = {b: int(((y == 1) & (bucket == b)).sum()) for b in _BUCKETS}
    table = pd.DataFrame(out).T.rename_axis("strategy")
    table.columns = [f"{b} ({counts[b]} positives)" for b in _BUCKETS]
    return table


def _bar_plot(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(table)
    hatches = ["", "//", "..", "xx"]
    for k, (name, row) in enumerate(table.iterrows()):
        ax.bar(
            np.arange(len(row)) + k * width,
            row.to_numpy(),
            width,
            label=name,
            hatch=hatches[k % 4],
            edgecolor="white",
        )
    ax.set_xticks(np.arange(len(table.columns)) + 0.4 - width / 2, table.columns)
    ax.set(
        ylabel="recall of the positives",
        ylim=(0, min(1.0, 1.25 * max(table.to_numpy().max(), 0.05))),
        title="Recall per item-popularity bucket (top-P rows flagged)",
    )
    ax.legend(fontsize=8, ncols=2)
    return _png(fig)


def _pr_plot(y, scores):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    cmap = plt.get_cmap("tab10")
    top = 3 * np.mean(y)
    for k, (name, s) in enumerate(scores.items()):
        p, r, _ = precision_recall_curve(y, s)
        ax.plot(
            r,
            p,
            color=cmap(k % 10),
            linestyle=_STYLES[k % 4],
            linewidth=1.6,
            label=f"{name} (AP {average_precision_score(y, s):.3f})",
            drawstyle="steps-post",
        )
        top = max(top, p[r >= 0.05].max(initial=0) * 1.15)
    ax.axhline(np.mean(y), color="k", linestyle=":", label=f"no skill ({np.mean(y):.3f})")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, min(1.02, top)),
        title="Precision-recall on the test split (y axis cut where recall < 5 %)",
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return _png(fig)


def _calibration(y, probas):
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    fig, ax = plt.subplots(figsize=(7, 5))
    brier, top = {}, 0.05
    for k, (name, p) in enumerate(probas.items()):
        p = np.clip(p, 0, 1)
        frac, mean = calibration_curve(y, p, n_bins=10, strategy="quantile")
        ax.plot(mean, frac, marker="o", ms=3, linestyle=_STYLES[k % 4], label=name)
        brier[name] = brier_score_loss(y, p)
        top = max(top, 1.1 * max(frac.max(), mean.max()))
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    top = min(top, 1.0)
    ax.set(
        xlabel="mean predicted probability (deciles)",
        ylabel="observed positive rate",
        xlim=(0, top),
        ylim=(0, top),
        title="Calibration (reliability diagram)",
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    table = pd.DataFrame({"brier": brier}).rename_axis("strategy")
    return _png(fig), table


def _bootstrap_rows(groups, n_boot, rng):
    codes, uniques = pd.factorize(groups)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for _ in range(n_boot):
        users = rng.integers(0, len(uniques), len(uniques))
        yield np.concatenate([order[starts[u] : starts[u + 1]] for u in users])


def _metrics(y, s, pred):
    row = {
        "roc_auc": roc_auc_score(y, s) if len(np.unique(y)) == 2 else np.nan,
        "pr_auc": average_precision_score(y, s) if y.any() else np.nan,
    }
    if pred is None:
        row.update(accuracy=np.nan, recall=np.nan, f1=np.nan)
    else:
        row.update(
            accuracy=accuracy_score(y, pred),
            recall=recall_score(y, pred, zero_division=0),
            f1=f1_score(y, pred, zero_division=0),
        )
    return row


def _before_after(data, base, best, out, n_boot=200, random_state=0):
    """Baseline vs best strategy, 95 % user-bootstrap intervals of each and of the gain."""
    y = np.asarray(data.y_test)
    rng = np.random.default_rng(random_state)
    point = {n: _metrics(y, out[n][0], out[n][1]) for n in (base, best)}
    draws = {n: [] for n in (base, best, "gain")}
    for idx in _bootstrap_rows(data.X_test["user_id"].to_numpy(), n_boot, rng):
        m = {
            n: _metrics(y[idx], out[n][0][idx], None if out[n][1] is None else out[n][1][idx])
            for n in (base, best)
        }
        draws[base].append(m[base])
        draws[best].append(m[best])
        draws["gain"].append({k: m[best][k] - m[base][k] for k in m[base]})
    rows, verdicts = {}, []
    for metric in ("accuracy", "recall", "f1", "roc_auc", "pr_auc"):
        cells = {}
        for n, label in ((base, f"baseline: {base}"), (best, f"best: {best}"), ("gain", "gain")):
            d = pd.DataFrame(draws[n])[metric].dropna()
            value = point[best][metric] - point[base][metric] if n == "gain" else point[n][metric]
            if np.isnan(value) or d.empty:
                cells[label] = "\u2013"
                continue
            lo, hi = np.percentile(d, [2.5, 97.5])
            cells[label] = (
                f"{value:+.4f} [{lo:+.4f}, {hi:+.4f}]"
                if n == "gain"
                else f"{value:.4f} [{lo:.4f}, {hi:.4f}]"
            )
            if n == "gain":
                verdicts.append((metric, value, lo, hi))
        rows[metric] = cells
    return pd.DataFrame(rows).T.rename_axis("metric (95 % CI)"), verdicts


def _verdict(base, best, verdicts):
    better = [m for m, _, lo, _ in verdicts if lo > 0]
    worse = [m for m, _, _, hi in verdicts if hi < 0]
    if not better:
        text = (
            f"<b>Nothing beats the baseline beyond the noise:</b> no metric of {best} is "
            f"better than {base}'s with a 95 % interval of the gain above 0. Keep the "
            "baseline, or collect more data."
        )
    else:
        text = (
            f"<b>{best} beats {base}</b> on {', '.join(better)} (95 % interval of the gain "
            "above 0)."
        )
    if worse:
        text += f" It is worse on {', '.join(worse)}."
    return f"<p class='verdict'>{text}</p>"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:3px solid #3f51b5;padding-bottom:.3em}h2{color:#3f51b5;margin-top:1.8em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}
thead th{background:#eef;text-align:center}tbody th{text-align:left;background:#fafafa}
.verdict{background:#fff8e1;border-left:4px solid #ffb300;padding:.6em 1em}
.note{color:#555;font-size:.9em}img{max-width:100%}
"""


def make_report(data, strategies=None, *, n_seeds=3, baseline="lightgbm", n_boot=200, verbose=0):
    """Build the case-study report of a benchmark split as one self-contained HTML string.

    Parameters
    ----------
    data : BenchmarkData
        The split (e.g. :func:`load_benchmark_data` on your own log).
    strategies : list of str, str or None, default=None
        Strategies to compare (as in :func:`run_benchmark`); the baseline is added when
        missing.
    n_seeds : int, default=3
        Each strategy is fitted with seeds ``data.random_state + 0 .. n_seeds - 1``; the table
        shows mean and standard deviation over them (deterministic strategies show 0).
    baseline : str, default="lightgbm"
        The "before" of the before / after table.
    n_boot : int, default=200
        User-bootstrap resamples of the test split for the 95 % intervals.
    verbose : int, default=0
        Progress messages (logging) when > 0.

    Returns
    -------
    html : str
        The page: data profile and long-tail Lorenz curve, the strategy table, precision-recall
        curves with the no-skill line, recall per popularity bucket, calibration, and the
        before / after table with confidence intervals and a verdict.
    """
    import matplotlib

    matplotlib.use("Agg")
    names = get_strategy_names(strategies)
    if baseline not in names:
        names = [baseline, *names]
    if n_seeds < 1:
        raise ValueError(f"n_seeds must be >= 1; got {n_seeds!r}")
    _check_inputs(data, stacklevel=2)
    rows, first, notes = [], {}, []
    seed0 = data.random_state or 0
    for k in range(n_seeds):
        run = dataclasses.replace(data, random_state=seed0 + k)
        for name in names:
            if verbose:
                logger.info("report: %s, seed %d", name, seed0 + k)
            try:
                row, s, pred = _fit_and_score(name, run)
            except NotApplicable as exc:
                if k == 0:
                    notes.append(f"{name}: not applicable ({exc})")
                continue
            rows.append({**row, "seed": seed0 + k})
            if k == 0:
                first[name] = (
                    np.asarray(s, dtype=float),
                    None if pred is None else np.asarray(pred),
                )
    if baseline not in first:
        raise ValueError(f"baseline strategy {baseline!r} does not apply to this data set")
    per_seed = pd.DataFrame(rows).set_index("strategy")
    metrics = ["roc_auc", "pr_auc", "f1_pos", "recall_pos", "ndcg@10", "fit_s"]
    summary = summarize(per_seed, "seed", metrics)
    order = summary["pr_auc_mean"].sort_values(ascending=False).index
    summary = summary.loc[order]
    shown = pd.DataFrame(
        {
            m: [
                "\u2013" if np.isnan(a) else f"{a:.4f} \u00b1 {0 if np.isnan(b) else b:.4f}"
                for a, b in zip(summary[f"{m}_mean"], summary[f"{m}_std"])
            ]
            for m in metrics
        },
        index=summary.index,
    )
    shown["seeds"] = summary["n_seeds"]
    others = [n for n in order if n != baseline]
    best = others[0] if others else baseline
    y = np.asarray(data.y_test)
    scores = {n: first[n][0] for n in order}
    probas = {
        n: s
        for n, s in scores.items()
        if first[n][1] is not None and np.nanmin(s) >= 0 and np.nanmax(s) <= 1
    }
    ba, verdicts = _before_after(data, baseline, best, first, n_boot=n_boot, random_state=seed0)
    cal_img, brier = _calibration(y, probas) if probas else ("", pd.DataFrame())
    bucket = _recall_by_bucket(data, scores)
    from .. import __version__

    parts = [
        f"<h1>Case study: {html.escape(data.name)}</h1>",
        f"<p class='note'>sklearn-recsys {__version__}, "
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}. {len(names)} strategies, {n_seeds} "
        f"seeds each, on one {html.escape(data.protocol)}.</p>",
        "<h2>1. The data</h2>",
        _table(_profile(data)),
        _lorenz_plot(data),
        "<h2>2. Strategies (mean &plusmn; standard deviation over seeds)</h2>",
        "<p class='note'>Sorted by PR-AUC. Thresholded columns (F1, recall) are at the "
        "estimator's own <code>predict</code>; the popularity floor has none.</p>",
        _table(shown),
        *(f"<p class='note'>{html.escape(n)}</p>" for n in notes),
        "<h2>3. Precision-recall curves</h2>",
        _pr_plot(y, scores),
        "<h2>4. Recall per item-popularity bucket</h2>",
        "<p class='note'>Items ranked by training popularity; head = the most popular items "
        "that make up the first third of training rows, torso the second third, tail the "
        "rest and every item unseen in training. Each strategy flags its top-P test rows "
        "(P = number of test positives).</p>",
        _table(bucket),
        _bar_plot(bucket),
        "<h2>5. Calibration</h2>",
        cal_img,
        _table(brier) if len(brier) else "",
        "<h2>6. Before / after</h2>",
        f"<p class='note'>Baseline <code>{html.escape(baseline)}</code> vs the best other "
        f"strategy by mean PR-AUC, <code>{html.escape(best)}</code>, first seed; 95 % "
        f"intervals from {n_boot} bootstrap resamples of the test users.</p>",
        _table(ba),
        _verdict(baseline, best, verdicts),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>sklearn-recsys report: {html.escape(data.name)}</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>"
    )


def write_report(path, data, strategies=None, **params):
    """Write :func:`make_report` to ``path`` (one HTML file, plots embedded).

    Parameters
    ----------
    path : str or path-like
        The HTML file; its folder is created.
    data : BenchmarkData
        The split.
    strategies : list of str, str or None, default=None
        As in :func:`make_report`.
    **params
        Other parameters of :func:`make_report` (``n_seeds``, ``baseline``, ``n_boot``).

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_recsys.benchmark import load_benchmark_data, write_report
    >>> data = load_benchmark_data("synthetic", n_interactions=4000)
    >>> path = write_report(pathlib.Path(tempfile.mkdtemp()) / "report.html", data,
    ...                     ["popularity"], baseline="logistic", n_seeds=3, n_boot=20)
    >>> text = path.read_text()
    >>> "Before / after" in text and "data:image/png;base64" in text
    True
    """
    from pathlib import Path

    path = Path(path)
    page = make_report(data, strategies, **params)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
