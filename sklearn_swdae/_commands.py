"""The steps of the command-line programs, shared by ``swdae`` and ``sklearn_swdae.distributed``.

Reading and preprocessing the data, building SW-DAE from the options,
fitting it with progress lines on stderr, the evaluation protocol against
the baselines, writing the model file, and turning the errors of a user's
input into one line and an exit status.  :mod:`sklearn_swdae.cli` parses the
arguments and dispatches here; :mod:`sklearn_swdae.distributed` runs the
same steps on every rank.
"""

import sys
import threading
import time

import joblib
import numpy as np

from . import autoencoders
from ._version import __version__
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
from .training import Callback, epoch_summary

FORMATS = ("movielens", "netflix", "msd", "csv", "tsv", "parquet")
# The paper's preprocessing for each format; a generic log is kept as is.
DEFAULT_PRESET = {"movielens": "ml-20m", "netflix": "netflix", "msd": "msd"}
METRICS = ("recall@20", "recall@50", "ndcg@100")
MODEL_FILE_KIND = "sklearn-swdae model"


class CommandError(Exception):
    """An error in the user's input, reported as one line."""


# Seconds of silence after which a training model gets a "still training" line.
HEARTBEAT_S = 15.0
_last_said = time.monotonic()


def say(message):
    """A progress or log line: stderr, so that stdout holds only the results."""
    global _last_said
    print(message, file=sys.stderr, flush=True)
    _last_said = time.monotonic()


class EpochProgress(Callback):
    """One stderr line per epoch of a model trained by the command line."""

    def __init__(self, name):
        self.name = name
        self.runs = 0

    def on_train_begin(self, engine):
        self.runs += 1
        if self.runs > 1:  # FC-Prune retrains after pruning
            say(f"  {self.name}: training run {self.runs}, {engine.max_iter} epochs")

    def on_epoch_end(self, engine, record):
        epoch = f"  {self.name} epoch {record['epoch']}/{engine.max_iter}"
        say("  ".join([epoch, *epoch_summary(record), f"{record['dur']:.1f}s"]))


