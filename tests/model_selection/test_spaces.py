"""Search-space registry, step choices and user-space validation."""

import importlib

import pytest
from imblearn.over_sampling import ADASYN, SMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from lightgbm import LGBMClassifier
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FixedTrial
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_recsys.model_selection import _spaces
from sklearn_recsys.model_selection._spaces import (
    StepChoice,
    classifier_choice,
    get_search_space,
    loss_choice,
    register_search_space,
    resolve_space,
    sampler_choice,
    suggest_params,
)

# class path -> constructor kwargs, for every class with a registered default space that can be
# imported here (the toolkit's own ones skip while their sub-package is absent)
REGISTERED = {
    "sklearn.linear_model.LogisticRegression": {},
    "sklearn.ensemble.RandomForestClassifier": {},
    "sklearn.ensemble.ExtraTreesClassifier": {},
    "sklearn.ensemble.HistGradientBoostingClassifier": {},
    "sklearn.tree.DecisionTreeClassifier": {},
    "sklearn.neighbors.KNeighborsClassifier": {},
    "sklearn.linear_model.SGDClassifier": {},
    "lightgbm.LGBMClassifier": {},
    "lightgbm.LGBMRegressor": {},
    "lightgbm.LGBMRanker": {},
    "imblearn.over_sampling.SMOTE": {},
    "imblearn.over_sampling.BorderlineSMOTE": {},
    "imblearn.over_sampling.SVMSMOTE": {},
    "imblearn.over_sampling.SMOTENC": {"categorical_features": [0]},
    "imblearn.over_sampling.ADASYN": {},
    "imblearn.over_sampling.RandomOverSampler": {},
    "imblearn.under_sampling.RandomUnderSampler": {},
    "imblearn.under_sampling.NearMiss": {},
    "imblearn.under_sampling.EditedNearestNeighbours": {},
    "imblearn.combine.SMOTETomek": {},
    "imblearn.combine.SMOTEENN": {},
    "imblearn.ensemble.BalancedRandomForestClassifier": {},
    "imblearn.ensemble.BalancedBaggingClassifier": {},
    "imblearn.ensemble.EasyEnsembleClassifier": {},
    "imblearn.ensemble.RUSBoostClassifier": {},
    "sklearn_recsys.boosting.ImbalancedLGBMClassifier": {},
    "sklearn_recsys.boosting.FocalLGBMClassifier": {},
    "sklearn_recsys.boosting.GroupedLGBMRanker": {},
    "sklearn_recsys.neural.NeuralClassifier": {},
    "sklearn_recsys.neural.MultiTaskClassifier": {},
    "sklearn_recsys.sampling.GANOverSampler": {},
    "sklearn_recsys.sampling.NegativeSampler": {},
    "sklearn_recsys.sampling.PopularityUnderSampler": {},
    "sklearn_recsys.ensemble.SelfPacedEnsembleClassifier": {},
    "sklearn_recsys.features.InteractionFeaturizer": {},
}


def test_every_registered_class_is_listed_here():
    listed = {path.rsplit(".", 1)[1] for path in REGISTERED}
    assert set(_spaces._DEFAULTS) == listed


@pytest.mark.parametrize("path", sorted(REGISTERED))
def test_default_space_names_real_parameters_and_samples(path):
    module, name = path.rsplit(".", 1)
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        pytest.skip(f"{path} is not available (sub-package written in parallel)")
    est = cls(**REGISTERED[path])
    space = get_search_space(est)
    assert space, f"empty default space for {name}"
    # every name is a real parameter (resolve_space validates) and every value can be sampled
    assert resolve_space(est, space) == space
    params = suggest_params(FixedTrial(_sample_midpoints(space)), space)
    est.set_params(**params)


def _sample_midpoints(space):
    out = {}
    for key, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            out[key] = dist.choices[0]
        elif isinstance(dist, IntDistribution):
            out[key] = (dist.low + dist.high) // 2
        else:
            out[key] = (dist.low + dist.high) / 2
    return out


def test_lookup_follows_the_mro_and_class_names():
    class MyLGBM(LGBMClassifier):
        pass

    assert set(get_search_space(MyLGBM())) == set(get_search_space(LGBMClassifier()))

    class FocalLGBMClassifier:  # a class of that *name* gets the registered space
        def get_params(self, deep=True):
            return {}

        def fit(self, X, y):
            return self

    assert "focal_gamma" in get_search_space(FocalLGBMClassifier())


def test_routed_parameters_that_set_params_takes_are_valid():
    from sklearn_recsys.neural import NeuralClassifier

    est = NeuralClassifier()
    assert "optimizer__weight_decay" not in est.get_params(deep=True)
    space = {"optimizer__weight_decay": FloatDistribution(1e-6, 1e-3, log=True)}
    assert resolve_space(est, space) == space
    pipe = Pipeline([("clf", est)])
    assert list(resolve_space(pipe, {"clf": space})) == ["clf__optimizer__weight_decay"]
    with pytest.raises(ValueError, match="'nonsense__lr', which is not a parameter"):
        resolve_space(est, {"nonsense__lr": FloatDistribution(0.1, 1.0)})


def test_pipeline_spaces_are_prefixed_by_step_names():
    pipe = Pipeline(
        [("scale", StandardScaler()), ("smote", SMOTE()), ("clf", LogisticRegression())]
    )
    space = get_search_space(pipe)
    assert set(space) == {
        "smote__k_neighbors",
        "smote__sampling_strategy",
        "clf__C",
        "clf__class_weight",
    }
    assert set(get_search_space(pipe, steps=["smote"])) == {
        "smote__k_neighbors",
        "smote__sampling_strategy",
    }
    with pytest.raises(ValueError, match=r"steps \['lgbm'\] are not steps"):
        get_search_space(pipe, steps=["lgbm"])


