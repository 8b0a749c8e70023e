"""Item-item similarities shared by the estimators whose items are vectors."""

import numpy as np


def cosine_similarities(vectors, items):
    """Cosine similarity of the rows ``items`` of ``vectors`` with every row.

    A zero vector is similar to nothing (similarity 0), not NaN.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.where(norms > 0, norms, 1)[:, None]
    return unit[items] @ unit.T
