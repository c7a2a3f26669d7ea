"""Feature transformers over the interaction frame.

``BehaviorHistoryFeaturizer`` (point-in-time behaviour history from an event log);
``InteractionFeaturizer`` (popularity, activity, out-of-fold target rates, latent factors, side
tables); ``LabelHistoryFeaturizer`` (point-in-time rates of each user's earlier labels);
``PretrainedTextEncoder`` (item text -> sentence embeddings, needs the ``[text]`` extra only when
fitted) and ``ContentAffinity`` (user profile vs item vector).
``check_label_leakage`` warns about feature columns that reproduce the label.
"""

from ._affinity import ContentAffinity
from ._behavior import BehaviorHistoryFeaturizer
from ._interaction import InteractionFeaturizer
from ._label_history import LabelHistoryFeaturizer
from ._leakage import LabelLeakageWarning, check_label_leakage
from ._text import PretrainedTextEncoder

__all__ = [
    "BehaviorHistoryFeaturizer",
    "ContentAffinity",
    "InteractionFeaturizer",
    "LabelHistoryFeaturizer",
    "LabelLeakageWarning",
    "PretrainedTextEncoder",
    "check_label_leakage",
]
