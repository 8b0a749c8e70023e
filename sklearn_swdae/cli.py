"""The ``swdae`` command line (also ``python -m sklearn_swdae``).

Sub-commands::

    swdae demo                      SW-DAE against Popularity, EASE, FC-DAE,
                                    Mult-DAE and Mult-VAE on generated data
    swdae fit --data PATH ...       train on a user's data, save a model file
    swdae evaluate --data PATH ...  the paper's protocol on a user's data
    swdae recommend --model FILE --history FILE
                                    top-N lists with the original item ids
                                    (and titles, when known)

Results (the evaluation table, the recommendations) go to stdout; progress
(what is being trained, one line per epoch, a line when a model has been
quiet for a while) and warnings go to stderr, so ``swdae evaluate ... >
results.txt`` holds only the table.  Errors in the user's input (bad paths,
unknown formats, empty files, malformed rows) end with one
``swdae: error: ...`` line on stderr and exit status 2, never a traceback.
"""

import argparse
import csv
import json
import sys
import threading
import time
import warnings

import joblib
import numpy as np
import scipy.sparse as sp

from ._version import __version__
from .autoencoders import (
    CDAERecommender,
    FCDAERecommender,
    MultDAERecommender,
    MultVAERecommender,
    PrunedDAERecommender,
    SparseWideDAERecommender,
)
from .baselines import EASERecommender, PopularityRecommender, SLIMRecommender, WMFRecommender
from .datasets import (
    load_interactions,
    load_movielens,
    load_msd_taste_profile,
    load_netflix,
    make_interactions,
    preprocess_interactions,
)
from .defaults import paper_settings
from .grouping import ItemGrouper
from .metrics import evaluate_rankings
from .model_selection import strong_generalization_split
from .training import VALIDATION_METRICS, Callback

__all__ = ["main"]

_FORMATS = ("movielens", "netflix", "msd", "csv", "tsv", "parquet")
# The paper's preprocessing for each format; a generic log is kept as is.
_DEFAULT_PRESET = {"movielens": "ml-20m", "netflix": "netflix", "msd": "msd"}
_METRICS = ("recall@20", "recall@50", "ndcg@100")
_MODEL_FILE_KIND = "sklearn-swdae model"


class CommandError(Exception):
    """An error in the user's input, reported as one line."""


# Seconds of silence after which a training model gets a "still training" line.
_HEARTBEAT_S = 15.0
_last_said = time.monotonic()


def _say(message):
    """A progress or log line: stderr, so that stdout holds only the results."""
    global _last_said
    print(message, file=sys.stderr, flush=True)
    _last_said = time.monotonic()


class _EpochProgress(Callback):
    """One stderr line per epoch of a model trained by the command line."""

    def __init__(self, name):
        self.name = name
        self.runs = 0

    def on_train_begin(self, engine):
        self.runs += 1
        if self.runs > 1:  # FC-Prune retrains after pruning
            _say(f"  {self.name}: training run {self.runs}, {engine.max_iter} epochs")

    def on_epoch_end(self, engine, record):
        parts = [f"  {self.name} epoch {record['epoch']}/{engine.max_iter}", f"loss {record['train_loss']:.4f}"]
        parts += [f"{name} {record[name]:.4f}" for name in VALIDATION_METRICS if name in record]
        if record.get("best"):
            parts.append("*")
        parts.append(f"{record['dur']:.1f}s")
        _say("  ".join(parts))


class _Heartbeat:
    """While a model fits, a stderr line whenever nothing was said for ``_HEARTBEAT_S`` s.

    Models without epochs (EASE, SLIM, WMF) and the item grouping of SW-DAE
    would otherwise be silent for minutes on large data.
    """

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self._tic = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(min(1.0, _HEARTBEAT_S)):
            if time.monotonic() - _last_said >= _HEARTBEAT_S:
                _say(f"  {self.name}: still training, {time.perf_counter() - self._tic:.0f}s so far")

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------
# Data


