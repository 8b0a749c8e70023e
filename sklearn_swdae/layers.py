"""Torch building blocks: masked linear layers and the denoising autoencoder."""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ._initialization import LiveValues, glorot_live, glorot_uniform
from ._kernels import SparseWeightProduct, csr_rows, csr_structure, csr_tensor, sparse_input_product

__all__ = [
    "AutoencoderOutput",
    "LAYER_BACKENDS",
    "MaskedLinear",
    "DenoisingAutoencoder",
    "VariationalAutoencoder",
    "StackedDenoisingAutoencoder",
    "count_flops",
    "count_parameters",
    "l2_normalize_rows",
    "resolve_layer_backend",
    "sparse_dropout",
]

#: Hidden activations by name.
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


class AutoencoderOutput(NamedTuple):
    """What a forward pass gives the loss: the logits and auxiliary terms.

    ``forward_output(x)`` of every autoencoder module returns one;
    ``forward(x)`` returns its ``logits`` only (prediction).  Terms a module
    does not compute are None.

    Attributes
    ----------
    logits : torch.Tensor of shape (batch, n_items)
        The output before the softmax or sigmoid; it ranks the items.
    hidden : torch.Tensor of shape (batch, K) or None
        The innermost hidden activations, before hidden dropout (FC-reg's
        activity penalty reads them).
    kl : torch.Tensor (scalar) or None
        The batch's mean KL divergence of the posterior to the prior
        (variational models, in training).
    """

    logits: torch.Tensor
    hidden: torch.Tensor | None = None
    kl: torch.Tensor | None = None


def _draw(sampler, shape, generator, device, dtype=None):
    """``sampler(shape)`` (``torch.rand`` or ``torch.randn``) from ``generator``.

    Data-parallel training (:mod:`sklearn_swdae.distributed`) passes a
    generator with a ``draw`` method: it draws the numbers of the whole
    mini-batch and returns this process's share, so every process drops out
    exactly what a single process would.
    """
    if hasattr(generator, "draw"):
        return generator.draw(sampler, shape, device, dtype)
    return sampler(shape, generator=generator, device=device, dtype=dtype)


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
    keep = _draw(torch.rand, values.shape, generator, values.device) >= p
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
    keep = _draw(torch.rand, h.shape, generator, h.device) >= p
    return h * keep / (1.0 - p)


#: Backends of :class:`MaskedLinear`; "auto" is resolved by :func:`resolve_layer_backend`.
LAYER_BACKENDS = ("auto", "dense", "sparse")

# Above this fraction of live connections "auto" stays dense: the sparse
# work grows with the links and the dense work does not (the CPU measurement
# behind the threshold is in benchmarks/RESULTS.md, "Where the sparse layers
# stop paying").
_SPARSE_MAX_DENSITY = 0.35


def resolve_layer_backend(backend, mask_density, device, sparse_input):
    """The backend a :class:`MaskedLinear` uses: "dense" or "sparse".

    ``"auto"`` picks the sparse kernels when the mask keeps at most 35% of
    the connections and either the layer reads the sparse user histories
    (the encoder: a gather-scatter over the batch's non-zeros, whatever the
    device) or it runs on the CPU, where the sparse decoder does fewer
    operations in proportion to the mask and Adam updates only the live
    weights.  On a GPU the decoder stays dense-masked, the configuration
    measured there.  The timings behind these choices are in
    ``benchmarks/RESULTS.md``.  Fully connected layers are always dense.

    Parameters
    ----------
    backend : {"auto", "dense", "sparse"}
        Requested backend.
    mask_density : float or None
        Fraction of live connections; None for a fully connected layer.
    device : torch.device
        Where the layer computes.
    sparse_input : bool
        Whether the layer's input is a sparse batch of histories.

    Returns
    -------
    backend : {"dense", "sparse"}

    Examples
    --------
    >>> import torch
    >>> from sklearn_swdae.layers import resolve_layer_backend
    >>> resolve_layer_backend("auto", 0.1, torch.device("cpu"), sparse_input=False)
    'sparse'
    >>> resolve_layer_backend("auto", None, torch.device("cpu"), sparse_input=True)
    'dense'
    """
    if backend not in LAYER_BACKENDS:
        raise ValueError(f"layer_backend must be one of {LAYER_BACKENDS}, got {backend!r}.")
    if mask_density is None:
        return "dense"
    if backend != "auto":
        return backend
    if mask_density > _SPARSE_MAX_DENSITY:
        return "dense"
    return "sparse" if sparse_input or device.type == "cpu" else "dense"


