"""Feature transformers over the interaction frame."""

from ._interaction import InteractionFeaturizer

__all__ = ["InteractionFeaturizer"]
