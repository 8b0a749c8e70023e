"""Torch building blocks: masked linear layers and the denoising autoencoder."""

import math

import numpy as np
import torch
from torch import nn

__all__ = [
    "MaskedLinear",
    "DenoisingAutoencoder",
    "VariationalAutoencoder",
    "count_flops",
    "count_parameters",
    "l2_normalize_rows",
    "sparse_dropout",
]

_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def sparse_dropout(x, p, generator):
    """Inverted dropout on the stored values of a sparse COO tensor.

    Dropping a stored 1 is the denoising corruption of the paper; zeros
    cannot be dropped, so only the non-zeros are touched and the batch never
    becomes dense.

    Parameters
    ----------
    x : torch sparse COO tensor
        A coalesced batch of histories.
    p : float
        Probability of dropping each stored value.
    generator : torch.Generator
        Source of the random mask.

    Returns
    -------
    x_dropped : torch sparse COO tensor
        Kept values scaled by 1 / (1 - p).

    Examples
    --------
    >>> import torch
    >>> from sklearn_swdae.layers import sparse_dropout
    >>> x = torch.ones(2, 3).to_sparse().coalesce()
    >>> dropped = sparse_dropout(x, 0.5, torch.Generator().manual_seed(0))
    >>> sorted(set(dropped.values().tolist()) - {0.0})
    [2.0]
    """
    if p == 0.0:
        return x
    values = x.values()
    keep = torch.rand(values.shape, generator=generator, device=values.device) >= p
    return torch.sparse_coo_tensor(
        x.indices(), values * keep / (1.0 - p), x.shape, is_coalesced=True, check_invariants=False
    )


def l2_normalize_rows(x, eps=1e-12):
    """Scale every row (user) of a batch to unit L2 norm.

    Liang et al. (2018) normalize each history this way before the input
    dropout of Mult-DAE and Mult-VAE.  Rows of zeros stay zero.

    Parameters
    ----------
    x : torch sparse COO tensor (coalesced) or dense tensor of shape (batch, n_items)
        A batch of histories.
    eps : float, default=1e-12
        Lower bound of the squared norm, as in ``tf.nn.l2_normalize``.

    Returns
    -------
    x_normalized : tensor of the same layout and shape as x

    Examples
    --------
    >>> import torch
    >>> from sklearn_swdae.layers import l2_normalize_rows
    >>> x = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]]).to_sparse()
    >>> l2_normalize_rows(x).to_dense().tolist()
    [[0.5, 0.5, 0.5, 0.5], [0.0, 1.0, 0.0, 0.0]]
    """
    if not x.is_sparse:
        return x / x.pow(2).sum(dim=1, keepdim=True).clamp_min(eps).sqrt()
    values, rows = x.values(), x.indices()[0]
    squared = torch.zeros(x.shape[0], dtype=values.dtype, device=values.device)
    squared.index_add_(0, rows, values * values)
    norms = squared.clamp_min(eps).sqrt()
    return torch.sparse_coo_tensor(
        x.indices(), values / norms[rows], x.shape, is_coalesced=True, check_invariants=False
    )


def dense_dropout(h, p, generator):
    """Inverted dropout with an explicit generator (reproducible, no global seed)."""
    if p == 0.0:
        return h
    keep = torch.rand(h.shape, generator=generator, device=h.device) >= p
    return h * keep / (1.0 - p)


class MaskedLinear(nn.Module):
    """y = x (W o M)^T + b: a linear layer whose connectivity is a fixed mask.

    ``weight`` has shape (out_features, in_features) like ``nn.Linear``.  The
    forward pass multiplies by ``weight * mask``, so the gradient of every
    masked entry is exactly zero; since masked weights also start at zero,
    optimizers without a decoupled additive term (SGD, Adam, AdamW, L2 decay)
    keep them exactly zero for the whole of training.

    Parameters
    ----------
    weight : ndarray of shape (out_features, in_features)
        Initial weights (masked entries are zeroed).
    mask : array-like of bool, shape (out_features, in_features), or None, default=None
        Connectivity; None means fully connected.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import MaskedLinear
    >>> mask = np.array([[True, False, True], [False, True, False]])
    >>> MaskedLinear(np.ones((2, 3)), mask)(torch.ones(1, 3)).tolist()
    [[2.0, 1.0]]
    """

    def __init__(self, weight, mask=None):
        super().__init__()
        weight = torch.as_tensor(np.asarray(weight, dtype=np.float32))
        if mask is not None:
            mask = torch.as_tensor(mask, dtype=torch.bool)
            if mask.shape != weight.shape:
                raise ValueError(f"mask shape {tuple(mask.shape)} != weight shape {tuple(weight.shape)}")
            weight = weight * mask
            self.register_buffer("mask", mask.to(torch.float32))
        else:
            self.mask = None
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(weight.shape[0]))

    @property
    def in_features(self):
        return self.weight.shape[1]

    @property
    def out_features(self):
        return self.weight.shape[0]

    def effective_weight(self):
        return self.weight if self.mask is None else self.weight * self.mask

    def forward(self, x):
        weight = self.effective_weight()
        if x.is_sparse:
            return torch.sparse.mm(x, weight.t()) + self.bias
        return torch.addmm(self.bias, x, weight.t())


