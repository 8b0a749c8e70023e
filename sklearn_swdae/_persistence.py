"""Pickling support: the package version in every saved estimator, and torch
state that loads without executing code.

Estimators record ``sklearn_swdae.__version__`` when pickled and warn with
:class:`~sklearn_swdae.exceptions.InconsistentVersionWarning` when another
version loads them.  Torch weights travel as the bytes of ``torch.save`` and
are read back with ``torch.load(..., weights_only=True)``, whose restricted
unpickler only rebuilds tensors and plain containers.
"""

import io
import warnings

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
