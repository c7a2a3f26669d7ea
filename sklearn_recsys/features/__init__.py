"""Feature transformers over the interaction frame.

``InteractionFeaturizer`` (popularity, activity, out-of-fold target rates, latent factors, side
tables); ``PretrainedTextEncoder`` (item text -> sentence embeddings, needs the ``[text]`` extra
only when fitted) and ``ContentAffinity`` (user profile vs item vector).
"""

from ._affinity import ContentAffinity
from ._interaction import InteractionFeaturizer
from ._text import PretrainedTextEncoder

__all__ = ["ContentAffinity", "InteractionFeaturizer", "PretrainedTextEncoder"]