def glorot_uniform(shape, fan_in, fan_out, random_state):
    """Glorot/Xavier uniform initial weights for the given effective fans.

    For a masked layer the fans are the average numbers of live connections
    per output and per input unit, so a sparse layer starts with the same
    activation scale as a dense layer of that fan.
    """
    bound = math.sqrt(6.0 / max(fan_in + fan_out, 1.0))
    return random_state.uniform(-bound, bound, size=shape).astype(np.float32)


class DenoisingAutoencoder(nn.Module):
    """One-hidden-layer denoising autoencoder with optional masked connectivity.

    The encoder maps m items to K hidden units through ``mask``; the decoder
    uses the transposed mask (section 3.3 of the paper).  ``forward`` returns
    the decoder's logits, which rank the items.

    Parameters
    ----------
    n_items, n_hidden : int
        Numbers of items (input and output units) and hidden units.
    mask : ndarray of shape (n_hidden, n_items) of bool, or None
        Encoder connectivity; None builds a fully connected autoencoder.
    activation : str
        Hidden activation: "sigmoid", "tanh", "relu" or "identity".
    input_dropout, hidden_dropout : float
        Dropout probabilities of the input corruption and the hidden layer.
    random_state : numpy RandomState
        Draws the initial weights.
    normalize_input : bool, default=False
        Scale every input row to unit L2 norm (:func:`l2_normalize_rows`)
        before the input dropout, at training and at prediction (Mult-DAE).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import DenoisingAutoencoder
    >>> mask = np.eye(4, 6, dtype=bool) | np.eye(4, 6, k=2, dtype=bool)
    >>> rng = np.random.RandomState(0)
    >>> module = DenoisingAutoencoder(6, 4, mask, "sigmoid", 0.6, 0.2, rng).eval()
    >>> module(torch.ones(2, 6).to_sparse()).shape
    torch.Size([2, 6])
    >>> bool((module.encoder.weight[~torch.from_numpy(mask)] == 0).all())
    True
    """

    def __init__(
        self,
        n_items,
        n_hidden,
        mask,
        activation,
        input_dropout,
        hidden_dropout,
        random_state,
        normalize_input=False,
    ):
        super().__init__()
        if mask is None:
            fan_items, fan_hidden = n_items, n_hidden
            mask_t = None
        else:
            mask = np.asarray(mask, dtype=bool)
            n_live = int(mask.sum())
            fan_items = n_live / max(n_hidden, 1)  # live inputs per hidden unit
            fan_hidden = n_live / max(n_items, 1)  # live hidden units per item
            mask_t = mask.T
        self.encoder = MaskedLinear(
            glorot_uniform((n_hidden, n_items), fan_items, fan_hidden, random_state), mask
        )
        self.decoder = MaskedLinear(
            glorot_uniform((n_items, n_hidden), fan_hidden, fan_items, random_state), mask_t
        )
        self.activation = activation
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout
        self.normalize_input = normalize_input
        self.generator = None

    def encode(self, x):
        if self.normalize_input:
            x = l2_normalize_rows(x)
        if self.training:
            x = sparse_dropout(x, self.input_dropout, self.generator)
        return _ACTIVATIONS[self.activation](self.encoder(x))

    def forward(self, x):
        h = self.encode(x)
        if self.training:
            h = dense_dropout(h, self.hidden_dropout, self.generator)
        return self.decoder(h)


def _dense_layer(n_in, n_out, random_state):
    return MaskedLinear(glorot_uniform((n_out, n_in), n_in, n_out, random_state))


