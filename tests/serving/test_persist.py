import json

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_recsys.features import InteractionFeaturizer
from sklearn_recsys.serving import (
    UntrustedTypesError,
    load_manifest,
    load_pipeline,
    save_pipeline,
)


def test_lightgbm_pipeline_round_trips_with_identical_scores(tmp_path, interactions):
    from lightgbm import LGBMClassifier

    X, y, item_info = interactions
    # side table (a DataFrame parameter) and a category column: both need the portable form
    pipe = (
        make_pipeline(
            InteractionFeaturizer(
                keep_id_columns=False,
                n_factors=3,
                item_info=item_info.drop(columns=["quality"]),
                random_state=0,
            ),
            LGBMClassifier(n_estimators=15, n_jobs=1, verbose=-1, random_state=0),
        )
        .set_output(transform="pandas")
        .fit(X, y)
    )
    path = tmp_path / "m.skops"
    manifest = save_pipeline(pipe, path, reference=X, reference_y=y)
    loaded = load_pipeline(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    feat = loaded[0]
    assert feat.item_info.equals(pipe[0].item_info)
    assert feat.user_indexer_.ids_.equals(pipe[0].user_indexer_.ids_)
    # the manifest
    on_disk = load_manifest(path)
    assert on_disk == json.loads(json.dumps(manifest))
    assert manifest["versions"]["lightgbm"] and manifest["versions"]["scikit-learn"]
    assert manifest["feature_names"] == list(pipe[0].get_feature_names_out())
    assert manifest["positive_rate"] == pytest.approx(float(np.mean(y)))
    assert manifest["input_columns"] == list(X.columns)
    profile = manifest["reference_profile"]
    assert set(profile["numeric_"]) >= {"price", "position", "item_popularity"}
    assert "category" in profile["categorical_"]
    assert len(manifest["model_sha256"]) == 64


def test_positive_rate_falls_back_to_the_featurizers_training_mean(
    tmp_path, lgbm_pipeline, interactions
):
    X, y, _ = interactions
    manifest = save_pipeline(lgbm_pipeline, tmp_path / "m.skops")
    assert manifest["positive_rate"] == pytest.approx(float(np.mean(y)))
    assert manifest["reference_profile"] is None


def test_neural_ranker_round_trips_with_identical_scores(tmp_path, interactions):
    from sklearn_recsys.neural import NeuralClassifier

    X, y, _ = interactions
    pipe = (
        make_pipeline(
            InteractionFeaturizer(n_factors=2, random_state=0),
            NeuralClassifier(
                "deepfm",
                embedding_dim=4,
                hidden_units=(8,),
                max_epochs=2,
                batch_size=512,
                random_state=0,
            ),
        )
        .set_output(transform="pandas")
        .fit(X, y)
    )
    path = tmp_path / "n.skops"
    save_pipeline(pipe, path)
    loaded = load_pipeline(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    assert len(loaded[-1].history_) == len(pipe[-1].history_)


def test_untrusted_types_are_refused_and_listed(tmp_path, interactions):
    import operator

    X, y, _ = interactions
    pipe = make_pipeline(FunctionTransformer(operator.methodcaller("copy"))).fit(X)
    path = tmp_path / "evil.skops"
    save_pipeline(pipe, path)
    with pytest.raises(UntrustedTypesError, match="operator.methodcaller") as err:
        load_pipeline(path)
    assert "operator.methodcaller" in err.value.types
    # trusting it explicitly after an audit loads it
    loaded = load_pipeline(path, trusted=err.value.types)
    assert loaded.transform(X).equals(X)


def test_a_tampered_archive_does_not_match_its_manifest(tmp_path, lgbm_pipeline):
    path = tmp_path / "m.skops"
    save_pipeline(lgbm_pipeline, path)
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is not the archive its manifest describes"):
        load_pipeline(path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_pipeline(tmp_path / "nothing.skops")
