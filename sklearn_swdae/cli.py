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

from ._commands import BASELINES, DEMO_BASELINES, DEMO_SETTINGS, cmd_demo, cmd_evaluate, cmd_fit, run_command
from ._options import add_data_options, add_model_options, add_protocol_options
from ._recommend_command import cmd_recommend
from ._version import __version__

__all__ = ["main"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="swdae",
        description="SW-DAE: sparse and wide denoising-autoencoder recommenders (Khawar et al., WWW 2020).",
    )
    parser.add_argument("--version", action="version", version=f"sklearn-swdae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_models = f"SW-DAE ({DEMO_SETTINGS['max_iter']} epochs) and " + ", ".join(
        BASELINES[key][0] for key in DEMO_BASELINES
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
    demo.add_argument("--groups", type=int, default=40, help="planted overlapping item groups (default %(default)s)")
    add_model_options(demo)
    add_protocol_options(demo)
    demo.set_defaults(func=cmd_demo, baselines=DEMO_BASELINES, **DEMO_SETTINGS)

    fit = sub.add_parser("fit", help="train on your data and save the model")
    add_data_options(fit)
    add_model_options(fit)
    fit.add_argument("--out", required=True, help="model file to write (joblib)")
    fit.set_defaults(func=cmd_fit)

    evaluate = sub.add_parser(
        "evaluate", help="train SW-DAE and --baselines on your data; print their test metrics (the paper's protocol)"
    )
    add_data_options(evaluate)
    add_model_options(evaluate)
    add_protocol_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

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
        "--output-format",
        choices=["csv", "json"],
        default="csv",
        help="user,rank,item,score rows as CSV or a JSON list (default csv)",
    )
    recommend.add_argument("--output", default=None, help="file to write (default: stdout)")
    recommend.set_defaults(func=cmd_recommend)
    return parser


def main(argv=None):
    """Entry point of the ``swdae`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(lambda: args.func(args))
