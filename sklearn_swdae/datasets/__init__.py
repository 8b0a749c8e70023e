"""Datasets: loaders for public implicit-feedback data and a synthetic generator.

Readers return a :class:`~sklearn.utils.Bunch` whose ``data`` is a users x
items ``scipy.sparse.csr_array`` (float32) with ``user_ids`` and ``item_ids``
naming its rows and columns.  :func:`preprocess_interactions` applies the
paper's binarization and filtering, and :func:`paper_split` its
strong-generalization split sizes.  Downloaded datasets are cached under
:func:`get_data_home` (``$SKLEARN_SWDAE_DATA``, else scikit-learn's data
home).
"""

from ._citeulike import load_citeulike
from ._fetch import fetch_movielens, get_data_home
from ._interactions_file import load_interactions
from ._movielens import load_movielens
from ._msd import load_msd_taste_profile
from ._netflix import load_netflix
from ._preprocessing import (
    PREPROCESSING_PRESETS,
    SPLIT_PRESETS,
    paper_split,
    preprocess_interactions,
)
from ._synthetic import make_interactions

__all__ = [
    "PREPROCESSING_PRESETS",
    "SPLIT_PRESETS",
    "fetch_movielens",
    "get_data_home",
    "load_citeulike",
    "load_interactions",
    "load_movielens",
    "load_msd_taste_profile",
    "load_netflix",
    "make_interactions",
    "paper_split",
    "preprocess_interactions",
]
