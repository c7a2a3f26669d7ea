"""The ``sklearn-recsys`` command line: ``benchmark`` compares strategies on a data set (or your
own log), ``report`` writes the case-study report, ``tune`` runs an Optuna study; ``topk``,
``serve``, ``monitor`` and ``replay`` come from their modules.

A user mistake (unknown strategy, missing column, bad label, missing data folder, ...) prints
one line on stderr and exits with status 2; ``--debug`` shows the traceback. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import warnings
from pathlib import Path

__all__ = ["UsageError", "add_data_arguments", "build_parser", "load_data", "main"]

PROG = "sklearn-recsys"


class UsageError(ValueError):
    """A mistake in the user's command or data: reported as one line, exit status 2."""


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" to a help line unless it has no meaningful default (None, a
    flag) or already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Shows defaults in ``--help``; reports a usage error as one line (exit status 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@contextlib.contextmanager
def user_input(what=None):
    """Turn the validation errors raised while reading the user's input into UsageError."""
    try:
        yield
    except (
        ValueError,
        FileNotFoundError,
        NotADirectoryError,
        IsADirectoryError,
        PermissionError,
    ) as exc:
        text = " ".join(str(exc).split())
        raise UsageError(f"{what}: {text}" if what else text) from exc


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1); got {text}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1; got {value}")
    return value


def add_data_arguments(parser, *, events=True):
    """The data options shared by ``benchmark``, ``report`` and ``tune``."""
    from .benchmark import DATASETS

    g = parser.add_argument_group("data (a named data set, or your own log with --data)")
    g.add_argument(
        "--dataset",
        default=None,
        choices=list(DATASETS if events else DATASETS[:2]),
        help="named data set (default: synthetic); taobao and synthetic-events are "
        "event logs with the 72 h purchase-conversion label and a purged split",
    )
    g.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="your own interaction log: a .csv, .tsv or .parquet file",
    )
    g.add_argument("--user-col", default="user_id", help="user id column of --data")
    g.add_argument("--item-col", default="item_id", help="item id column of --data")
    g.add_argument(
        "--time-col",
        default="timestamp",
        help="time column of --data (numbers such as Unix seconds, or dates)",
    )
    g.add_argument(
        "--label",
        default=None,
        metavar="COL",
        help="label column of --data: 0/1, or any column with --positive",
    )
    g.add_argument(
        "--positive",
        default=None,
        metavar="VALUE",
        help="the value of --label that makes a positive (e.g. buy, 5, yes)",
    )
    g.add_argument(
        "--conversion",
        default=None,
        metavar="TARGET",
        help="instead of --label, for event logs: label each other event 1 when the "
        "user does TARGET on the same item within --window",
    )
    g.add_argument(
        "--behavior-col",
        default="behavior_type",
        help="behaviour column of --data (with --conversion)",
    )
    g.add_argument("--window", default="72h", help="conversion window (with --conversion)")
    g.add_argument(
        "--item-info",
        default=None,
        metavar="PATH",
        help="item side data (CSV / Parquet with --item-col); title, genres or "
        "description columns feed the text strategies",
    )
    g.add_argument(
        "--data-home",
        default=None,
        help="folder of the named real data sets "
        "(default: $SKLEARN_RECSYS_DATA or ~/sklearn_recsys_data)",
    )
    g.add_argument(
        "--download",
        action="store_true",
        help="download MovieLens if its files are missing (never done otherwise)",
    )
    g.add_argument(
        "--n-interactions",
        type=_positive_int,
        default=100_000,
        help="rows of the synthetic data sets",
    )
    g.add_argument(
        "--test-size",
        type=_fraction,
        default=0.2,
        help="share of each user's latest rows in the test set",
    )
    g.add_argument("--random-state", type=int, default=0, help="seed of data and strategies")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error instead of one line"
    )