def _load(args):
    """Read --data in --format; return the loader's Bunch (ratings, ids, titles)."""
    fmt = args.format
    if fmt == "movielens":
        bunch = load_movielens(args.data)
    elif fmt == "netflix":
        bunch = load_netflix(args.data)
    elif fmt == "msd":
        bunch = load_msd_taste_profile(args.data)
    else:
        if not (args.user_col and args.item_col):
            raise CommandError(f"--format {fmt} needs --user-col and --item-col (the column names).")
        bunch = load_interactions(
            args.data, args.user_col, args.item_col, args.rating_col, format=fmt
        )
    return bunch


def _load_preprocessed(args):
    """The preprocessed dataset: a Bunch with ``data``, ``user_ids``, ``item_ids``."""
    _say(f"reading {args.data} ({args.format}) ...")
    tic = time.perf_counter()
    bunch = _load(args)
    preset = args.preset if args.preset != "auto" else _DEFAULT_PRESET.get(args.format)
    dataset = preprocess_interactions(
        bunch,
        None if preset == "none" else preset,
        min_rating=args.min_rating,
        min_user_items=args.min_user_items,
        min_item_users=args.min_item_users,
    )
    X = dataset.data
    if X.nnz == 0:
        raise CommandError(f"no interaction of {args.data} is left after preprocessing (preset {preset}).")
    _say(
        f"{X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions after preprocessing "
        f"(preset {preset or 'none'}) in {time.perf_counter() - tic:.1f}s"
    )
    return dataset


# --------------------------------------------------------------------------
# Model


def _make_model(args, n_items, n_users):
    """SW-DAE from the options: the data-shaped defaults, or --paper."""
    grouper = ItemGrouper(
        n_clusters=args.n_clusters,
        overlap=args.overlap,
        n_components=args.n_components,
        method=args.method,
        random_state=args.seed,
    )
    training = dict(
        loss=args.loss,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        max_iter=args.max_iter,
    )
    if args.paper:
        paper = paper_settings(
            n_clusters=1000 if args.n_clusters == "auto" else args.n_clusters,
            n_components=50 if args.n_components == "auto" else args.n_components,
        )
        grouper = paper.pop("grouper").set_params(method=args.method, random_state=args.seed)
        training = paper
    return SparseWideDAERecommender(
        grouper=grouper,
        **training,
        device=args.device,
        random_state=args.seed,
        # Epoch lines go to stderr through _EpochProgress, not to stdout.
        callbacks=[_EpochProgress("SW-DAE")] if args.verbose else None,
    )


def _fit(model, X, stage=""):
    _say(
        f"{stage}fitting SW-DAE: K={model.grouper.n_clusters}, R={model.grouper.overlap}, "
        f"F={model.grouper.n_components}, batch {model.batch_size}, {model.max_iter} epochs ..."
    )
    tic = time.perf_counter()
    with _Heartbeat("SW-DAE"):
        model.fit(X)
    # The progress lines belong to this run, not to the model (which fit saves).
    model.set_params(callbacks=None)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in model.grouper_.timings_.items())
    grouper = model.grouper_
    _say(
        f"  SW-DAE trained in {time.perf_counter() - tic:.1f}s on {model.device_} (grouping: {timings}); "
        f"K={grouper.n_clusters_}, R={grouper.overlap_}, F={grouper.n_components_}, "
        f"batch {model.batch_size_}; best epoch {model.best_epoch_} of {model.n_iter_}"
    )
    return model


