"""Neural rankers: skorch overhead, architectures vs LightGBM and DeepCTR-Torch, and losses.

Protocol (the package's, ``sklearn_recsys.benchmark.load_benchmark_data``): per-user temporal
split (the last 20 % of each user's rows are the test set); features from one
:class:`~sklearn_recsys.features.InteractionFeaturizer` fitted on the training rows, with the id
columns kept so that the neural nets embed them (LightGBM gets the same features without ids).
Everything runs on the CPU with one thread (``n_jobs=None`` for torch, ``n_jobs=1`` for
LightGBM).

1. **skorch overhead** (MovieLens-100k features, DeepFM module): seconds per training epoch of
   ``NeuralClassifier`` (skorch loop, callbacks, history) against a minimal hand-written PyTorch
   loop (``randperm`` + index slicing, same module, loss, optimizer, batch size, threads);
   median over interleaved repeats; target ratio <= 1.15.
2. **Architectures** on MovieLens-100k "loved" (rating == 5): ROC-AUC and PR-AUC on the test
   split of mlp / wide_deep / deepfm / two_tower next to LightGBM and DeepCTR-Torch's DeepFM
   (same features, embedding size, hidden units, batch size, optimizer, learning rate; trained
   for as many epochs as our DeepFM ran).
3. **Losses** on the synthetic purchase label (~2 % positives): bce, weighted, focal,
   class-balanced, and bce with balanced batches / focal with dynamic class weights: PR-AUC,
   ROC-AUC and the minority class F1 / recall of ``predict`` (threshold 0.5).

Prints the tables and writes ``benchmarks/results/bench_neural.{json,md}``.

    SKLEARN_RECSYS_DATA=../shared/data python benchmarks/bench_neural.py \
        [--max-epochs 8] [--repeats 3] [--n-interactions 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score, f1_score, recall_score, roc_auc_score

from sklearn_recsys._contract import IdIndexer
from sklearn_recsys.benchmark import featurizer, load_benchmark_data
from sklearn_recsys.losses import WeightedBCELoss
from sklearn_recsys.neural import NeuralClassifier
from sklearn_recsys.utils import torch_threads

RESULTS = Path(__file__).parent / "results"
SEED = 0
ARCH = dict(
    embedding_dim=16,
    hidden_units=(128, 64),
    dropout=0.1,
    batch_size=1024,
    lr=2e-3,
    random_state=SEED,
)
ID_COLS = ["user_id", "item_id"]


def featurize(data):
    feat = featurizer(data, keep_id_columns=True).set_output(transform="pandas")
    train = feat.fit_transform(data.X_train, data.y_train)
    test = feat.transform(data.X_test)
    return train, np.asarray(data.y_train), test, np.asarray(data.y_test)


def scores(y, proba, pred=None):
    row = {"roc_auc": roc_auc_score(y, proba), "pr_auc": average_precision_score(y, proba)}
    if pred is not None:
        row["minority_f1"] = f1_score(y, pred, zero_division=0.0)
        row["minority_recall"] = recall_score(y, pred, zero_division=0.0)
    return row


# --- 1. skorch vs a hand-written loop --------------------------------------------------------
def hand_loop(module, data, y, epochs, batch_size, lr, seed):
    """The minimal PyTorch loop: shuffle, slice, forward, loss, backward, step."""
    dense = torch.as_tensor(data["dense"])
    sparse = torch.as_tensor(data["sparse"])
    target = torch.tensor(y, dtype=torch.float32)
    criterion = WeightedBCELoss()
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    n, durations = len(target), []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        total = 0.0
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            out = module(dense.index_select(0, idx), sparse.index_select(0, idx))
            loss = criterion(out, target.index_select(0, idx))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        durations.append(time.perf_counter() - start)
    return durations


def bench_overhead(X, y, repeats, epochs):
    skorch_s, hand_s, fit_s = [], [], []
    for r in range(repeats):
        model = NeuralClassifier(
            "deepfm",
            validation_fraction=None,
            early_stopping=False,
            max_epochs=epochs,
            **{**ARCH, "dropout": 0.0, "random_state": r},
        )
        start = time.perf_counter()
        model.fit(X, y)
        fit_s.append((time.perf_counter() - start) / epochs)
        skorch_s += list(model.history_[:, "dur"])
        module = type(model.net_.module_)(**model.net_.get_params_for("module"))
        with torch_threads(None):
            torch.manual_seed(r)
            hand_s += hand_loop(
                module, model.encoder_.transform(X), y, epochs, ARCH["batch_size"], ARCH["lr"], r
            )
    med_skorch, med_hand = float(np.median(skorch_s)), float(np.median(hand_s))
    return {
        "rows": len(y),
        "epochs_per_repeat": epochs,
        "repeats": repeats,
        "skorch_s_per_epoch": med_skorch,
        "hand_s_per_epoch": med_hand,
        "ratio": med_skorch / med_hand,
        "skorch_fit_s_per_epoch": float(np.median(fit_s)),  # + encoding and initialisation
        "skorch_samples_per_s": len(y) / med_skorch,
        "hand_samples_per_s": len(y) / med_hand,
    }


# --- 2. architectures vs LightGBM and DeepCTR-Torch -------------------------------------------
def lightgbm_row(Xtr, ytr, Xte, yte):
    from lightgbm import LGBMClassifier

    model = LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=1,
        verbose=-1,
        random_state=SEED,
    )
    start = time.perf_counter()
    model.fit(Xtr.drop(columns=ID_COLS), ytr)
    fit_s = time.perf_counter() - start
    Xte = Xte.drop(columns=ID_COLS)
    return {
        "model": "lightgbm (300 trees)",
        "fit_s": fit_s,
        "epochs": None,
        "s_per_epoch": None,
        **scores(yte, model.predict_proba(Xte)[:, 1], model.predict(Xte)),
    }


def neural_row(name, model, Xtr, ytr, Xte, yte):
    start = time.perf_counter()
    model.fit(Xtr, ytr)
    fit_s = time.perf_counter() - start
    return {
        "model": name,
        "fit_s": fit_s,
        "epochs": model.n_epochs_,
        "s_per_epoch": float(np.mean(model.history_[:, "dur"])),
        **scores(yte, model.predict_proba(Xte)[:, 1], model.predict(Xte)),
    }


def deepctr_row(Xtr, ytr, Xte, yte, epochs):
    try:
        from deepctr_torch.inputs import DenseFeat, SparseFeat
        from deepctr_torch.models import DeepFM
    except ImportError as exc:  # pragma: no cover - reported in the table
        return {"model": "DeepCTR-Torch DeepFM", "skipped": f"not installed: {exc}"}
    dense_cols = [c for c in Xtr.columns if c not in ID_COLS]
    mean, std = Xtr[dense_cols].mean(), Xtr[dense_cols].std().replace(0, 1)

    def inputs(X, indexers):
        out = {c: indexers[c].transform(X[c]) for c in ID_COLS}
        out.update({c: ((X[c] - mean[c]) / std[c]).to_numpy(np.float32) for c in dense_cols})
        return out

    indexers = {c: IdIndexer(name=c).fit(Xtr[c]) for c in ID_COLS}
    columns = [
        SparseFeat(c, vocabulary_size=indexers[c].n_indices_, embedding_dim=ARCH["embedding_dim"])
        for c in ID_COLS
    ]
    columns += [DenseFeat(c, 1) for c in dense_cols]
    with torch_threads(None):
        torch.manual_seed(SEED)
        model = DeepFM(
            columns,
            columns,
            dnn_hidden_units=ARCH["hidden_units"],
            dnn_dropout=ARCH["dropout"],
            task="binary",
            seed=SEED,
            device="cpu",
        )
        model.compile(torch.optim.Adam(model.parameters(), lr=ARCH["lr"]), "binary_crossentropy")
        start = time.perf_counter()
        model.fit(
            inputs(Xtr, indexers),
            ytr.astype(np.float32),
            batch_size=ARCH["batch_size"],
            epochs=epochs,
            verbose=0,
            shuffle=True,
        )
        fit_s = time.perf_counter() - start
        proba = model.predict(inputs(Xte, indexers), batch_size=4096).reshape(-1)
    return {
        "model": "DeepCTR-Torch DeepFM",
        "fit_s": fit_s,
        "epochs": epochs,
        "s_per_epoch": fit_s / epochs,
        **scores(yte, proba, (proba > 0.5).astype(int)),
    }


def bench_architectures(Xtr, ytr, Xte, yte, max_epochs):
    rows = [lightgbm_row(Xtr, ytr, Xte, yte)]
    for arch in ("mlp", "wide_deep", "deepfm", "two_tower"):
        model = NeuralClassifier(arch, max_epochs=max_epochs, n_iter_no_change=2, **ARCH)
        rows.append(neural_row(f"NeuralClassifier {arch}", model, Xtr, ytr, Xte, yte))
        print(f"  {rows[-1]['model']}: PR-AUC {rows[-1]['pr_auc']:.4f}", flush=True)
    ours = next(r for r in rows if r["model"] == "NeuralClassifier deepfm")
    rows.append(deepctr_row(Xtr, ytr, Xte, yte, epochs=ours["epochs"]))
    return rows


# --- 3. losses on the rare synthetic purchase label -------------------------------------------
LOSS_CONFIGS = {
    "bce": dict(loss="bce"),
    "weighted (balanced)": dict(loss="weighted"),
    "focal (gamma 2)": dict(loss="focal", focal_gamma=2.0),
    "focal (gamma 2, alpha 0.75)": dict(loss="focal", focal_gamma=2.0, focal_alpha=0.75),
    "class_balanced (beta 0.999)": dict(loss="class_balanced", cb_beta=0.999),
    "class_balanced (beta 0.9999)": dict(loss="class_balanced", cb_beta=0.9999),
    "bce + balanced batches": dict(loss="bce", balanced_batches=True),
    "focal + dynamic class weight": dict(loss="focal", dynamic_class_weight=True),
}


def bench_losses(Xtr, ytr, Xte, yte, max_epochs):
    rows = [lightgbm_row(Xtr, ytr, Xte, yte)]
    for name, params in LOSS_CONFIGS.items():
        model = NeuralClassifier(
            "mlp",
            max_epochs=max_epochs,
            n_iter_no_change=2,
            monitor="valid_pr_auc",
            **ARCH,
            **params,
        )
        rows.append(neural_row(name, model, Xtr, ytr, Xte, yte))
        print(f"  {name}: PR-AUC {rows[-1]['pr_auc']:.4f}", flush=True)
    return rows


def to_markdown(df):
    df = df.copy()
    for c in df.columns:
        if not pd.api.types.is_float_dtype(df[c]):
            continue
        values = df[c].dropna()
        if len(values) and (values == values.round()).all():  # counts (epochs, rows)
            df[c] = df[c].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        else:
            df[c] = df[c].map(
                lambda v: "" if pd.isna(v) else f"{v:.4f}" if abs(v) < 100 else f"{v:,.0f}"
            )
    df = df.fillna("")
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def markdown_report(out):
    """The Markdown tables of a result dict (as written to bench_neural.json)."""
    return "\n".join(
        [
            "# bench_neural",
            "",
            f"CPU, one torch thread; total {out['total_s']:.0f} s.",
            "",
            "## skorch vs hand-written loop (MovieLens-100k features, DeepFM)",
            "",
            to_markdown(pd.DataFrame([out["overhead"]])),
            "",
            "## Architectures, MovieLens-100k loved (train positive rate "
            f"{out['ml-100k']['train_positive_rate']:.3f})",
            "",
            to_markdown(pd.DataFrame(out["architectures"])),
            "",
            "## Losses, synthetic purchases (train positive rate "
            f"{out['synthetic']['train_positive_rate']:.3f}, {out['synthetic']['test_positives']} "
            "test positives)",
            "",
            to_markdown(pd.DataFrame(out["losses"])),
            "",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--overhead-epochs", type=int, default=2)
    parser.add_argument("--n-interactions", type=int, default=100_000)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine(),
            "torch_threads": 1,
        },
        "args": vars(args),
    }

    print("MovieLens-100k, loved = rating 5, per-user temporal split", flush=True)
    ml = load_benchmark_data("ml-100k", random_state=SEED)
    Xtr, ytr, Xte, yte = featurize(ml)
    out["ml-100k"] = {
        "train_rows": len(ytr),
        "test_rows": len(yte),
        "train_positive_rate": float(ytr.mean()),
        "features": Xtr.shape[1],
    }

    # warm-up: torch imports its optimizer machinery on the first step (seconds, once)
    NeuralClassifier(max_epochs=1, validation_fraction=None, early_stopping=False).fit(
        Xtr.head(2048), ytr[:2048]
    )
    print("1. skorch vs hand-written loop (DeepFM, one thread)", flush=True)
    over = bench_overhead(Xtr, ytr, args.repeats, args.overhead_epochs)
    out["overhead"] = over
    print(pd.DataFrame([over]).T.to_string(header=False), flush=True)

    print("2. architectures", flush=True)
    arch = pd.DataFrame(bench_architectures(Xtr, ytr, Xte, yte, args.max_epochs))
    out["architectures"] = arch.to_dict(orient="records")
    print(arch.to_string(index=False, float_format=lambda v: f"{v:.4f}"), flush=True)

    print(f"3. losses, synthetic purchases ({args.n_interactions} impressions)", flush=True)
    syn = load_benchmark_data("synthetic", n_interactions=args.n_interactions, random_state=SEED)
    Str, sytr, Ste, syte = featurize(syn)
    out["synthetic"] = {
        "train_rows": len(sytr),
        "test_rows": len(syte),
        "train_positive_rate": float(sytr.mean()),
        "test_positives": int(syte.sum()),
    }
    losses = pd.DataFrame(bench_losses(Str, sytr, Ste, syte, args.max_epochs))
    out["losses"] = losses.to_dict(orient="records")
    print(losses.to_string(index=False, float_format=lambda v: f"{v:.4f}"), flush=True)

    out["total_s"] = time.perf_counter() - t0
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_neural.json").write_text(json.dumps(out, indent=2, default=float))
    md = markdown_report(out)
    (RESULTS / "bench_neural.md").write_text(md)
    print(f"wrote {RESULTS / 'bench_neural.json'} and .md in {out['total_s']:.0f} s")


if __name__ == "__main__":
    main()