def _data_params(args):
    if args.data is None:
        own = [
            f"--{k.replace('_', '-')}"
            for k in ("label", "positive", "conversion", "item_info")
            if getattr(args, k)
        ]
        if own:
            raise UsageError(f"{', '.join(own)} describe your own log: give it with --data PATH")
        return args.dataset or "synthetic", {}
    if args.dataset is not None:
        raise UsageError("give either --dataset or --data, not both")
    if args.label is None and args.conversion is None:
        raise UsageError(
            "--data needs a label: --label COL (0/1, or with --positive VALUE) "
            "or --conversion TARGET (event logs, with --behavior-col and --window)"
        )
    return args.data, dict(
        user_col=args.user_col,
        item_col=args.item_col,
        time_col=args.time_col,
        label=args.label,
        positive=args.positive,
        conversion=args.conversion,
        behavior_col=args.behavior_col,
        window=args.window,
        item_info=args.item_info,
    )


def load_data(args):
    """The BenchmarkData of the data options; user mistakes become UsageError."""
    from .benchmark import check_benchmark_labels, load_benchmark_data

    dataset, params = _data_params(args)
    with user_input():
        data = load_benchmark_data(
            dataset,
            data_home=args.data_home,
            n_interactions=args.n_interactions,
            test_size=args.test_size,
            random_state=args.random_state,
            download=args.download,
            **params,
        )
        check_benchmark_labels(data.y_train, "the training labels (a user's earlier rows)")
        check_benchmark_labels(data.y_test, "the test labels (each user's latest rows)")
    return data


def _strategies(args):
    from .benchmark import get_strategy_names

    with user_input("--strategies"):
        return get_strategy_names(args.strategies)


def _jsonable(value):
    """Strict-JSON copy: NaN / inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table):
    """Rows of a table as JSON-ready dicts: NaN becomes null (strict JSON)."""
    return _jsonable(table.reset_index().to_dict(orient="records"))


def write_json(path, payload):
    """Write ``payload`` as strict JSON (``json.load`` of any reader passes)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(_jsonable(payload), indent=2, allow_nan=False, default=str))
    return out


def _benchmark(args):
    from .benchmark import (
        STRATEGIES,
        load_benchmark_folds,
        run_benchmark,
        run_benchmark_folds,
        write_report,
    )

    if args.list:
        for s in STRATEGIES.values():
            flag = "*" if s.default else " "
            print(f"{flag} {s.name:26s} {s.description}")
        print("\n* run when --strategies is not given; --strategies all runs every one")
        return 0
    strategies = _strategies(args)
    data = load_data(args)
    table, scores = run_benchmark(data, strategies, verbose=args.verbose)
    n_tr, n_te = len(data.X_train), len(data.X_test)
    purged = f", {data.n_purged} immature training rows purged" if data.n_purged else ""
    print(
        f"\n{data.name}: {data.protocol}, {n_tr} train / {n_te} test rows{purged}, "
        f"positive rate {data.y_train.mean():.3f} (train) / {data.y_test.mean():.3f} (test)\n"
    )
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    payload = {
        "dataset": data.name,
        "protocol": data.protocol,
        "n_train": n_tr,
        "n_test": n_te,
        "n_purged": data.n_purged,
        "random_state": args.random_state,
        "results": _records(table),
    }
    if args.folds:
        dataset, params = _data_params(args)
        with user_input():
            folds = load_benchmark_folds(
                dataset,
                n_splits=args.folds,
                test_size=args.fold_span,
                data_home=args.data_home,
                n_interactions=args.n_interactions,
                random_state=args.random_state,
                download=args.download,
                **params,
            )
        summary, per_fold = run_benchmark_folds(folds, strategies, verbose=args.verbose)
        print(
            f"\n{data.name}: {args.folds} rolling-origin folds ({args.fold_span} each), "
            "mean and standard deviation\n"
        )
        print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
        payload["folds"] = {
            "n_splits": args.folds,
            "test_span": args.fold_span,
            "summary": _records(summary),
            "per_fold": _records(per_fold),
        }
    payload["warnings"] = list(getattr(args, "warnings_caught", []))
    if args.output:
        print(f"\nwrote {write_json(args.output, payload)}")
    if args.plot:
        _pr_png(args.plot, data, scores)
        print(f"wrote {args.plot}")
    if args.report:
        path = write_report(
            args.report,
            data,
            strategies,
            n_seeds=args.seeds,
            baseline=args.baseline,
            verbose=args.verbose,
        )
        print(f"wrote {path}")
    return 0


