"""RecBole peers (BPR, LightGCN, EASE) on a given split; run in the benchmark environment.

Reads ``train.csv`` / ``test.csv`` (user_id, item_id, timestamp) from ``--split-dir``, trains
each RecBole model on the training rows only (RecBole's own trainer, no validation-based early
stopping: ``eval_step`` beyond the epochs), scores every catalogue item for every test user with
``full_sort_predict``, drops the user's training items and writes each user's ranking of the
training items (best first, RecBole's internal ids mapped back) to ``--out`` as JSON, with the
fit seconds. ``benchmarks/bench_topk.py`` evaluates the lists with ``evaluate_topk``.

    python recbole_runner.py --split-dir DIR --out lists.json [--models BPR,LightGCN,EASE]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_atomic(df, path):
    out = df.rename(
        columns={
            "user_id": "user_id:token",
            "item_id": "item_id:token",
            "timestamp": "timestamp:float",
        }
    )
    out.to_csv(path, sep="\t", index=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default="BPR,LightGCN,EASE")
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args()

    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    train = pd.read_csv(Path(args.split_dir) / "train.csv")
    test = pd.read_csv(Path(args.split_dir) / "test.csv")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "split"
        d.mkdir()
        write_atomic(train, d / "split.train.inter")
        # RecBole needs a validation file; the last training row of each user (never used:
        # eval_step > epochs, so there is no early stopping on it)
        write_atomic(train.groupby("user_id").tail(1), d / "split.valid.inter")
        write_atomic(test[test["item_id"].isin(train["item_id"])], d / "split.test.inter")
        for name in args.models.split(","):
            params = {
                "data_path": tmp,
                "dataset": "split",
                "benchmark_filename": ["train", "valid", "test"],
                "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
                "epochs": args.epochs,
                "eval_step": args.epochs + 1,
                "train_batch_size": 2048,
                "seed": 0,
                "reproducibility": True,
                "device": "cpu",
                "use_gpu": False,
                "show_progress": False,
                "checkpoint_dir": os.path.join(tmp, "ckpt"),
                "state": "ERROR",
                "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1},
            }
            if name == "EASE":
                params.update(reg_weight=300.0, epochs=1, eval_step=2, train_neg_sample_args=None)
            if name == "LightGCN":
                params.update(embedding_size=64, n_layers=2, learning_rate=0.002)
            config = Config(model=name, config_dict=params)
            init_seed(config["seed"], config["reproducibility"])
            dataset = create_dataset(config)
            train_data, valid_data, test_data = data_preparation(config, dataset)
            model = get_model(config["model"])(config, train_data.dataset).to("cpu")
            trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
            t0 = time.perf_counter()
            trainer.fit(train_data, valid_data=None, saved=False, show_progress=False)
            fit_s = time.perf_counter() - t0
            model.eval()
            uid_field, iid_field = dataset.uid_field, dataset.iid_field
            users = [
                u
                for u in test["user_id"].unique().astype(str)
                if u in dataset.field2token_id[uid_field]
            ]
            uids = torch.tensor([dataset.field2token_id[uid_field][u] for u in users])
            items = np.asarray(dataset.field2id_token[iid_field])
            seen = train_data.dataset.inter_matrix(form="csr")
            lists = {}
            with torch.no_grad():
                for s in range(0, len(uids), 256):
                    batch = uids[s : s + 256]
                    from recbole.data.interaction import Interaction

                    scores = model.full_sort_predict(Interaction({uid_field: batch}))
                    scores = scores.reshape(len(batch), -1).numpy().astype(float)
                    scores[:, 0] = -np.inf  # padding item
                    scores[seen[batch.numpy()].toarray() > 0] = -np.inf
                    order = np.argsort(-scores, axis=1, kind="stable")
                    for r, u in enumerate(users[s : s + 256]):
                        keep = order[r][np.isfinite(scores[r, order[r]])]
                        lists[u] = items[keep].tolist()
            results[name] = {"fit_s": fit_s, "lists": lists}
    Path(args.out).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