class Heartbeat:
    """While a model fits, a stderr line whenever nothing was said for ``HEARTBEAT_S`` s.

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
        while not self._stop.wait(min(1.0, HEARTBEAT_S)):
            if time.monotonic() - _last_said >= HEARTBEAT_S:
                say(f"  {self.name}: still training, {time.perf_counter() - self._tic:.0f}s so far")

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------
# Data


def load_data(args):
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
        bunch = load_interactions(args.data, args.user_col, args.item_col, args.rating_col, format=fmt)
    return bunch


def load_preprocessed(args):
    """The preprocessed dataset: a Bunch with ``data``, ``user_ids``, ``item_ids``."""
    say(f"reading {args.data} ({args.format}) ...")
    tic = time.perf_counter()
    bunch = load_data(args)
    preset = args.preset if args.preset != "auto" else DEFAULT_PRESET.get(args.format)
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
    say(
        f"{X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions after preprocessing "
        f"(preset {preset or 'none'}) in {time.perf_counter() - tic:.1f}s"
    )
    return dataset


# --------------------------------------------------------------------------
# Model


def make_model(args):
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
        hidden_dropout=args.hidden_dropout,
        batch_size=args.batch_size,
        max_iter=args.max_iter,
        **_learning_rate(args),
    )
    if args.average_half_life is not None:
        training["average_half_life"] = None if args.average_half_life == "off" else args.average_half_life
    if args.n_iter_no_change is not None:
        training["n_iter_no_change"] = None if args.n_iter_no_change == "off" else args.n_iter_no_change
    if args.paper:
        paper = paper_settings(
            n_clusters=1000 if args.n_clusters == "auto" else args.n_clusters,
            n_components=50 if args.n_components == "auto" else args.n_components,
        )
        grouper = paper.pop("grouper").set_params(method=args.method, random_state=args.seed)
        training = paper
    return autoencoders.SparseWideDAERecommender(
        grouper=grouper,
        **training,
        device=args.device,
        random_state=args.seed,
        # Epoch lines go to stderr through EpochProgress, not to stdout.
        callbacks=[EpochProgress("SW-DAE")] if args.verbose else None,
    )


def fit_model(model, X, stage=""):
    say(
        f"{stage}fitting SW-DAE: K={model.grouper.n_clusters}, R={model.grouper.overlap}, "
        f"F={model.grouper.n_components}, batch {model.batch_size}, {model.max_iter} epochs"
        + (f" (patience {model.n_iter_no_change})" if model.n_iter_no_change else "")
        + " ..."
    )
    tic = time.perf_counter()
    with Heartbeat("SW-DAE"):
        model.fit(X)
    # The progress lines belong to this run, not to the model (which fit saves).
    model.set_params(callbacks=None)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in model.grouper_.timings_.items())
    grouper = model.grouper_
    say(
        f"  SW-DAE trained in {time.perf_counter() - tic:.1f}s on {model.device_} (grouping: {timings}); "
        f"K={grouper.n_clusters_}, R={grouper.overlap_}, F={grouper.n_components_}, "
        f"batch {model.batch_size_}, hidden dropout {model.hidden_dropout_:g}; "
        f"best epoch {model.best_epoch_} of {model.n_iter_}"
    )
    return model


def results_table(models, fold_in, held_out):
    lines = [f"{'model':<14}" + "".join(f"{m:>14}" for m in METRICS)]
    for name, model in models.items():
        results = evaluate_rankings(model.decision_function, fold_in, held_out, METRICS)
        cells = []
        for metric in METRICS:
            values = results[metric][~np.isnan(results[metric])]
            se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
            cells.append(f"{values.mean():>8.4f}±{se:.3f}")
        lines.append(f"{name:<14}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


# Baselines for the comparison table; the autoencoders get the same training
# budget (epochs, batch size) as SW-DAE and their own learning rate unless
# --learning-rate is given; nothing is tuned.
BASELINES = {
    "popularity": ("Popularity", lambda args, K: PopularityRecommender()),
    "ease": ("EASE", lambda args, K: EASERecommender()),
    "fcdae": ("FC-DAE", lambda args, K: autoencoders.FCDAERecommender(n_hidden=K, **training_options(args))),
    "multdae": ("Mult-DAE", lambda args, K: autoencoders.MultDAERecommender(**training_options(args))),
    "multvae": ("Mult-VAE", lambda args, K: autoencoders.MultVAERecommender(**training_options(args))),
    "cdae": ("CDAE", lambda args, K: autoencoders.CDAERecommender(**training_options(args))),
    "fc-prune": ("FC-Prune", lambda args, K: autoencoders.PrunedDAERecommender(n_hidden=K, **training_options(args))),
    "fc-reg": (
        "FC-reg",
        lambda args, K: autoencoders.FCDAERecommender(n_hidden=K, activity_l1=1e-3, **training_options(args)),
    ),
    "slim": ("SLIM", lambda args, K: SLIMRecommender()),
    # Needs the optional ``implicit`` package (the ``wmf`` extra).  Every
    # core, as before WMF's n_jobs=None came to mean one thread.
    "wmf": ("WMF", lambda args, K: WMFRecommender(n_jobs=-1)),
}
# The demo compares with the models that train in seconds on its data and
# need no optional package.
DEMO_BASELINES = ["popularity", "ease", "fcdae", "multdae", "multvae"]
# A short demo: the defaults, with fewer epochs.
DEMO_SETTINGS = {"max_iter": 20}


def training_options(args):
    return dict(
        batch_size=args.batch_size,
        max_iter=args.max_iter,
        device=args.device,
        random_state=args.seed,
        **_learning_rate(args),
    )


def _learning_rate(args):
    """``--learning-rate`` when given; otherwise each model keeps its own default."""
    return {} if args.learning_rate is None else {"learning_rate": args.learning_rate}


def check_baselines(baselines):
    """Fail before any training when a requested baseline's package is missing."""
    if "wmf" in baselines:
        try:
            import implicit  # noqa: F401
        except ImportError:
            raise CommandError(
                "--baselines wmf needs the optional 'implicit' package: "
                "pip install 'sklearn-swdae[wmf]' (or pip install implicit)."
            ) from None


