"""The ``sklearn-recsys`` command line: ``benchmark`` compares strategies on a data set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _benchmark(args):
    from ._benchmark import STRATEGIES, load_benchmark_data, run_benchmark

    if args.list:
        for s in STRATEGIES.values():
            flag = "*" if s.default else " "
            print(f"{flag} {s.name:26s} {s.description}")
        print("\n* run when --strategies is not given; --strategies all runs every one")
        return 0
    data = load_benchmark_data(args.dataset, data_home=args.data_home,
                               n_interactions=args.n_interactions,
                               test_size=args.test_size, random_state=args.random_state)
    strategies = args.strategies.split(",") if args.strategies else None
    table, scores = run_benchmark(data, strategies, verbose=args.verbose)
    n_tr, n_te = len(data.X_train), len(data.X_test)
    print(f"\n{data.name}: per-user temporal split, {n_tr} train / {n_te} test rows, "
          f"positive rate {data.y_train.mean():.3f} (train) / {data.y_test.mean():.3f} (test)\n")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"dataset": data.name, "n_train": n_tr, "n_test": n_te,
                   "random_state": args.random_state,
                   "results": table.reset_index().to_dict(orient="records")}
        out.write_text(json.dumps(payload, indent=2))
        print(f"\nwrote {out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import PrecisionRecallDisplay

        fig, ax = plt.subplots(figsize=(6, 5))
        for name, s in scores.items():
            PrecisionRecallDisplay.from_predictions(data.y_test, s, name=name, ax=ax)
        ax.set_title(f"Precision-recall, {data.name} (test split)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="sklearn-recsys",
                                     description="Imbalance-aware recommendation toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("benchmark", help="compare strategies on a data set (the main job)")
    b.add_argument("--dataset", default="synthetic", choices=["synthetic", "ml-100k"])
    b.add_argument("--strategies", default=None,
                   help="comma-separated strategy names, or 'all' (default: the starred "
                   "ones of --list)")
    b.add_argument("--list", action="store_true", help="list the strategies and exit")
    b.add_argument("--data-home", default=None, help="folder with the data (default: "
                   "$SKLEARN_RECSYS_DATA or ~/sklearn_recsys_data)")
    b.add_argument("--n-interactions", type=int, default=100_000,
                   help="rows of the synthetic data set")
    b.add_argument("--test-size", type=float, default=0.2)
    b.add_argument("--random-state", type=int, default=0)
    b.add_argument("--output", default=None, help="write the table as JSON here")
    b.add_argument("--plot", default=None, help="write precision-recall curves (PNG) here")
    b.add_argument("--verbose", type=int, default=1)
    b.set_defaults(func=_benchmark)
    from ._tune_cli import add_tune_parser

    add_tune_parser(sub)
    from .serving._cli import add_serving_parsers

    add_serving_parsers(sub)
    return parser


def main(argv=None):
    """Entry point of the ``sklearn-recsys`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
