"""Initial weights of the masked layers: Glorot uniform, dense or live entries only.

Kept apart from :mod:`sklearn_swdae.layers` so that the estimators, which
rebuild their modules when unpickled, can ask for weights that are about to
be loaded (:class:`WeightsToBeLoaded`) without reaching into the layers'
private names.
"""

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["LiveValues", "WeightsToBeLoaded", "glorot_live", "glorot_uniform"]


class WeightsToBeLoaded(np.random.RandomState):
    """A ``random_state`` for modules whose weights are loaded right after.

    :func:`glorot_uniform` and :func:`glorot_live` give zeros for it
    instead of drawing numbers that the saved weights replace (what that
    saves at load is in ``benchmarks/RESULTS.md``, "Saved models").  Other
    draws are those of ``RandomState(0)``.
    """

    def __init__(self):
        super().__init__(0)


def glorot_uniform(shape, fan_in, fan_out, random_state):
    """Glorot/Xavier uniform initial weights for the given effective fans.

    For a masked layer the fans are the average numbers of live connections
    per output and per input unit, so a sparse layer starts with the same
    activation scale as a dense layer of that fan.
    """
    if isinstance(random_state, WeightsToBeLoaded):
        return np.zeros(shape, dtype=np.float32)
    bound = math.sqrt(6.0 / max(fan_in + fan_out, 1.0))
    return random_state.uniform(-bound, bound, size=shape).astype(np.float32)


class LiveValues:
    """Initial weights of a sparse :class:`MaskedLinear` given by their live entries.

    ``values`` are in the CSR order of the mask (rows, then sorted columns).
    """

    def __init__(self, shape, values):
        self.shape = tuple(shape)
        self.values = values


#: Elements per block of :func:`glorot_live` (32 MB of float64 draws).
_DRAW_BLOCK = 1 << 22


def glorot_live(mask, fan_in, fan_out, random_state):
    """The live entries of ``glorot_uniform(mask.shape, ...)``, same numbers.

    The dense draw is made a block of rows at a time (numpy's generator
    fills arrays in C order, so the stream and every value are those of one
    dense draw) and only the entries under the mask are kept: at K = 15,000
    hidden units and 20,108 items one dense draw was 2.4 GB of float64 and
    1.2 GB of float32 per layer, for 10% of it kept.
    """
    mask = sp.csr_array(mask, dtype=bool)
    if isinstance(random_state, WeightsToBeLoaded):
        return LiveValues(mask.shape, np.zeros(mask.nnz, dtype=np.float32))
    mask.sort_indices()
    n_rows, n_cols = mask.shape
    bound = math.sqrt(6.0 / max(fan_in + fan_out, 1.0))
    values = np.empty(mask.nnz, dtype=np.float32)
    step = max(1, _DRAW_BLOCK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        block = random_state.uniform(-bound, bound, size=(stop - start, n_cols)).astype(np.float32)
        lo, hi = mask.indptr[start], mask.indptr[stop]
        local_rows = np.repeat(np.arange(stop - start), np.diff(mask.indptr[start : stop + 1]))
        values[lo:hi] = block[local_rows, mask.indices[lo:hi]]
    return LiveValues(mask.shape, values)