def run_protocol(X, args):
    """Split X's users, fit SW-DAE and the baselines, print the test users' table."""
    check_baselines(args.baselines)
    split = strong_generalization_split(
        X, n_validation=args.heldout_users, n_test=args.heldout_users, random_state=args.split_seed
    )
    say(
        f"strong generalization: {split.train.shape[0]} training users, "
        f"{split.validation_users.size} validation and {split.test_users.size} test users "
        "(80/20 fold-in / held-out)"
    )
    baselines = list(dict.fromkeys(args.baselines))
    n_models = 1 + len(baselines)
    model = fit_model(make_model(args), split.train, stage=f"[1/{n_models}] ")
    models = {"SW-DAE": model}
    for number, key in enumerate(baselines, start=2):
        name, make = BASELINES[key]
        baseline = make(args, model.connectivity_.shape[0])
        epochs = "callbacks" in baseline.get_params()
        say(f"[{number}/{n_models}] fitting {name}" + (f", {baseline.max_iter} epochs" if epochs else "") + " ...")
        if epochs and args.verbose:
            baseline.set_params(callbacks=[EpochProgress(name)])
        tic = time.perf_counter()
        with Heartbeat(name):
            models[name] = baseline.fit(split.train)
        say(f"  {name} trained in {time.perf_counter() - tic:.1f}s")
    say("scoring the test users ...")
    table = results_table(models, split.test_fold_in, split.test_held_out)
    print(f"Test users ({split.test_users.size}), mean ± standard error (baselines untuned):")
    print(table)


# --------------------------------------------------------------------------
# Commands


def cmd_demo(args):
    say(
        f"generating {args.users} users x {args.items} items with {args.groups} planted "
        "overlapping item groups (sklearn_swdae.datasets.make_interactions) ..."
    )
    X, _ = make_interactions(args.users, args.items, args.groups, density=0.05, noise=0.05, random_state=args.seed)
    run_protocol(X, args)


def cmd_evaluate(args):
    X = load_preprocessed(args).data
    run_protocol(X, args)


def cmd_fit(args):
    dataset = load_preprocessed(args)
    X = dataset.data
    model = fit_model(make_model(args), X)
    save_model(model, dataset.item_ids, args.out, dataset.get("item_titles"))


def save_model(model, item_ids, path, item_titles=None):
    """Write the model file that ``swdae recommend`` reads."""
    bundle = {
        "kind": MODEL_FILE_KIND,
        "version": __version__,
        "model": model,
        "item_ids": np.asarray(item_ids),
        # Titles of the items (MovieLens); recommend prints them.
        "item_titles": None if item_titles is None else np.asarray(item_titles, dtype=object),
    }
    joblib.dump(bundle, path)
    say(f"saved to {path}")


# --------------------------------------------------------------------------
# Errors

#: Errors in the user's input: reported as one line with exit status 2.
USER_ERRORS = (CommandError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError)


def run_command(command, *, label="error"):
    """Run ``command()`` and return the exit status of the program.

    An error of :data:`USER_ERRORS` becomes one ``swdae: <label>: ...`` line
    on stderr and status 2, never a traceback; an interrupt status 130.
    """
    try:
        command()
    except USER_ERRORS as exc:
        text = str(exc).strip()
        message = text.splitlines()[0] if text else "the command failed without a message"
        print(f"swdae: {label}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("swdae: interrupted", file=sys.stderr)
        return 130
    return 0