_STRUCTURE_BUFFERS = ("crow_indices", "col_indices", "t_crow_indices", "t_col_indices", "t_order")

# What state dicts saved before the structure became non-persistent hold:
# the buffers above and the row of every link, all int64.
_SAVED_STRUCTURE = _STRUCTURE_BUFFERS + ("row_indices",)


class MaskedLinear(nn.Module):
    """y = x (W o M)^T + b: a linear layer whose connectivity is a fixed mask.

    The weight has shape (out_features, in_features) like ``nn.Linear``.
    Two backends compute the same function:

    - ``"dense"``: the parameter ``weight`` is the full matrix and the
      forward pass multiplies by ``weight * mask``, so the gradient of every
      masked entry is exactly zero; since masked weights also start at
      zero, optimizers without a decoupled additive term (SGD, Adam, AdamW,
      L2 decay) keep them exactly zero for the whole of training.
    - ``"sparse"``: only the live weights are stored (the parameter
      ``values``, in CSR order of the mask), so masked entries do not exist
      and cannot move.  A sparse input batch (COO) is multiplied by a
      gather-scatter over its non-zeros and their links; a dense input by
      bag sums over the links (``embedding_bag``), with the weight gradient
      sampled at the live entries.  No dense (out, in) matrix is allocated
      by the forward or backward pass, and the optimizer updates only the
      live weights.

    Parameters
    ----------
    weight : ndarray of shape (out_features, in_features)
        Initial weights (masked entries are zeroed).
    mask : array-like or sparse matrix of bool, shape (out_features, in_features), or None, default=None
        Connectivity; None means fully connected (dense backend only).
    backend : {"dense", "sparse"}, default="dense"
        How the layer stores and multiplies its weight (see above and
        :func:`resolve_layer_backend`).

    Attributes
    ----------
    weight : torch.Tensor of shape (out_features, in_features)
        With the dense backend, the parameter; with the sparse backend, a
        dense copy rebuilt from ``values`` (for inspection, differentiable).
    bias : torch.nn.Parameter of shape (out_features,)
        The biases.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import MaskedLinear
    >>> mask = np.array([[True, False, True], [False, True, False]])
    >>> MaskedLinear(np.ones((2, 3)), mask)(torch.ones(1, 3)).tolist()
    [[2.0, 1.0]]
    >>> sparse = MaskedLinear(np.ones((2, 3)), mask, backend="sparse")
    >>> sparse(torch.ones(1, 3).to_sparse()).tolist(), sparse.values.numel()
    ([[2.0, 1.0]], 3)
    """

    def __init__(self, weight, mask=None, backend="dense"):
        super().__init__()
        if backend not in ("dense", "sparse"):
            raise ValueError(f"backend must be 'dense' or 'sparse', got {backend!r}.")
        live = None
        if isinstance(weight, LiveValues):
            if backend != "sparse":
                raise ValueError("live values alone need the sparse backend.")
            live = torch.from_numpy(weight.values)
            weight = np.broadcast_to(np.float32(0.0), weight.shape)  # shape only, no memory
        weight = np.asarray(weight, dtype=np.float32)
        self.backend = backend
        self._shape = weight.shape
        self.bias = nn.Parameter(torch.zeros(weight.shape[0]))
        if mask is not None:
            mask_shape = tuple(mask.shape)
            if mask_shape != weight.shape:
                raise ValueError(f"mask shape {mask_shape} != weight shape {weight.shape}")
        if backend == "dense":
            weight = torch.from_numpy(weight)
            if mask is not None:
                mask = torch.as_tensor(mask.toarray() if sp.issparse(mask) else mask, dtype=torch.bool)
                weight = weight * mask
                self.register_buffer("mask", mask.to(torch.float32))
            else:
                self.mask = None
            self.weight = nn.Parameter(weight)
            return
        if mask is None:
            raise ValueError("the sparse backend needs a mask; use backend='dense' for a full layer.")
        # int32 indices where they fit (see csr_structure): half the memory
        # of int64, and the kernels take either.
        crow, col = csr_structure(mask)
        index_dtype = crow.dtype
        if live is None:
            live = torch.from_numpy(weight)[csr_rows(crow).long(), col.long()]
        elif live.shape != col.shape:
            raise ValueError(f"{live.numel()} live values for a mask with {col.numel()} live entries.")
        self.values = nn.Parameter(live.contiguous())
        # The structure is rebuilt from the mask, which every owner keeps
        # (the estimators their ``connectivity_``), so it stays out of the
        # state dict: as int64 it took 32 bytes per live weight in a saved
        # model, eight times the weight itself.  The row of each link is not
        # kept (``row_indices`` derives it from the row pointers): only the
        # weight gradient's tiles, built once, and the dense view read it.
        self.register_buffer("crow_indices", crow, persistent=False)
        self.register_buffer("col_indices", col, persistent=False)
        # The transpose's CSR structure and where its entries sit in
        # ``values``: the input gradient and the sparse-input product walk
        # the links of each input unit.
        # scipy's CSR-to-CSC conversion of the positions is a counting sort
        # that keeps each input's links in row order: the order of a lexsort
        # by (column, row), at a fraction of its cost when a model loads.
        numpy_dtype = np.int32 if index_dtype == torch.int32 else np.int64
        by_input = sp.csr_array(
            (np.arange(col.numel(), dtype=numpy_dtype), col.numpy(), crow.numpy()), shape=weight.shape, copy=False
        ).tocsc()
        order = torch.from_numpy(by_input.data)
        t_crow = torch.from_numpy(by_input.indptr.astype(numpy_dtype, copy=False))
        t_col = torch.from_numpy(by_input.indices.astype(numpy_dtype, copy=False))
        del by_input
        self.register_buffer("t_crow_indices", t_crow, persistent=False)
        self.register_buffer("t_col_indices", t_col, persistent=False)
        self.register_buffer("t_order", order, persistent=False)
        in_degree = t_crow.diff()
        # With a constant number of links per input (ItemGrouper's exactly R
        # per item) the expansion size is known from the batch's shape, so
        # the forward pass needs no device-to-host synchronization.
        self._uniform_in_degree = (
            int(in_degree[0]) if in_degree.numel() and bool((in_degree == in_degree[0]).all()) else None
        )
        self.mask = None

    def __getstate__(self):
        # Host copies and tiles of the structure are caches, rebuilt on first use.
        state = dict(self.__dict__)
        state.pop("_host_cache", None)
        return state

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # State dicts saved before the structure became non-persistent hold
        # it: it must be the structure this layer was built with.
        for name in _SAVED_STRUCTURE:
            saved = state_dict.pop(prefix + name, None)
            if saved is None or self.backend != "sparse":
                continue
            mine = getattr(self, name)
            if saved.shape != mine.shape or not torch.equal(saved.to(mine.device, mine.dtype), mine):
                raise RuntimeError(
                    f"{prefix + name} of the saved state differs from the structure of this layer's "
                    "mask: the weights belong to another connectivity."
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def __getattr__(self, name):
        if name == "weight" and self.__dict__.get("backend") == "sparse":
            return self.effective_weight()
        return super().__getattr__(name)

    @property
    def row_indices(self):
        """The row (output unit) of every live weight, in ``values`` order (sparse backend)."""
        return csr_rows(self.crow_indices)

    @property
    def in_features(self):
        return self._shape[1]

    @property
    def out_features(self):
        return self._shape[0]

    @property
    def n_live(self):
        """Number of live (trainable) connections."""
        if self.backend == "sparse":
            return self.values.numel()
        return self.weight.numel() if self.mask is None else int(self.mask.sum().item())

    def _csr(self, values):
        return csr_tensor(self.crow_indices, self.col_indices, values, self._shape)

    def effective_weight(self):
        """The (out_features, in_features) weight with masked entries at zero."""
        if self.backend == "sparse":
            dense = self.values.new_zeros(self._shape[0] * self._shape[1])
            flat = self.row_indices.long() * self._shape[1] + self.col_indices.long()
            return dense.index_put((flat,), self.values).view(self._shape)
        return self.weight if self.mask is None else self.weight * self.mask

    def forward(self, x):
        if self.backend == "sparse":
            if x.is_sparse:
                return sparse_input_product(self, x)
            return SparseWeightProduct.apply(x, self.values, self.bias, self)
        weight = self.effective_weight()
        if x.is_sparse:
            # Sparse products have no bfloat16 kernel on CUDA; the input is
            # binary and cheap to multiply, so this one stays in float32.
            with torch.autocast(device_type=x.device.type, enabled=False):
                return torch.sparse.mm(x, weight.float().t()) + self.bias
        return torch.addmm(self.bias, x, weight.t())


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
    backends : tuple of two {"dense", "sparse"}, default=("dense", "dense")
        Backends of the encoder and the decoder (:class:`MaskedLinear`);
        "sparse" needs a mask.

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
        backends=("dense", "dense"),
    ):
        super().__init__()
        self.encoder, self.decoder = _masked_layer_pair(n_items, n_hidden, mask, random_state, backends)
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
        return ACTIVATIONS[self.activation](self.encoder(x))

    def forward_output(self, x):
        """The logits with the hidden activations (before hidden dropout)."""
        hidden = self.encode(x)
        h = dense_dropout(hidden, self.hidden_dropout, self.generator) if self.training else hidden
        return AutoencoderOutput(self.decoder(h), hidden=hidden)

    def forward(self, x):
        return self.forward_output(x).logits


