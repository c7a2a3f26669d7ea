"""Conditional GAN over-sampling (WGAN-GP by default) as an imbalanced-learn over-sampler."""

from __future__ import annotations

import logging
import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..utils import derive_seed, frame_input_tags, seeded_torch, torch_threads
from ._columns import _TableCodec, check_sampler_X_y, concat_rows, nearest_rows, resolve_ids
from ._deprecation import DEPRECATED, DEPRECATED_OPTION, renamed_attribute, renamed_param

__all__ = ["GANOverSampler"]

logger = logging.getLogger(__name__)

#: |loss| above this (or a NaN) stops training: a WGAN-GP critic stays far below it.
DIVERGENCE_LIMIT = 1e6
#: temperature of the Gumbel-softmax outputs during training.
GUMBEL_TAU = 0.2
#: hidden width of the auxiliary classifier (``class_loss_weight > 0``).
CLASSIFIER_WIDTH = 64
#: rows generated per forward pass when sampling.
SAMPLE_CHUNK = 16_384


def _mlp(sizes, *, norm, activation):
    layers = []
    for d_in, d_out in zip(sizes[:-2], sizes[1:-1]):
        layers.append(nn.Linear(d_in, d_out))
        if norm:
            layers.append(nn.LayerNorm(d_out))
        layers.append(activation())
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _Generator(nn.Module):
    """MLP from (noise, class one-hot) to the encoded row; discrete blocks as logits."""

    def __init__(self, noise_dim, n_classes, dims, width, n_continuous, size_groups):
        super().__init__()
        self.net = _mlp([noise_dim + n_classes, *dims, width], norm=True, activation=nn.ReLU)
        self.n_continuous = n_continuous
        self.size_groups = size_groups

    def forward(self, noise, cond, *, hard=False):
        out = self.net(torch.cat([noise, cond], dim=1))
        if not self.size_groups:
            return out
        parts = [out[:, : self.n_continuous]]
        for start, m, size in self.size_groups:
            logits = out[:, start : start + m * size].reshape(-1, m, size)
            if hard:  # exact categorical draw (Gumbel-max), one-hot
                u = torch.rand_like(logits).clamp_(1e-10, 1.0 - 1e-7)
                codes = (logits - torch.log(-torch.log(u))).argmax(dim=-1)
                probs = F.one_hot(codes, size).to(logits.dtype)
            else:
                probs = F.gumbel_softmax(logits, tau=GUMBEL_TAU, hard=False, dim=-1)
            parts.append(probs.reshape(-1, m * size))
        return torch.cat(parts, dim=1)


class _Critic(nn.Module):
    """MLP critic over packs of ``pac`` rows of one class (PacGAN), with the class one-hot."""

    def __init__(self, width, n_classes, dims, pac):
        super().__init__()
        self.pac = pac
        self.net = _mlp(
            [pac * width + n_classes, *dims, 1],
            norm=False,
            activation=lambda: nn.LeakyReLU(0.2),
        )

    def forward(self, x, cond):
        """``x``: (n_packs * pac, width) rows; ``cond``: (n_packs, n_classes), one per pack."""
        packed = x.reshape(cond.shape[0], -1)
        return self.net(torch.cat([packed, cond], dim=1)).squeeze(1)


def _check_dims(value, name):
    dims = tuple(value)
    if not dims or any(
        isinstance(d, bool) or not isinstance(d, (Integral,)) or d < 1 for d in dims
    ):
        raise ValueError(
            f"{name} must be a non-empty sequence of positive layer widths; got {value!r}."
        )
    return tuple(int(d) for d in dims)