def _results_table(models, fold_in, held_out):
    lines = [f"{'model':<14}" + "".join(f"{m:>14}" for m in _METRICS)]
    for name, model in models.items():
        results = evaluate_rankings(model.decision_function, fold_in, held_out, _METRICS)
        cells = []
        for metric in _METRICS:
            values = results[metric][~np.isnan(results[metric])]
            se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
            cells.append(f"{values.mean():>8.4f}±{se:.3f}")
        lines.append(f"{name:<14}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


# Baselines for the comparison table; the autoencoders get the same training
# budget (epochs, learning rate, batch size) as SW-DAE, nothing is tuned.
_BASELINES = {
    "popularity": ("Popularity", lambda args, K: PopularityRecommender()),
    "ease": ("EASE", lambda args, K: EASERecommender()),
    "fcdae": ("FC-DAE", lambda args, K: FCDAERecommender(n_hidden=K, **_training(args))),
    "multdae": ("Mult-DAE", lambda args, K: MultDAERecommender(**_training(args))),
    "multvae": ("Mult-VAE", lambda args, K: MultVAERecommender(**_training(args))),
    "cdae": ("CDAE", lambda args, K: CDAERecommender(**_training(args))),
    "fc-prune": ("FC-Prune", lambda args, K: PrunedDAERecommender(n_hidden=K, **_training(args))),
    "fc-reg": ("FC-reg", lambda args, K: FCDAERecommender(n_hidden=K, activity_l1=1e-3, **_training(args))),
    "slim": ("SLIM", lambda args, K: SLIMRecommender()),
    # Needs the optional ``implicit`` package (the ``wmf`` extra).
    "wmf": ("WMF", lambda args, K: WMFRecommender()),
}
# The demo compares with the models that train in seconds on its data and
# need no optional package.
_DEMO_BASELINES = ["popularity", "ease", "fcdae", "multdae", "multvae"]
# A short demo: the defaults, with fewer epochs.
_DEMO_SETTINGS = {"max_iter": 20}


def _training(args):
    return dict(
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        max_iter=args.max_iter,
        device=args.device,
        random_state=args.seed,
    )


def _check_baselines(baselines):
    """Fail before any training when a requested baseline's package is missing."""
    if "wmf" in baselines:
        try:
            import implicit  # noqa: F401
        except ImportError:
            raise CommandError(
                "--baselines wmf needs the optional 'implicit' package: "
                "pip install 'sklearn-swdae[wmf]' (or pip install implicit)."
            ) from None


def _protocol(X, args, n_users_note):
    _check_baselines(args.baselines)
    split = strong_generalization_split(
        X, n_validation=args.heldout_users, n_test=args.heldout_users, random_state=args.split_seed
    )
    _say(
        f"strong generalization: {split.train.shape[0]} training users, "
        f"{split.validation_users.size} validation and {split.test_users.size} test users "
        f"(80/20 fold-in / held-out){n_users_note}"
    )
    baselines = list(dict.fromkeys(args.baselines))
    n_models = 1 + len(baselines)
    model = _fit(
        _make_model(args, split.train.shape[1], split.train.shape[0]), split.train, stage=f"[1/{n_models}] "
    )
    models = {"SW-DAE": model}
    for number, key in enumerate(baselines, start=2):
        name, make = _BASELINES[key]
        baseline = make(args, model.connectivity_.shape[0])
        epochs = "callbacks" in baseline.get_params()
        _say(f"[{number}/{n_models}] fitting {name}" + (f", {baseline.max_iter} epochs" if epochs else "") + " ...")
        if epochs and args.verbose:
            baseline.set_params(callbacks=[_EpochProgress(name)])
        tic = time.perf_counter()
        with _Heartbeat(name):
            models[name] = baseline.fit(split.train)
        _say(f"  {name} trained in {time.perf_counter() - tic:.1f}s")
    _say("scoring the test users ...")
    table = _results_table(models, split.test_fold_in, split.test_held_out)
    print(f"Test users ({split.test_users.size}), mean ± standard error (baselines untuned):")
    print(table)


# --------------------------------------------------------------------------
# Commands


def _cmd_demo(args):
    _say(
        f"generating {args.users} users x {args.items} items with {args.groups} planted "
        "overlapping item groups (sklearn_swdae.datasets.make_interactions) ..."
    )
    X, _ = make_interactions(
        args.users, args.items, args.groups, density=0.05, noise=0.05, random_state=args.seed
    )
    _protocol(X, args, "")


def _cmd_evaluate(args):
    X = _load_preprocessed(args).data
    _protocol(X, args, "")


def _cmd_fit(args):
    dataset = _load_preprocessed(args)
    X = dataset.data
    model = _fit(_make_model(args, X.shape[1], X.shape[0]), X)
    _save_model(model, dataset.item_ids, args.out, dataset.get("item_titles"))


def _save_model(model, item_ids, path, item_titles=None):
    """Write the model file that ``swdae recommend`` reads."""
    bundle = {
        "kind": _MODEL_FILE_KIND,
        "version": __version__,
        "model": model,
        "item_ids": np.asarray(item_ids),
        # Titles of the items (MovieLens); recommend prints them.
        "item_titles": None if item_titles is None else np.asarray(item_titles, dtype=object),
    }
    joblib.dump(bundle, path)
    _say(f"saved to {path}")


def _read_history(path, item_ids):
    """A CSV of ``user,item`` rows (original ids, header optional) as a CSR matrix."""
    position = {str(item): j for j, item in enumerate(item_ids)}
    users, rows, cols, unknown = {}, [], [], set()
    try:
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            for number, row in enumerate(reader, start=1):
                if not row or (number == 1 and row[0].strip().lower() in {"user", "user_id", "userid"}):
                    continue
                if len(row) < 2:
                    raise CommandError(f"{path}, line {number}: expected 'user,item', got {','.join(row)!r}.")
                user, item = row[0].strip(), row[1].strip()
                if item not in position:
                    unknown.add(item)
                    users.setdefault(user, len(users))
                    continue
                rows.append(users.setdefault(user, len(users)))
                cols.append(position[item])
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise CommandError(f"cannot read --history {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"--history {path} is not a text CSV file.") from None
    if not users:
        raise CommandError(f"--history {path} holds no 'user,item' row.")
    if unknown:
        unknown = sorted(unknown)
        _say(
            f"warning: {len(unknown)} item id(s) of the history are unknown to the model and "
            f"ignored: {_first_few(unknown)}"
        )
    X = sp.csr_array(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(item_ids))
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    names = list(users)
    empty = [names[u] for u in np.flatnonzero(np.diff(X.indptr) == 0)]
    if empty:
        _say(
            f"warning: {len(empty)} user(s) have no item known to the model ({_first_few(empty)}); "
            "their lists are what the model gives an empty history (close to the most popular "
            "items), not personalized"
        )
    return names, X


def _first_few(values, shown=5):
    text = ", ".join(str(v) for v in values[:shown])
    return text + (f" and {len(values) - shown} more" if len(values) > shown else "")


def _read_item_names(path):
    """{item id as str: name} from --item-names.

    A MovieLens folder or movies file (``u.item``, ``movies.dat``,
    ``movies.csv``), else a CSV whose first column is the item id and second
    the name (a header line is allowed).
    """
    from pathlib import Path

    from .datasets._loaders import _read_movies_csv, _read_movies_dat, _read_u_item

    path = Path(path)
    if path.is_dir():
        for name in ("movies.csv", "movies.dat", "u.item"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise CommandError(f"--item-names {path} is a folder without movies.csv, movies.dat or u.item.")
    if not path.is_file():
        raise CommandError(f"--item-names {path} does not exist.")
    readers = {"movies.csv": _read_movies_csv, "movies.dat": _read_movies_dat}
    if path.name == "u.item":
        movies, _ = _read_u_item(path.parent)
    elif path.name in readers:
        movies, _ = readers[path.name](path)
    else:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = [row for row in csv.reader(fh) if row]
        except UnicodeDecodeError:
            raise CommandError(f"--item-names {path} is not a UTF-8 CSV file.") from None
        bad = next((number for number, row in enumerate(rows, start=1) if len(row) < 2), None)
        if bad is not None:
            raise CommandError(f"{path}, line {bad}: expected 'item,name'.")
        return {row[0].strip(): row[1].strip() for row in rows}
    return {str(movie): title for movie, (title, _) in movies.items()}


def _item_titles(args, bundle, item_ids):
    """Titles aligned with item_ids (None where unknown), or None without any."""
    if args.item_names:
        names = _read_item_names(args.item_names)
        titles = np.array([names.get(str(item)) for item in item_ids.tolist()], dtype=object)
        if all(title is None for title in titles):
            raise CommandError(f"--item-names {args.item_names} names none of the model's item ids.")
        return titles
    titles = bundle.get("item_titles")
    return None if titles is None else np.asarray(titles, dtype=object)


def _cmd_recommend(args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bundle = joblib.load(args.model)
    except FileNotFoundError:
        raise CommandError(f"--model {args.model} does not exist.") from None
    except Exception:  # joblib raises many kinds on a foreign file
        raise CommandError(f"--model {args.model} is not a model saved by 'swdae fit'.") from None
    if not isinstance(bundle, dict) or bundle.get("kind") != _MODEL_FILE_KIND:
        raise CommandError(f"--model {args.model} is not a model saved by 'swdae fit'.")
    if bundle["version"] != __version__:
        _say(f"warning: model saved by sklearn-swdae {bundle['version']}, running {__version__}")
    model, item_ids = bundle["model"], np.asarray(bundle["item_ids"])
    titles = _item_titles(args, bundle, item_ids)
    users, X = _read_history(args.history, item_ids)
    top_n = args.top_n
    if not 1 <= top_n <= len(item_ids):
        raise CommandError(f"--top-n must be between 1 and the number of items ({len(item_ids)}), got {top_n}.")
    items, scores = model.recommend(X, top_n=top_n, return_scores=True)
    fields = ["user", "rank", "item", "score"] + ([] if titles is None else ["title"])
    records = []
    for user, row, row_scores in zip(users, items, scores):
        for rank, (j, score) in enumerate(zip(row, row_scores)):
            if j >= len(item_ids):  # padding: the user has no more unseen items
                break
            item = item_ids[j]
            item = item.item() if isinstance(item, np.generic) else item
            record = {"user": user, "rank": rank + 1, "item": item, "score": float(score)}
            if titles is not None:
                record["title"] = titles[j] if titles[j] is not None else ""
            records.append(record)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.output_format == "json":
            json.dump(records, out, indent=1)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(records)
    finally:
        if out is not sys.stdout:
            out.close()


# --------------------------------------------------------------------------
# Parser


def _add_model_options(parser):
    group = parser.add_argument_group(
        "model (defaults: 'auto', rules of the data's shape, see sklearn_swdae.defaults; "
        "--paper for the paper's settings)"
    )
    group.add_argument(
        "--paper", action="store_true",
        help="the paper's settings (section 4.3): R = 0.1 K, F = 50, batch 500, learning rate 1e-3, "
        "100 epochs, K = --n-clusters or 1000; overrides the training options below",
    )
    group.add_argument(
        "--n-clusters", type=_count_or_auto, default="auto",
        help="K, hidden units: an int or 'auto' (0.75 per item; default auto)",
    )
    group.add_argument(
        "--overlap", type=_overlap, default="auto",
        help="R, links per item: an int, a fraction of K with a decimal point (0.1), or 'auto' "
        "(at least 300, growing with the users; default auto)",
    )
    group.add_argument(
        "--n-components", type=_count_or_auto, default="auto",
        help="F, embedding dimension: an int or 'auto' (50, capped by the data; default auto)",
    )
    group.add_argument(
        "--method", choices=["laplacian", "svd"], default="laplacian",
        help="item embedding: spectral (Algorithm 1) or truncated SVD (Algorithm 2) (default laplacian)",
    )
    group.add_argument(
        "--loss", choices=["multinomial", "bernoulli"], default="multinomial",
        help="training loss (default multinomial)",
    )
    group.add_argument("--learning-rate", type=float, default=1e-3, help="Adam step size (default %(default)g)")
    group.add_argument(
        "--batch-size", type=_count_or_auto, default="auto",
        help="users per training batch: an int or 'auto' (about 40 steps per epoch, 32 to 500; default auto)",
    )
    group.add_argument("--max-iter", type=int, default=100, help="epochs (default %(default)s)")
    group.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    group.add_argument(
        "--seed", type=int, default=0, help="random seed of the item groups and the training (default 0)"
    )
    group.add_argument(
        "--verbose", type=int, default=1,
        help="1: one progress line per epoch of every model (stderr); 0: only one line per model",
    )


def _add_data_options(parser):
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=True, help="file or folder")
    group.add_argument(
        "--format", required=True, choices=_FORMATS,
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
        "--min-rating", type=float, default=None,
        help="keep ratings at or above this value (default: the preset's: 4 for ml-20m and netflix, none for msd)",
    )
    group.add_argument(
        "--min-user-items", type=int, default=None,
        help="drop users with fewer interactions than this (default: the preset's: 5, 20 for msd)",
    )
    group.add_argument(
        "--min-item-users", type=int, default=None,
        help="drop items with fewer users than this (default: the preset's: 200 for msd, else none)",
    )


def _add_protocol_options(parser):
    group = parser.add_argument_group("protocol")
    group.add_argument(
        "--heldout-users", type=_count_or_fraction, default=0.1,
        help="validation and test users each: a count or a fraction (default 0.1)",
    )
    group.add_argument(
        "--split-seed", type=int, default=98765,
        help="random seed of the choice of validation and test users (default %(default)s)",
    )
    group.add_argument(
        "--baselines", nargs="*", choices=sorted(_BASELINES), default=["popularity"],
        help="models to compare with SW-DAE, untuned defaults (default: popularity; demo: "
        + ", ".join(_DEMO_BASELINES) + "; wmf needs the optional implicit package)",
    )


def _overlap(text):
    if text == "auto":
        return text
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() and "." not in text else value


def _count_or_auto(text):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int or 'auto', got {text!r}") from None


def _count_or_fraction(text):
    value = float(text)
    return int(value) if value >= 1 else value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="swdae",
        description="SW-DAE: sparse and wide denoising-autoencoder recommenders (Khawar et al., WWW 2020).",
    )
    parser.add_argument("--version", action="version", version=f"sklearn-swdae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_models = (
        f"SW-DAE ({_DEMO_SETTINGS['max_iter']} epochs) and "
        + ", ".join(_BASELINES[key][0] for key in _DEMO_BASELINES)
    )
    demo = sub.add_parser(
        "demo",
        help=f"train {demo_models} on generated data; print their test metrics",
        description=(
            f"Generate users and items with planted overlapping item groups, train {demo_models} "
            "on the training users, and print recall@20, recall@50 and NDCG@100 of the test "
            "users (the paper's strong-generalization protocol).  Progress goes to stderr."
        ),
    )
    demo.add_argument("--users", type=int, default=6000, help="users to generate (default %(default)s)")
    demo.add_argument("--items", type=int, default=1000, help="items to generate (default %(default)s)")
    demo.add_argument(
        "--groups", type=int, default=40, help="planted overlapping item groups (default %(default)s)"
    )
    _add_model_options(demo)
    _add_protocol_options(demo)
    demo.set_defaults(func=_cmd_demo, baselines=_DEMO_BASELINES, **_DEMO_SETTINGS)

    fit = sub.add_parser("fit", help="train on your data and save the model")
    _add_data_options(fit)
    _add_model_options(fit)
    fit.add_argument("--out", required=True, help="model file to write (joblib)")
    fit.set_defaults(func=_cmd_fit)

    evaluate = sub.add_parser(
        "evaluate", help="train SW-DAE and --baselines on your data; print their test metrics (the paper's protocol)"
    )
    _add_data_options(evaluate)
    _add_model_options(evaluate)
    _add_protocol_options(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    recommend = sub.add_parser("recommend", help="top-N recommendations from a saved model")
    recommend.add_argument("--model", required=True, help="file written by 'swdae fit'")
    recommend.add_argument("--history", required=True, help="CSV of user,item rows (original ids)")
    recommend.add_argument("--top-n", type=int, default=100, help="items per user (default %(default)s)")
    recommend.add_argument(
        "--item-names",
        default=None,
        help="item titles to print next to the ids: a MovieLens folder or its movies.csv, "
        "movies.dat or u.item, or a CSV of item,name rows (default: the titles 'swdae fit' "
        "saved, for MovieLens data)",
    )
    recommend.add_argument(
        "--output-format", choices=["csv", "json"], default="csv",
        help="user,rank,item,score rows as CSV or a JSON list (default csv)",
    )
    recommend.add_argument("--output", default=None, help="file to write (default: stdout)")
    recommend.set_defaults(func=_cmd_recommend)
    return parser


def main(argv=None):
    """Entry point of the ``swdae`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (CommandError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "the command failed without a message"
        print(f"swdae: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("swdae: interrupted", file=sys.stderr)
        return 130
    return 0