def _dense_layer(n_in, n_out, random_state):
    return MaskedLinear(glorot_uniform((n_out, n_in), n_in, n_out, random_state))


class VariationalAutoencoder(nn.Module):
    """Mult-VAE network of Liang et al. (2018): [n_items, H, L, H, n_items].

    The input rows are L2-normalized, then dropped out (training only); a
    hidden layer of H units feeds the mean and log-variance of an
    L-dimensional Gaussian posterior.  Training samples the latent code
    with the reparameterization trick (noise from ``generator``) and
    :meth:`forward_output` returns the batch's mean KL divergence to the
    standard normal prior with the logits; evaluation decodes the mean, so
    predictions are deterministic.

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

    def encode(self, x):
        """Posterior mean and log-variance of a batch of histories."""
        x = l2_normalize_rows(x)
        if self.training:
            x = sparse_dropout(x, self.input_dropout, self.generator)
        out = self.encoder_out(ACTIVATIONS[self.activation](self.encoder_hidden(x)))
        return out[:, : self.n_latent], out[:, self.n_latent :]

    def decode(self, z):
        return self.decoder_out(ACTIVATIONS[self.activation](self.decoder_hidden(z)))

    def forward_output(self, x):
        """The logits with, when training, the batch's mean KL divergence."""
        mu, logvar = self.encode(x)
        if not self.training:
            return AutoencoderOutput(self.decode(mu))
        std = torch.exp(0.5 * logvar)
        noise = _draw(torch.randn, mu.shape, self.generator, mu.device, mu.dtype)
        kl = (0.5 * (-logvar + torch.exp(logvar) + mu.pow(2) - 1.0)).sum(dim=1).mean()
        return AutoencoderOutput(self.decode(mu + noise * std), kl=kl)

    def forward(self, x):
        return self.forward_output(x).logits


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
        # The sparse backend stores live weights only; a dense mask hides some.
        if isinstance(layer, MaskedLinear) and layer.backend == "dense" and layer.mask is not None:
            total -= int(layer.mask.numel() - layer.mask.sum().item())
    return int(total)


