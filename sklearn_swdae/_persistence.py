"""Pickling support: the package version in every saved estimator, and torch
state that loads without executing code.

Estimators record ``sklearn_swdae.__version__`` when pickled and warn with
:class:`~sklearn_swdae.exceptions.InconsistentVersionWarning` when another
version loads them.  Their CSR/CSC attributes are saved with 32-bit
indices when those fit (scipy builds some with 64-bit indices, twice the
bytes).  Torch weights travel as the bytes of ``torch.save`` and
are read back with ``torch.load(..., weights_only=True)``, whose restricted
unpickler only rebuilds tensors and plain containers.
"""

import io
import warnings

import numpy as np
import scipy.sparse as sp
import torch

from ._version import __version__
from .exceptions import InconsistentVersionWarning

__all__ = ["VersionedStateMixin", "torch_state_to_bytes", "torch_state_from_bytes"]

_VERSION_KEY = "_sklearn_swdae_version"


class VersionedStateMixin:
    """Record the package version in ``__getstate__``; warn on a mismatch.

    Put it before :class:`~sklearn.base.BaseEstimator` in the bases, so that
    scikit-learn's own version bookkeeping still runs.
    """

    def __getstate__(self):
        # A copy: object.__getstate__ may return the live __dict__.
        state = dict(super().__getstate__())
        compacted = {}  # by id: a matrix held twice (connectivities_[0]) is saved once
        for key, value in state.items():
            state[key] = _compact_indices(value, compacted)
        state[_VERSION_KEY] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop(_VERSION_KEY, None)
        if saved != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    original_version=saved,
                    current_version=__version__,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)


_COMPRESSED_TYPES = (sp.csr_array, sp.csr_matrix, sp.csc_array, sp.csc_matrix)


def _compact_indices(value, compacted):
    """A CSR/CSC matrix (or a list or tuple of them) with int32 indices when they fit.

    The data array is shared, not copied; anything else is returned as is.
    Subclasses are left alone: rebuilding them could drop their attributes.
    ``compacted`` maps ``id(matrix)`` to its copy, so that a matrix reached
    twice stays one object (pickle then stores it once).
    """
    if isinstance(value, (list, tuple)) and any(type(item) in _COMPRESSED_TYPES for item in value):
        return type(value)(_compact_indices(item, compacted) for item in value)
    if type(value) not in _COMPRESSED_TYPES or value.indices.dtype == np.int32:
        return value
    if max(value.shape + (value.nnz,)) >= 2**31:
        return value
    if id(value) not in compacted:
        compacted[id(value)] = type(value)(
            (value.data, value.indices.astype(np.int32), value.indptr.astype(np.int32)),
            shape=value.shape,
            copy=False,
        )
    return compacted[id(value)]


def torch_state_to_bytes(state):
    """Serialize tensors (and plain containers of them) with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def torch_state_from_bytes(data):
    """Read :func:`torch_state_to_bytes` output on the CPU, weights only.

    ``weights_only=True`` refuses anything but tensors, numbers, strings and
    plain containers, so these bytes cannot run code when loaded.
    """
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