class VariationalAutoencoder(nn.Module):
    """Mult-VAE network of Liang et al. (2018): [n_items, H, L, H, n_items].

    The input rows are L2-normalized, then dropped out (training only); a
    hidden layer of H units feeds the mean and log-variance of an
    L-dimensional Gaussian posterior.  Training samples the latent code
    with the reparameterization trick (noise from ``generator``) and stores
    the batch's mean KL divergence to the standard normal prior in ``kl``;
    evaluation decodes the mean, so predictions are deterministic.

    Parameters
    ----------
    n_items, n_hidden, n_latent : int
        Numbers of items, hidden units (600 in the paper) and latent
        dimensions (200).
    activation : str
        Activation of the two hidden layers ("tanh" in the paper).
    input_dropout : float
        Dropout probability of the normalized input.
    random_state : numpy RandomState
        Draws the initial (Glorot uniform) weights; biases start at zero.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import VariationalAutoencoder
    >>> module = VariationalAutoencoder(6, 4, 2, "tanh", 0.5, np.random.RandomState(0)).eval()
    >>> module(torch.ones(3, 6).to_sparse()).shape
    torch.Size([3, 6])
    """

    def __init__(self, n_items, n_hidden, n_latent, activation, input_dropout, random_state):
        super().__init__()
        self.encoder_hidden = _dense_layer(n_items, n_hidden, random_state)
        self.encoder_out = _dense_layer(n_hidden, 2 * n_latent, random_state)
        self.decoder_hidden = _dense_layer(n_latent, n_hidden, random_state)
        self.decoder_out = _dense_layer(n_hidden, n_items, random_state)
        self.n_latent = n_latent
        self.activation = activation
        self.input_dropout = input_dropout
        self.generator = None
        self.kl = None

    def encode(self, x):
        """Posterior mean and log-variance of a batch of histories."""
        x = l2_normalize_rows(x)
        if self.training:
            x = sparse_dropout(x, self.input_dropout, self.generator)
        out = self.encoder_out(_ACTIVATIONS[self.activation](self.encoder_hidden(x)))
        return out[:, : self.n_latent], out[:, self.n_latent :]

    def decode(self, z):
        return self.decoder_out(_ACTIVATIONS[self.activation](self.decoder_hidden(z)))

    def forward(self, x):
        mu, logvar = self.encode(x)
        if self.training:
            std = torch.exp(0.5 * logvar)
            noise = torch.randn(mu.shape, generator=self.generator, device=mu.device, dtype=mu.dtype)
            z = mu + noise * std
            self.kl = (0.5 * (-logvar + torch.exp(logvar) + mu.pow(2) - 1.0)).sum(dim=1).mean()
        else:
            z = mu
        return self.decode(z)


def count_parameters(module):
    """Number of live trainable weights and biases of a module.

    Entries that a :class:`MaskedLinear` mask keeps at zero are not counted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.layers import MaskedLinear, count_parameters
    >>> count_parameters(MaskedLinear(np.ones((2, 3)), np.eye(2, 3, dtype=bool)))
    4
    """
    total = sum(p.numel() for p in module.parameters() if p.requires_grad)
    for layer in module.modules():
        if isinstance(layer, MaskedLinear) and layer.mask is not None:
            total -= int(layer.mask.numel() - layer.mask.sum().item())
    return int(total)


def count_flops(module):
    """Floating-point operations of one forward pass, per user.

    The convention of the paper's Table 2: every live weight of a
    :class:`MaskedLinear` layer costs one multiply and one add, so the count
    is ``2 x`` the live weights of the layers that a forward pass runs, for
    one user with a dense input.  Biases, activations, normalization and
    the sparsity of the input are not counted, and neither are weights that
    are looked up rather than multiplied (CDAE's per-user node).  For the
    one-hidden-layer autoencoders this is about twice
    :func:`count_parameters`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_swdae.layers import DenoisingAutoencoder, count_flops
    >>> mask = np.eye(4, 6, dtype=bool)
    >>> count_flops(DenoisingAutoencoder(6, 4, mask, "sigmoid", 0.0, 0.0, np.random.RandomState(0)))
    16
    """
    total = 0
    for layer in module.modules():
        if isinstance(layer, MaskedLinear):
            if layer.mask is None:
                total += layer.weight.numel()
            else:
                total += int(layer.mask.sum().item())
    return 2 * int(total)