def _masked_layer_pair(n_in, n_out, mask, random_state, backends=("dense", "dense")):
    """Encoder (n_in -> n_out, ``mask``) and decoder (transposed mask) layers.

    Glorot-initialized with the effective fans of the mask (live inputs per
    output unit and live outputs per input unit), encoder drawn first.
    """
    if mask is None:
        fan_in, fan_out, mask_t = n_in, n_out, None
    else:
        # A sparse mask stays sparse: at K = 15,000 and 20,000 items a dense
        # copy is 300 MB that the sparse backend never needs.
        mask = sp.csr_array(mask, dtype=bool) if sp.issparse(mask) else np.asarray(mask, dtype=bool)
        n_live = int(mask.sum())
        fan_in, fan_out, mask_t = n_live / max(n_out, 1), n_live / max(n_in, 1), mask.T

    def draw(shape, layer_mask, fans, backend):
        if backend == "sparse" and layer_mask is not None:
            return glorot_live(layer_mask, *fans, random_state)
        return glorot_uniform(shape, *fans, random_state)

    encoder = MaskedLinear(draw((n_out, n_in), mask, (fan_in, fan_out), backends[0]), mask, backends[0])
    decoder = MaskedLinear(draw((n_in, n_out), mask_t, (fan_out, fan_in), backends[1]), mask_t, backends[1])
    return encoder, decoder