def _pr_png(path, data, scores):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = plt.subplots(figsize=(7, 5))
    cmap = plt.get_cmap("tab10")
    for k, (name, s) in enumerate(scores.items()):
        precision, recall, _ = precision_recall_curve(data.y_test, s)
        ax.plot(
            recall,
            precision,
            drawstyle="steps-post",
            color=cmap(k % 10),
            linestyle=["-", "--", "-.", ":"][k % 4],
            label=f"{name} (AP {average_precision_score(data.y_test, s):.3f})",
        )
    ax.axhline(data.y_test.mean(), color="k", linestyle=":", label="no skill")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Precision-recall, {data.name} (test split)",
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _report(args):
    from .benchmark import write_report

    strategies = _strategies(args)
    data = load_data(args)
    with user_input("--baseline"):
        from .benchmark import get_strategy_names

        get_strategy_names([args.baseline])
    path = write_report(
        args.output,
        data,
        strategies,
        n_seeds=args.seeds,
        baseline=args.baseline,
        verbose=args.verbose,
    )
    print(f"wrote {path}")
    return 0


def _add_report_options(p, *, flag):
    p.add_argument(
        flag,
        default=("report.html" if flag == "--output" else None),
        metavar="PATH",
        help="write the case-study report (one HTML file) here",
    )
    p.add_argument(
        "--seeds",
        type=_positive_int,
        default=3,
        help="seeds per strategy in the report (mean and spread)",
    )
    p.add_argument(
        "--baseline", default="lightgbm", help="the 'before' of the report's before / after table"
    )


def build_parser():
    """The ``sklearn-recsys`` argument parser (every sub-command)."""
    from . import __version__

    parser = _Parser(prog=PROG, description="Imbalance-aware recommendation toolkit.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = sub.add_parser(
        "benchmark",
        help="compare strategies on a data set or your own log (the main job)",
        description="Fit the strategies on each user's earlier rows and score "
        "them on the latest ones; print the table, optionally write JSON, a "
        "precision-recall plot and the HTML report.",
    )
    b.add_argument(
        "--strategies",
        default=None,
        help="comma-separated strategy names, or 'all' (default: the starred ones of --list)",
    )
    b.add_argument("--list", action="store_true", help="list the strategies and exit")
    add_data_arguments(b)
    b.add_argument(
        "--folds",
        type=int,
        default=0,
        help="also run this many rolling-origin folds and report each strategy's "
        "mean and spread (0: the single split only)",
    )
    b.add_argument(
        "--fold-span",
        default="1D",
        help="test span of each rolling-origin fold (a pandas Timedelta)",
    )
    b.add_argument("--output", default=None, help="write the table as (strict) JSON here")
    b.add_argument("--plot", default=None, help="write precision-recall curves (PNG) here")
    _add_report_options(b, flag="--report")
    b.add_argument("--verbose", type=int, default=1, help="progress bars when > 0")
    b.set_defaults(func=_benchmark)
    r = sub.add_parser(
        "report",
        help="write the case-study report (one HTML file)",
        description="Benchmark the strategies over several seeds and write one "
        "self-contained HTML report: data profile, strategy table, curves, "
        "recall per popularity bucket, calibration, before / after.",
    )
    r.add_argument(
        "--strategies",
        default=None,
        help="comma-separated strategy names, or 'all' (default: the starred ones "
        "of benchmark --list)",
    )
    add_data_arguments(r)
    _add_report_options(r, flag="--output")
    r.add_argument("--verbose", type=int, default=0, help="progress messages when > 0")
    r.set_defaults(func=_report)
    from ._tune_cli import add_tune_parser

    add_tune_parser(sub)
    from ._topk_cli import add_topk_parser

    add_topk_parser(sub)
    from .serving._cli import add_serving_parsers

    add_serving_parsers(sub)
    return parser


def _one_line_warnings(caught):
    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        caught.append(f"{category.__name__}: {text}")
        print(f"{PROG}: warning: {text}", file=sys.stderr)

    return show


def main(argv=None):
    """Entry point of the ``sklearn-recsys`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    caught = []
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(caught)
            args.warnings_caught = caught
            return args.func(args)
    except UsageError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
