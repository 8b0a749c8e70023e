"""The option groups of the command line, shared by ``swdae`` and ``sklearn_swdae.distributed``."""

import argparse

from ._commands import BASELINES, DEMO_BASELINES, FORMATS

# --------------------------------------------------------------------------
# Parser


def add_model_options(parser):
    group = parser.add_argument_group(
        "model (defaults: 'auto', rules of the data's shape, see sklearn_swdae.defaults; "
        "--paper for the paper's settings)"
    )
    group.add_argument(
        "--paper",
        action="store_true",
        help="the paper's settings (section 4.3): R = 0.1 K, F = 50, batch 500, learning rate 1e-3, "
        "100 epochs without early stopping, K = --n-clusters or 1000; overrides the training options below",
    )
    group.add_argument(
        "--n-clusters",
        type=_count_or_auto,
        default="auto",
        help="K, hidden units: an int or 'auto' (0.75 per item; default auto)",
    )
    group.add_argument(
        "--overlap",
        type=_overlap,
        default="auto",
        help="R, links per item: an int, a fraction of K with a decimal point (0.1), or 'auto' "
        "(at least 300, growing with the users; default auto)",
    )
    group.add_argument(
        "--n-components",
        type=_count_or_auto,
        default="auto",
        help="F, embedding dimension: an int or 'auto' (50, capped by the data; default auto)",
    )
    group.add_argument(
        "--method",
        choices=["laplacian", "svd"],
        default="laplacian",
        help="item embedding: spectral (Algorithm 1) or truncated SVD (Algorithm 2) (default laplacian)",
    )
    group.add_argument(
        "--loss",
        choices=["multinomial", "bernoulli"],
        default="multinomial",
        help="training loss (default multinomial)",
    )
    group.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="Adam step size (default: each model's own, SW-DAE 3e-3, the baseline autoencoders 1e-3)",
    )
    group.add_argument(
        "--average-half-life",
        type=_half_life,
        default=None,
        help="SW-DAE validates and keeps a moving average of its weights with this half-life in "
        "epochs; 'off' keeps the trained weights (default: the model's, 1.0)",
    )
    group.add_argument(
        "--hidden-dropout",
        type=_rate_or_auto,
        default="auto",
        help="SW-DAE's dropout on its hidden layer: a rate in [0, 1) or 'auto' (0.2 from 3,000 training users on, "
        "up to 0.5 on fewer; default auto)",
    )
    group.add_argument(
        "--batch-size",
        type=_count_or_auto,
        default="auto",
        help="users per training batch: an int or 'auto' (about 40 steps per epoch, 32 to 500; default auto)",
    )
    group.add_argument("--max-iter", type=int, default=100, help="epochs (default %(default)s)")
    group.add_argument(
        "--n-iter-no-change",
        type=_patience,
        default=None,
        help="SW-DAE stops after this many epochs without a better validation NDCG@100; "
        "'off' trains every epoch (default: the model's, 20)",
    )
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    group.add_argument(
        "--seed", type=int, default=0, help="random seed of the item groups and the training (default 0)"
    )
    group.add_argument(
        "--verbose",
        type=int,
        default=1,
        help="1: one progress line per epoch of every model (stderr); 0: only one line per model",
    )


def add_data_options(parser):
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=True, help="file or folder")
    group.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="movielens (an extracted GroupLens folder), netflix, msd (the Taste Profile), "
        "or a generic csv/tsv/parquet log named by --user-col and --item-col",
    )
    group.add_argument("--user-col", help="user column (csv/tsv/parquet)")
    group.add_argument("--item-col", help="item column (csv/tsv/parquet)")
    group.add_argument("--rating-col", help="rating column (optional)")
    group.add_argument(
        "--preset",
        default="auto",
        choices=["auto", "ml-20m", "netflix", "msd", "none"],
        help="the paper's preprocessing (auto: by format; none for csv/tsv/parquet)",
    )
    group.add_argument(
        "--min-rating",
        type=float,
        default=None,
        help="keep ratings at or above this value (default: the preset's: 4 for ml-20m and netflix, none for msd)",
    )
    group.add_argument(
        "--min-user-items",
        type=int,
        default=None,
        help="drop users with fewer interactions than this (default: the preset's: 5, 20 for msd)",
    )
    group.add_argument(
        "--min-item-users",
        type=int,
        default=None,
        help="drop items with fewer users than this (default: the preset's: 200 for msd, else none)",
    )


def add_protocol_options(parser):
    group = parser.add_argument_group("protocol")
    group.add_argument(
        "--heldout-users",
        type=_count_or_fraction,
        default=0.1,
        help="validation and test users each: a count or a fraction (default 0.1)",
    )
    group.add_argument(
        "--split-seed",
        type=int,
        default=98765,
        help="random seed of the choice of validation and test users (default %(default)s)",
    )
    group.add_argument(
        "--baselines",
        nargs="*",
        choices=sorted(BASELINES),
        default=["popularity"],
        help="models to compare with SW-DAE, untuned defaults (default: popularity; demo: "
        + ", ".join(DEMO_BASELINES)
        + "; wmf needs the optional implicit package)",
    )


def _overlap(text):
    if text == "auto":
        return text
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() and "." not in text else value


def _epochs_or_off(convert, expected):
    """An argparse type: a positive number of epochs made by ``convert``, or 'off' (kept as the string)."""

    def parse(text):
        if text == "off":
            return text
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected {expected} or 'off', got {text!r}")
        return value

    return parse


_half_life = _epochs_or_off(float, "a positive number of epochs")
_patience = _epochs_or_off(int, "a positive whole number of epochs")


def _count_or_auto(text):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int or 'auto', got {text!r}") from None


def _rate_or_auto(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a rate in [0, 1) or 'auto', got {text!r}")
    return value


def _count_or_fraction(text):
    value = float(text)
    return int(value) if value >= 1 else value