def test_meta_estimators_expose_nested_spaces():
    space = get_search_space(CalibratedClassifierCV(LogisticRegression()))
    assert set(space) == {"estimator__C", "estimator__class_weight"}


def test_register_search_space():
    class Tiny:
        def get_params(self, deep=True):
            return {"alpha": 1.0}

        def fit(self, X, y):
            return self

    try:
        register_search_space(Tiny, {"alpha": FloatDistribution(0.1, 1.0)})
        assert list(get_search_space(Tiny())) == ["alpha"]
        with pytest.raises(ValueError, match="already registered"):
            register_search_space("Tiny", {})

        @register_search_space("Tiny", replace=True)
        def factory(est):
            return {"alpha": FloatDistribution(0.5, 2.0)}

        assert get_search_space(Tiny())["alpha"].high == 2.0
        with pytest.raises(TypeError, match="dict or a callable"):
            register_search_space("Other", 3)
    finally:
        _spaces.SEARCH_SPACES.pop("Tiny", None)


def test_user_space_by_step_name():
    pipe = Pipeline([("smote", SMOTE()), ("clf", LogisticRegression())])
    space = resolve_space(
        pipe,
        {
            "smote": "default",
            "clf": {"C": FloatDistribution(0.1, 1.0)},
            "clf__penalty": ["l2", None],
        },
    )
    assert set(space) == {
        "smote__k_neighbors",
        "smote__sampling_strategy",
        "clf__C",
        "clf__penalty",
    }
    assert space["clf__penalty"] == CategoricalDistribution(["l2", None])
    with pytest.raises(ValueError, match="'clf__CC', which is not a parameter"):
        resolve_space(pipe, {"clf__CC": FloatDistribution(0.1, 1.0)})
    with pytest.raises(ValueError, match=r"\['clf'\]\['CC'\]|'CC', which is not"):
        resolve_space(pipe, {"clf": {"CC": FloatDistribution(0.1, 1.0)}})
    with pytest.raises(ValueError, match="'default' but no search space"):
        resolve_space(
            Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]),
            {"scale": "default"},
        )


def test_step_choice_conditional_names_round_trip():
    pipe = Pipeline([("sampler", "passthrough"), ("clf", LogisticRegression())])
    choice = StepChoice({"none": "passthrough", "smote": SMOTE(), "adasyn": ADASYN()})
    space = resolve_space(pipe, {"sampler": choice})
    params = suggest_params(
        FixedTrial(
            {
                "sampler": "smote",
                "sampler[smote]__k_neighbors": 4,
                "sampler[smote]__sampling_strategy": 0.5,
            }
        ),
        space,
    )
    assert isinstance(params["sampler"], SMOTE) and params["sampler"] is not choice.options["smote"]
    assert params["sampler__k_neighbors"] == 4
    pipe.set_params(**params)
    assert pipe.named_steps["sampler"].k_neighbors == 4
    none = suggest_params(FixedTrial({"sampler": "none"}), space)
    assert none == {"sampler": "passthrough"}
    with pytest.raises(ValueError, match="next to StepChoice"):
        resolve_space(pipe, {"sampler": choice, "sampler__k_neighbors": [3]})


def test_step_choice_validation():
    with pytest.raises(ValueError, match="non-empty dict"):
        StepChoice({})
    with pytest.raises(TypeError, match="must be an estimator"):
        StepChoice({"a": 3})
    with pytest.raises(ValueError, match="unknown options"):
        StepChoice({"a": SMOTE()}, spaces={"b": {}})
    choice = StepChoice({"a": SMOTE()}, spaces={"a": {"k_nbrs": [3]}})
    with pytest.raises(ValueError, match="'k_nbrs', which is not a parameter of SMOTE"):
        choice.space_for("a")


def test_strategy_choices():
    samplers = sampler_choice(("none", "smote", "under"), random_state=3)
    assert samplers.labels == ["none", "smote", "under"]
    assert isinstance(samplers.options["under"], RandomUnderSampler)
    assert samplers.options["smote"].random_state == 3
    with pytest.raises(ValueError, match="unknown sampler options"):
        sampler_choice(("smote", "magic"))
    try:
        from sklearn_recsys.sampling import IdPreservingSampler
    except ImportError:
        IdPreservingSampler = None
    if IdPreservingSampler is not None:
        wrapped = sampler_choice(("smote",), id_preserving=True)
        assert isinstance(wrapped.options["smote"], IdPreservingSampler)
        assert set(wrapped.space_for("smote")) == {
            "sampler__k_neighbors",
            "sampler__sampling_strategy",
        }
    losses = classifier_choice(("logloss",), random_state=0)
    assert isinstance(losses.options["logloss"], LGBMClassifier)
    with pytest.raises(ValueError, match="unknown classifier options"):
        classifier_choice(("hinge",))


def test_loss_choice_is_a_deprecated_alias_of_classifier_choice():
    with pytest.warns(FutureWarning, match="use classifier_choice"):
        old = loss_choice(("logloss", "focal"), random_state=3)
    new = classifier_choice(("logloss", "focal"), random_state=3)
    assert old.labels == new.labels
    assert repr(old) == repr(new)
    assert old.options["logloss"].get_params() == new.options["logloss"].get_params()
