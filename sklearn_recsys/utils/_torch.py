"""Seeded torch training without touching the global RNG state."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def seeded_torch(seed, device="cpu"):
    """Seed torch's default generator(s) inside a fork of the RNG state.

    The caller's global RNG state is restored on exit, so training is reproducible under
    ``random_state`` without seeding anything globally (module initialisation, dropout,
    shuffling and the balanced sampler all draw from the forked generator).

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.utils import seeded_torch
    >>> with seeded_torch(0):
    ...     a = torch.rand(2)
    >>> with seeded_torch(0):
    ...     b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    import torch

    device = torch.device(device)
    cuda = device.type == "cuda"
    devices = (
        [device.index if device.index is not None else torch.cuda.current_device()]
        if (cuda)
        else []
    )
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        yield