class StackedDenoisingAutoencoder(nn.Module):
    """Stacked sparse denoising autoencoder (section 3.4 of the paper).

    Layer l maps its K_{l-1} inputs to K_l hidden units through the mask
    ``masks[l]`` (K_0 being the number of items); the decoder applies the
    transposed masks in reverse order (equation 7), so the network is
    [n_items, K_1, ..., K_d, ..., K_1, n_items].  Every hidden and
    intermediate decoder unit uses ``activation``; ``forward`` returns the
    last decoder's logits, which rank the items.  Training corrupts the input
    with ``input_dropout`` and the innermost code with ``hidden_dropout``.

    :meth:`load_pretrained` copies the weights of greedily trained
    one-hidden-layer autoencoders into the stack (the paper's pretraining).

    Parameters
    ----------
    n_items : int
        Number of items (input and output units).
    masks : list of ndarray of bool
        ``masks[l]`` has shape (K_{l+1}, K_l) with K_0 = ``n_items``.
    activation : str
        "sigmoid", "tanh", "relu" or "identity".
    input_dropout, hidden_dropout : float
        Dropout probabilities of the input corruption and of the code.
    random_state : numpy RandomState
        Draws the initial weights (layer by layer, encoder then decoder).

    Attributes
    ----------
    encoders, decoders : torch.nn.ModuleList of MaskedLinear
        ``encoders[l]`` and ``decoders[l]`` are layer l's two halves;
        ``decoders[l]`` maps K_{l+1} units back to K_l.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_swdae.layers import StackedDenoisingAutoencoder
    >>> masks = [np.eye(4, 6, dtype=bool) | np.eye(4, 6, k=2, dtype=bool), np.eye(2, 4, dtype=bool)]
    >>> module = StackedDenoisingAutoencoder(6, masks, "sigmoid", 0.5, 0.2, np.random.RandomState(0))
    >>> module.eval()(torch.ones(3, 6).to_sparse()).shape, module.encode(torch.ones(3, 6)).shape
    (torch.Size([3, 6]), torch.Size([3, 2]))
    """

    def __init__(self, n_items, masks, activation, input_dropout, hidden_dropout, random_state):
        super().__init__()
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        n_in = n_items
        for mask in masks:
            mask = np.asarray(mask, dtype=bool)
            if mask.ndim != 2 or mask.shape[1] != n_in:
                raise ValueError(f"masks must chain: expected a mask with {n_in} columns, got {mask.shape}.")
            encoder, decoder = _masked_layer_pair(n_in, mask.shape[0], mask, random_state)
            self.encoders.append(encoder)
            self.decoders.append(decoder)
            n_in = mask.shape[0]
        self.activation = activation
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout
        self.generator = None

    def encode(self, x):
        """The code a^d of a batch (equation 6); input dropout when training."""
        if self.training:
            x = sparse_dropout(x, self.input_dropout, self.generator)
        for encoder in self.encoders:
            x = ACTIVATIONS[self.activation](encoder(x))
        return x

    def forward_output(self, x):
        """The logits with the code (before hidden dropout)."""
        code = self.encode(x)
        h = dense_dropout(code, self.hidden_dropout, self.generator) if self.training else code
        for level in range(len(self.decoders) - 1, 0, -1):
            h = ACTIVATIONS[self.activation](self.decoders[level](h))
        return AutoencoderOutput(self.decoders[0](h), hidden=code)

    def forward(self, x):
        return self.forward_output(x).logits

    def load_pretrained(self, autoencoders):
        """Copy the weights of one-hidden-layer autoencoders, one per layer.

        Parameters
        ----------
        autoencoders : list of DenoisingAutoencoder
            ``autoencoders[l]`` was trained on the codes of layer l - 1 (on
            the items for l = 0); its encoder and decoder become layer l.

        Returns
        -------
        self : StackedDenoisingAutoencoder
        """
        if len(autoencoders) != len(self.encoders):
            raise ValueError(f"expected {len(self.encoders)} autoencoders, got {len(autoencoders)}.")
        with torch.no_grad():
            for level, autoencoder in enumerate(autoencoders):
                pairs = (
                    (self.encoders[level], autoencoder.encoder),
                    (self.decoders[level], autoencoder.decoder),
                )
                for mine, theirs in pairs:
                    if mine.weight.shape != theirs.weight.shape:
                        raise ValueError(
                            f"layer {level}: autoencoder weight shape {tuple(theirs.weight.shape)} "
                            f"!= {tuple(mine.weight.shape)}."
                        )
                    mine.weight.copy_(theirs.effective_weight())
                    mine.bias.copy_(theirs.bias)
        return self


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
    total = sum(layer.n_live for layer in module.modules() if isinstance(layer, MaskedLinear))
    return 2 * int(total)
