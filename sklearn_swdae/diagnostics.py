"""Generalization diagnostics of the weight matrices (section 5.5 of the paper).

The paper explains SW-DAE's better generalization by the spectral norm and
the stable rank ``srank(W) = ||W||_F^2 / ||W||_2^2`` of its weight matrices,
through the bound of Neyshabur et al. (ICLR 2018, Theorem 1) on the
generalization error of an L-layer network:

    O( sqrt( prod_j ||W_j||_2^2 * sum_j srank(W_j) / n ) ).

The functions here compute these quantities from the *effective* weights of
a model (a masked layer's weights times its mask), and
:class:`WeightDiagnostics` records them after every training epoch into the
engine's history, hence into the estimator's ``history_``.  Nothing is
computed unless the callback is given.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_is_fitted

from .layers import MaskedLinear
from .training import Callback

__all__ = [
    "spectral_norm",
    "stable_rank",
    "weight_matrices",
    "generalization_bound",
    "weight_diagnostics",
    "WeightDiagnostics",
]

_PARTS = ("encoder", "decoder", "all")


def _as_matrix(W):
    """A 2-D float64 CPU tensor of W (array-like, sparse, tensor or MaskedLinear)."""
    if isinstance(W, MaskedLinear):
        W = W.effective_weight()
    if isinstance(W, torch.Tensor):
        W = W.detach().to("cpu", torch.float64)
    elif sp.issparse(W):
        W = torch.from_numpy(W.toarray().astype(np.float64))
    else:
        W = torch.from_numpy(np.asarray(W, dtype=np.float64))
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D matrix, got an array of shape {tuple(W.shape)}.")
    return W


def spectral_norm(W):
    """Largest singular value ||W||_2 of a matrix.

    Parameters
    ----------
    W : array-like, sparse matrix, torch.Tensor or MaskedLinear of shape (n_out, n_in)
        For a :class:`~sklearn_swdae.layers.MaskedLinear`, its effective
        (masked) weights.

    Returns
    -------
    norm : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.diagnostics import spectral_norm
    >>> spectral_norm(np.diag([3.0, 1.0]))
    3.0
    """
    W = _as_matrix(W)
    if W.numel() == 0:
        return 0.0
    return float(torch.linalg.matrix_norm(W, ord=2))


def stable_rank(W):
    """Stable rank ||W||_F^2 / ||W||_2^2, between 1 and rank(W).

    Parameters
    ----------
    W : array-like, sparse matrix, torch.Tensor or MaskedLinear of shape (n_out, n_in)

    Returns
    -------
    srank : float
        0.0 for the zero matrix (whose rank is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.diagnostics import stable_rank
    >>> stable_rank(np.eye(4)), round(stable_rank(np.diag([2.0, 1.0])), 6)
    (4.0, 1.25)
    """
    W = _as_matrix(W)
    top = spectral_norm(W)
    if top == 0.0:
        return 0.0
    return float(torch.linalg.matrix_norm(W, ord="fro")) ** 2 / top**2


def _module_of(model_or_module):
    if isinstance(model_or_module, torch.nn.Module):
        return model_or_module
    check_is_fitted(model_or_module)
    module = getattr(model_or_module, "module_", None)
    if not isinstance(module, torch.nn.Module):
        raise ValueError(
            f"{type(model_or_module).__name__} has no torch module (module_): weight diagnostics "
            "need an autoencoder recommender or a torch.nn.Module."
        )
    return module


def weight_matrices(model_or_module, part="all"):
    """The effective weight matrices of a model, input side first.

    Layers whose name starts with ``"encoder"`` form the encoder (the
    encoders of :class:`~sklearn_swdae.layers.DenoisingAutoencoder`,
    :class:`~sklearn_swdae.layers.StackedDenoisingAutoencoder` and
    :class:`~sklearn_swdae.layers.VariationalAutoencoder`), those starting
    with ``"decoder"`` the decoder.  The decoder's layers are listed from
    the code to the output.

    Parameters
    ----------
    model_or_module : fitted autoencoder recommender or torch.nn.Module
    part : {"encoder", "decoder", "all"}, default="all"
        Which half; ``"all"`` is the encoder followed by the decoder.

    Returns
    -------
    weights : list of (str, torch.Tensor)
        Layer names and their masked weights (float64, on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.layers import DenoisingAutoencoder
    >>> from sklearn_swdae.diagnostics import weight_matrices
    >>> module = DenoisingAutoencoder(6, 4, None, "sigmoid", 0.5, 0.2, np.random.RandomState(0))
    >>> [(name, tuple(W.shape)) for name, W in weight_matrices(module)]
    [('encoder', (4, 6)), ('decoder', (6, 4))]
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {_PARTS}, got {part!r}.")
    module = _module_of(model_or_module)
    halves = {"encoder": [], "decoder": []}
    for name, layer in module.named_modules():
        if isinstance(layer, MaskedLinear):
            for half in halves:
                if name.startswith(half):
                    halves[half].append((name, _as_matrix(layer)))
    # A stacked decoder's layers are numbered by level; the signal runs from
    # the deepest level back to the output.
    if len(halves["decoder"]) > 1 and all(n.startswith("decoders.") for n, _ in halves["decoder"]):
        halves["decoder"].reverse()
    weights = halves["encoder"] + halves["decoder"] if part == "all" else halves[part]
    if not weights:
        raise ValueError(
            f"{type(module).__name__} has no MaskedLinear layer named '{part}*': cannot compute weight diagnostics."
        )
    return weights


def _bound(spectral_norms, stable_ranks, n_samples):
    product = math.prod(norm**2 for norm in spectral_norms)
    return math.sqrt(product * sum(stable_ranks) / n_samples)


def _check_n_samples(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
    return int(n_samples)


def generalization_bound(model_or_module, n_samples, *, part="all"):
    """sqrt(prod_j ||W_j||_2^2 * sum_j srank(W_j) / n), the bound of section 5.5.

    The generalization error of the network is O(this value) (Neyshabur et
    al., 2018, Theorem 1, as used by the paper); the constant and the
    logarithmic factors are left out, so compare values between models of the
    same data, as the paper's Figure 4 (b) does.

    Parameters
    ----------
    model_or_module : fitted autoencoder recommender or torch.nn.Module
    n_samples : int
        n, the number of training users.
    part : {"encoder", "decoder", "all"}, default="all"
        The layers j of the product and the sum (see :func:`weight_matrices`).

    Returns
    -------
    bound : float

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import MaskedLinear
    >>> from sklearn_swdae.diagnostics import generalization_bound
    >>> module = torch.nn.Module()
    >>> module.encoder = MaskedLinear(2 * np.eye(3))
    >>> round(generalization_bound(module, 12, part="encoder"), 6)  # sqrt(4 * 3 / 12)
    1.0
    """
    n_samples = _check_n_samples(n_samples)
    weights = [W for _, W in weight_matrices(model_or_module, part)]
    return _bound([spectral_norm(W) for W in weights], [stable_rank(W) for W in weights], n_samples)


def weight_diagnostics(model_or_module, n_samples=None):
    """Spectral norms, stable ranks and bounds of the encoder and decoder.

    Parameters
    ----------
    model_or_module : fitted autoencoder recommender or torch.nn.Module
    n_samples : int or None, default=None
        n of the bound; None reports the bound for n = 1, i.e. without its
        constant 1 / sqrt(n) factor.

    Returns
    -------
    diagnostics : dict of str to float
        For ``part`` in ("encoder", "decoder"): ``{part}_spectral_norm``
        (the product of the spectral norms of the part's layers: the norm
        itself for one layer), ``{part}_stable_rank`` (the sum of their
        stable ranks) and ``{part}_bound``; and ``bound``, the bound of the
        whole network (all layers).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.layers import DenoisingAutoencoder
    >>> from sklearn_swdae.diagnostics import weight_diagnostics
    >>> rng = np.random.RandomState(0)
    >>> module = DenoisingAutoencoder(6, 4, None, "sigmoid", 0.5, 0.2, rng)
    >>> sorted(weight_diagnostics(module, n_samples=100))  # doctest: +NORMALIZE_WHITESPACE
    ['bound', 'decoder_bound', 'decoder_spectral_norm', 'decoder_stable_rank',
     'encoder_bound', 'encoder_spectral_norm', 'encoder_stable_rank']
    """
    n = 1 if n_samples is None else _check_n_samples(n_samples)
    out, all_norms, all_ranks = {}, [], []
    for part in ("encoder", "decoder"):
        weights = [W for _, W in weight_matrices(model_or_module, part)]
        norms = [spectral_norm(W) for W in weights]
        ranks = [stable_rank(W) for W in weights]
        out[f"{part}_spectral_norm"] = math.prod(norms)
        out[f"{part}_stable_rank"] = sum(ranks)
        out[f"{part}_bound"] = _bound(norms, ranks, n)
        all_norms += norms
        all_ranks += ranks
    out["bound"] = _bound(all_norms, all_ranks, n)
    return out


class WeightDiagnostics(Callback):
    """Record the weight diagnostics of every epoch into the training history.

    After each epoch, the values of :func:`weight_diagnostics` for the
    module being trained are added to the epoch's history record, so they
    appear in the estimator's ``history_`` (the paper's Figure 4 (a) and
    (b)).  They are computed on the CPU from the masked weights; one exact
    spectral norm per layer per epoch.

    Parameters
    ----------
    n_samples : int or None, default=None
        n of the bound, e.g. the number of training users; None reports the
        bound without its 1 / sqrt(n) factor.

    Examples
    --------
    >>> from sklearn_swdae import FCDAERecommender
    >>> from sklearn_swdae.datasets import make_interactions
    >>> from sklearn_swdae.diagnostics import WeightDiagnostics
    >>> X, _ = make_interactions(200, 40, 4, density=0.1, random_state=0)
    >>> model = FCDAERecommender(
    ...     n_hidden=8, max_iter=2, callbacks=[WeightDiagnostics(n_samples=180)], device="cpu"
    ... ).fit(X)
    >>> "encoder_spectral_norm" in model.history_[-1], len(model.history_)
    (True, 2)
    """

    def __init__(self, n_samples=None):
        self.n_samples = n_samples

    def on_epoch_end(self, engine, record):
        record.update(weight_diagnostics(engine.module, self.n_samples))