class GANOverSampler(BaseOverSampler):
    """Over-sample with a class-conditional GAN (WGAN-GP by default).

    One generator is trained for all classes, conditioned on the label, so that a rare class
    borrows the structure it shares with the frequent ones; then it draws exactly the number of
    rows of each class that ``sampling_strategy`` asks for. Columns of an interaction frame are
    handled by kind (DESIGN.md section 2):

    - **continuous** (numeric) columns go through a reversible transform (quantile-to-normal or
      standard scaling) and come back clipped to the observed range, integer columns rounded;
    - **discrete** columns (category / object / bool columns with at most
      ``max_discrete_levels`` levels and numeric 0/1 flags) are generated as one-hot blocks
      through Gumbel-softmax outputs, and drawn exactly from the generator's softmax at sampling;
    - **copied** columns (the ``user_col`` / ``item_col`` ids and the ``copy_cols``) are copied
      from the nearest real row of the same class in the generated space, so ids stay valid ids
      (an id column is never generated, whatever its name).

    The real rows come first in the output, unchanged, followed by the synthetic ones.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        As in :class:`imblearn.over_sampling.SMOTE`: the number of rows each class has after
        resampling (``"auto"``: every class as large as the majority class).
    random_state : int, RandomState instance or None, default=None
        Seeds the numpy draws and, inside :func:`torch.random.fork_rng`, torch (so the global
        torch seed is left as it was). The same seed gives the same rows on the same machine.
    max_epochs : int, default=100
        Passes over the data. One epoch is ``max(1, n_samples // batch_size)`` generator
        updates, each after ``critic_steps`` critic updates (CTGAN's definition).
    batch_size : int, default=500
        Rows per update.
    generator_dims : tuple of int, default=(256, 256)
        Hidden layer widths of the generator (Linear, LayerNorm, ReLU).
    critic_dims : tuple of int, default=(256, 256)
        Hidden layer widths of the critic (Linear, LeakyReLU).
    noise_dim : int, default=64
        Size of the generator's Gaussian noise input.
    generator_lr, critic_lr : float, default=1e-3
        Adam learning rates (betas 0.5, 0.9); the critic's rate also drives the auxiliary
        classifier.
    critic_steps : int, default=3
        Critic updates per generator update. Three (WGAN-GP's paper uses five) halve the
        per-column KS distance of the generated rows to the real ones after the same number of
        generator updates, at about 1.5x the time of one (figures in ``docs/sampling.md``).
    pac : int, default=10
        The critic scores packs of ``pac`` rows (PacGAN), which discourages mode collapse and
        makes the critic ``pac`` times cheaper; ``batch_size`` must be a multiple of it.
    gp_weight : float, default=10.0
        Weight of the gradient penalty (``loss="wgan-gp"`` only).
    class_loss_weight : float, default=1.0
        Weight of the conditioning loss: an auxiliary classifier (one hidden layer of 64) is
        trained on the real rows, and the generator pays the cross-entropy of its class-``c``
        rows not being read as class ``c`` (as CTGAN's conditional loss, or AC-GAN). 0 turns
        it off and leaves the conditioning to the critic alone.
    loss : {"wgan-gp", "gan"}, default="wgan-gp"
        Wasserstein loss with gradient penalty, or the plain (non-saturating) GAN loss.
    numeric_transform : {"quantile", "standard"}, default="quantile"
        Reversible transform of the continuous columns: quantiles to a standard normal
        (robust to heavy tails such as prices and counts) or standard scaling.
    user_col, item_col : str, int or None, default="user_id", "item_id"
        Id columns, copied from the nearest real row: a column name of a DataFrame ``X`` (which
        must have it), a column position, or ``None`` for no such column. Names address nothing
        in an array (it has none): there, give positions.
    discrete_cols : "auto", list or None, default="auto"
        Columns generated through Gumbel-softmax. ``"auto"``: non-numeric columns that are not
        copied, and numeric columns that only hold 0 and 1. Positions when X is an array.
    copy_cols : "auto", list or None, default="auto"
        Columns other than the ids copied from the nearest real row of the same class.
        ``"auto"``: non-numeric columns with more than ``max_discrete_levels`` levels. List
        any other (e.g. categorical) column to copy it. Positions when X is an array.
    max_discrete_levels : int, default=50
        Limit used by the ``"auto"`` rules above.
    device : str, default="cpu"
        Torch device for training and sampling (e.g. ``"cuda"``).
    n_jobs : int or None, default=1
        Torch CPU threads while fitting, restored afterwards, with scikit-learn's meaning as
        everywhere in the package (None is 1, -1 all cores; see
        :func:`sklearn_recsys.utils.effective_n_threads`). One thread is the fastest for the
        default network sizes and does not fight other processes for the cores; raise it for
        large networks and batches.
    verbose : int, default=0
        If > 0, a tqdm progress bar over the epochs with the current losses.
    epochs, discrete_columns, neighbor_columns : deprecated
        Old names of ``max_epochs``, ``discrete_cols`` and ``copy_cols`` (removed in 0.2).

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of rows to generate for each class.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``critic_loss``, ``generator_loss``,
        ``gradient_penalty`` (means over the epoch's updates).
    generator_ : torch.nn.Module
        The trained generator (on CPU).
    critic_ : torch.nn.Module
        The trained critic (on CPU).
    continuous_cols_, discrete_cols_ : list
        The generated columns of each kind (names, or positions when X is an array).
    copied_cols_ : list
        The copied columns: the id columns, then the ``copy_cols``.
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features_in_,)
        Number of columns of X, and their names when they are strings.

    See Also
    --------
    imblearn.over_sampling.SMOTE : Interpolation between minority neighbours.
    IdPreservingSampler : Keeps the id columns valid around any imbalanced-learn sampler.
    synthetic_quality : How close synthetic rows are to real ones.

    Notes
    -----
    With critic :math:`D`, generator :math:`G`, class one-hot :math:`c`, real rows :math:`x`,
    noise :math:`z` and :math:`\\hat x = \\epsilon x + (1 - \\epsilon) G(z, c)`,
    :math:`\\epsilon \\sim U(0, 1)`, the WGAN-GP losses are

    .. math::

        L_D = E[D(G(z, c), c)] - E[D(x, c)]
              + \\lambda E[(\\lVert \\nabla_{\\hat x} D(\\hat x, c) \\rVert_2 - 1)^2],
        \\qquad L_G = -E[D(G(z, c), c)].

    Training batches draw a class with probability proportional to :math:`\\log(1 + n_c)` and
    then a row of that class, so rare classes are seen often without being memorised. A NaN
    loss, or one above ``1e6`` in absolute value, stops training with an error naming the epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_recsys.sampling import GANOverSampler
    >>> X, y = make_classification(n_samples=500, weights=[0.9], random_state=0)
    >>> sampler = GANOverSampler(user_col=None, item_col=None, max_epochs=2, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y), np.bincount(y_res)
    (array([450,  50]), array([450, 450]))
    >>> len(sampler.history_)
    2
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "generator_dims": [tuple, list],
        "critic_dims": [tuple, list],
        "noise_dim": [Interval(Integral, 1, None, closed="left")],
        "generator_lr": [Interval(Real, 0, None, closed="neither")],
        "critic_lr": [Interval(Real, 0, None, closed="neither")],
        "critic_steps": [Interval(Integral, 1, None, closed="left")],
        "pac": [Interval(Integral, 1, None, closed="left")],
        "gp_weight": [Interval(Real, 0, None, closed="left")],
        "class_loss_weight": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions({"wgan-gp", "gan"})],
        "numeric_transform": [StrOptions({"quantile", "standard"})],
        "user_col": [str, Integral, None],
        "item_col": [str, Integral, None],
        "discrete_cols": [StrOptions({"auto"}), list, tuple, None],
        "copy_cols": [StrOptions({"auto"}), list, tuple, None],
        "max_discrete_levels": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "epochs": [Interval(Integral, 1, None, closed="left"), DEPRECATED_OPTION],
        "discrete_columns": [StrOptions({"auto"}), list, tuple, None, DEPRECATED_OPTION],
        "neighbor_columns": [StrOptions({"auto"}), list, tuple, None, DEPRECATED_OPTION],
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        max_epochs=100,
        batch_size=500,
        generator_dims=(256, 256),
        critic_dims=(256, 256),
        noise_dim=64,
        generator_lr=1e-3,
        critic_lr=1e-3,
        critic_steps=3,
        pac=10,
        gp_weight=10.0,
        class_loss_weight=1.0,
        loss="wgan-gp",
        numeric_transform="quantile",
        user_col="user_id",
        item_col="item_id",
        discrete_cols="auto",
        copy_cols="auto",
        max_discrete_levels=50,
        device="cpu",
        n_jobs=1,
        verbose=0,
        epochs=DEPRECATED,
        discrete_columns=DEPRECATED,
        neighbor_columns=DEPRECATED,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.generator_dims = generator_dims
        self.critic_dims = critic_dims
        self.noise_dim = noise_dim
        self.generator_lr = generator_lr
        self.critic_lr = critic_lr
        self.critic_steps = critic_steps
        self.pac = pac
        self.gp_weight = gp_weight
        self.class_loss_weight = class_loss_weight
        self.loss = loss
        self.numeric_transform = numeric_transform
        self.user_col = user_col
        self.item_col = item_col
        self.discrete_cols = discrete_cols
        self.copy_cols = copy_cols
        self.max_discrete_levels = max_discrete_levels
        self.device = device
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.epochs = epochs
        self.discrete_columns = discrete_columns
        self.neighbor_columns = neighbor_columns

    # -------------------------------------------------------------------- input
    def _check_X_y(self, X, y, accept_sparse=None):
        X, y, binarize_y = check_sampler_X_y(self, X, y, accept_sparse=False, dtype=None)
        ids = resolve_ids(X, user_col=self.user_col, item_col=self.item_col)
        self._max_epochs = renamed_param(self, "epochs", "max_epochs")
        self._columns = {
            "id_cols": list(ids.values()),
            "copy_cols": renamed_param(self, "neighbor_columns", "copy_cols"),
            "discrete_cols": renamed_param(self, "discrete_columns", "discrete_cols"),
        }
        return X, y, binarize_y

    def __sklearn_tags__(self):
        tags = frame_input_tags(super().__sklearn_tags__(), sparse=False)
        tags.non_deterministic = False
        return tags

    # fitted attributes' old names
    continuous_columns_ = renamed_attribute("continuous_columns_", "continuous_cols_")
    discrete_columns_ = renamed_attribute("discrete_columns_", "discrete_cols_")
    neighbor_columns_ = renamed_attribute("neighbor_columns_", "copied_cols_")

    # -------------------------------------------------------------------- fit
    def _fit_resample(self, X, y):
        generator_dims = _check_dims(self.generator_dims, "generator_dims")
        critic_dims = _check_dims(self.critic_dims, "critic_dims")
        device = torch.device(self.device)
        rng = check_random_state(self.random_state)
        seed = derive_seed(rng)

        codec = _TableCodec(
            **self._columns,
            max_discrete_levels=self.max_discrete_levels,
            numeric_transform=self.numeric_transform,
            random_state=seed,
        )
        Z = codec.fit_transform(X)
        self.continuous_cols_ = list(codec.continuous_)
        self.discrete_cols_ = list(codec.discrete_)
        self.copied_cols_ = list(codec.copied_)
        classes, y_codes = np.unique(y, return_inverse=True)

        with seeded_torch(seed, device), torch_threads(self.n_jobs):
            generator, critic = self._train(
                Z,
                y_codes,
                len(classes),
                codec,
                generator_dims,
                critic_dims,
                device,
                np.random.default_rng(seed),
            )
            X_new, y_new = self._generate(X, Z, y, y_codes, classes, codec, generator, device)
        self.generator_ = generator.to("cpu").eval()
        self.critic_ = critic.to("cpu").eval()
        return concat_rows(X, X_new), np.concatenate([y, y_new])

    def _train(self, Z, y_codes, n_classes, codec, generator_dims, critic_dims, device, np_rng):
        n, width = Z.shape
        batch = int(self.batch_size)
        generator = _Generator(
            self.noise_dim,
            n_classes,
            generator_dims,
            width,
            codec.n_continuous_,
            codec.size_groups(),
        ).to(device)
        pac = int(self.pac)
        if batch % pac:
            raise ValueError(
                f"batch_size={batch} must be a multiple of pac={pac} (the critic scores packs "
                "of pac rows)."
            )
        n_packs = batch // pac
        critic = _Critic(width, n_classes, critic_dims, pac).to(device)
        opt_g = torch.optim.Adam(generator.parameters(), lr=self.generator_lr, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(critic.parameters(), lr=self.critic_lr, betas=(0.5, 0.9))
        use_classifier = self.class_loss_weight > 0 and n_classes > 1
        if use_classifier:
            classifier = _mlp(
                [width, CLASSIFIER_WIDTH, n_classes], norm=False, activation=nn.ReLU
            ).to(device)
            opt_c = torch.optim.Adam(classifier.parameters(), lr=self.critic_lr, betas=(0.5, 0.9))
        Z_t = torch.from_numpy(Z).to(device)
        eye = torch.eye(n_classes, device=device)

        # class-stratified batches: P(class c) ~ log(1 + n_c), then a row of that class
        counts = np.bincount(y_codes, minlength=n_classes)
        p_class = np.log1p(counts) / np.log1p(counts).sum()
        order = np.argsort(y_codes, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        steps = max(1, n // batch)  # as CTGAN
        n_draws = steps * self.critic_steps * batch
        wgan = self.loss == "wgan-gp"

        self.history_ = []
        bar = tqdm(
            range(1, self._max_epochs + 1),
            desc="GANOverSampler",
            disable=not self.verbose,
            leave=False,
        )
        for epoch in bar:
            # one class per pack of `pac` rows, then `pac` rows of that class
            cls = np_rng.choice(n_classes, size=n_draws // pac, p=p_class)
            rows_cls = np.repeat(cls, pac)
            offsets = (np_rng.random(n_draws) * counts[rows_cls]).astype(np.int64)
            idx = torch.from_numpy(order[starts[rows_cls] + offsets]).to(device)
            idx = idx.view(steps, self.critic_steps, batch)
            cls_t = torch.from_numpy(cls).to(device).view(steps, self.critic_steps, n_packs)
            totals = torch.zeros(3, device=device)
            for s in range(steps):
                for k in range(self.critic_steps):
                    real = Z_t[idx[s, k]]
                    cond = eye[cls_t[s, k]]  # one row per pack
                    cond_rows = cond.repeat_interleave(pac, 0)
                    noise = torch.randn(batch, self.noise_dim, device=device)
                    if k == self.critic_steps - 1:
                        # the last critic batch's fakes are reused for the generator update
                        fake_g = generator(noise, cond_rows)
                        fake = fake_g.detach()
                    else:
                        with torch.no_grad():
                            fake = generator(noise, cond_rows)
                    if wgan:
                        eps = torch.rand(n_packs, 1, device=device).repeat_interleave(pac, 0)
                        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
                        scores = critic(torch.cat([real, fake, mixed]), cond.repeat(3, 1))
                        d_real, d_fake, d_mixed = scores.split(n_packs)
                        (grad,) = torch.autograd.grad(d_mixed.sum(), mixed, create_graph=True)
                        grad_norm = grad.reshape(n_packs, -1).norm(2, dim=1)
                        penalty = ((grad_norm - 1.0) ** 2).mean()
                        loss_d = d_fake.mean() - d_real.mean() + self.gp_weight * penalty
                    else:
                        scores = critic(torch.cat([real, fake]), cond.repeat(2, 1))
                        d_real, d_fake = scores.split(n_packs)
                        penalty = torch.zeros((), device=device)
                        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                critic.requires_grad_(False)
                d_fake = critic(fake_g, cond)
                loss_g = -d_fake.mean() if wgan else F.softplus(-d_fake).mean()
                if use_classifier:
                    # auxiliary classifier on real rows; fakes of class c must read as class c
                    labels = cls_t[s, -1].repeat_interleave(pac, 0)
                    loss_c = F.cross_entropy(classifier(real), labels)
                    opt_c.zero_grad(set_to_none=True)
                    loss_c.backward()
                    opt_c.step()
                    classifier.requires_grad_(False)
                    loss_g = loss_g + self.class_loss_weight * F.cross_entropy(
                        classifier(fake_g), labels
                    )
                    classifier.requires_grad_(True)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                critic.requires_grad_(True)
                totals += torch.stack([loss_d.detach(), loss_g.detach(), penalty.detach()])
            critic_loss, generator_loss, gp = (totals / steps).tolist()
            record = {
                "epoch": epoch,
                "critic_loss": critic_loss,
                "generator_loss": generator_loss,
                "gradient_penalty": gp,
            }
            self.history_.append(record)
            logger.debug("GANOverSampler %s", record)
            if not all(
                math.isfinite(v) and abs(v) < DIVERGENCE_LIMIT
                for v in (critic_loss, generator_loss, gp)
            ):
                raise RuntimeError(
                    f"GANOverSampler diverged at epoch {epoch} of {self._max_epochs}: critic loss "
                    f"{critic_loss}, generator loss {generator_loss}, gradient penalty {gp} "
                    f"(NaN or |loss| >= {DIVERGENCE_LIMIT:g}). No rows were generated; lower "
                    "generator_lr / critic_lr, raise gp_weight or use loss='wgan-gp'."
                )
            bar.set_postfix(critic=f"{critic_loss:.3f}", generator=f"{generator_loss:.3f}")
        return generator, critic

    def _generate(self, X, Z, y, y_codes, classes, codec, generator, device):
        n_cont = codec.n_continuous_
        pieces_X, pieces_y = [], []
        generator.eval()
        eye = torch.eye(len(classes), device=device)
        for code, klass in enumerate(classes):
            n_new = int(self.sampling_strategy_.get(klass, 0))
            if n_new == 0:
                continue
            chunks = []
            with torch.no_grad():
                for start in range(0, n_new, SAMPLE_CHUNK):
                    m = min(SAMPLE_CHUNK, n_new - start)
                    cond = eye[torch.full((m,), code, device=device)]
                    noise = torch.randn(m, self.noise_dim, device=device)
                    chunks.append(generator(noise, cond, hard=True).cpu().numpy())
            G = np.concatenate(chunks)
            if not np.all(np.isfinite(G)):
                raise RuntimeError(
                    f"GANOverSampler generated non-finite values for class {klass!r} after "
                    f"{self._max_epochs} epochs; lower the learning rates."
                )
            disc_codes = np.empty((n_new, len(codec.discrete_)), dtype=np.int64)
            for k, (start, size) in enumerate(zip(codec.block_starts_, codec.block_sizes_)):
                disc_codes[:, k] = G[:, start : start + size].argmax(axis=1)
            rows = None
            if codec.copied_:
                class_rows = np.flatnonzero(y_codes == code)
                rows = nearest_rows(Z[class_rows], G, class_rows)
            pieces_X.append(codec.decode(G[:, :n_cont], disc_codes, X, rows))
            pieces_y.append(np.full(n_new, klass, dtype=y.dtype))
        if not pieces_X:
            empty = X.iloc[:0] if isinstance(X, pd.DataFrame) else X[:0]
            return empty, y[:0]
        if isinstance(X, pd.DataFrame):
            X_new = pd.concat(pieces_X, ignore_index=True)
        else:
            X_new = np.concatenate(pieces_X)
        return X_new, np.concatenate(pieces_y)
