"""PopularityRecommender: the popularity floor of top-k recommendation."""

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.dummy import PopularityRecommender


def test_popularity_counts_positive_weighted_rows():
    X = pd.DataFrame({"user_id": [1, 2, 3, 4, 5], "item_id": ["x", "x", "y", "z", "z"]})
    y = np.array([1, 0, 1, 1, 1])
    pop = PopularityRecommender().fit(X, y)
    assert pop.item_popularity_.to_dict() == {"x": 0.25, "y": 0.25, "z": 0.5}
    pop = PopularityRecommender(positive_only=False).fit(X, y, sample_weight=[1, 1, 1, 1, 0])
    assert pop.item_popularity_.to_dict() == {"x": 0.5, "y": 0.25, "z": 0.25}
    assert PopularityRecommender().fit(X).predict(X.iloc[:1]).tolist() == [0.4]
    with pytest.raises(ValueError, match="No positive"):
        PopularityRecommender().fit(X, np.zeros(5))
    with pytest.raises(ValueError, match="item_col='item'"):
        PopularityRecommender(item_col="item").fit(X)


def test_a_frame_to_score_needs_only_the_item_column():
    X = pd.DataFrame(
        {"user_id": [1, 1, 2], "item_id": pd.Categorical(["a", "b", "a"]), "rating": [5, 3, 4]}
    )
    pop = PopularityRecommender().fit(X)
    assert pop.feature_names_in_.tolist() == ["user_id", "item_id", "rating"]
    scores = pop.predict(pd.DataFrame({"item_id": ["b", "a", "unseen"]}))
    np.testing.assert_allclose(scores, [1 / 3, 2 / 3, 0.0])


def test_an_array_to_score_must_have_the_training_layout():
    X = np.array([[0, 7], [1, 7], [2, 8]])
    pop = PopularityRecommender(item_col=1).fit(X)
    np.testing.assert_allclose(pop.predict(np.array([[9, 8], [9, 6]])), [1 / 3, 0.0])
    # column 1 of a 3-column array is not the item column of the 2-column training array
    with pytest.raises(
        ValueError, match="X has 3 features, but PopularityRecommender is expecting 2 features"
    ):
        pop.predict(np.array([[9, 8, 7]]))


def test_old_import_path_warns_and_is_the_same_class():
    with pytest.warns(FutureWarning, match="import it from sklearn_recsys.dummy"):
        from sklearn_recsys.recommend import PopularityRecommender as Old
    assert Old is PopularityRecommender
    X = pd.DataFrame({"user_id": [1, 2], "item_id": [3, 3]})
    np.testing.assert_array_equal(
        Old().fit(X).predict(X), PopularityRecommender().fit(X).predict(X)
    )
    import sklearn_recsys.recommend as module

    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        module.Nothing  # noqa: B018
