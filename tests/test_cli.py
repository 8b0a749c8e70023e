"""The swdae command line, run in-process on small files."""

import argparse
import json
import re
import subprocess
import sys
import time

import joblib
import pytest

from sklearn_swdae import EASERecommender, _commands
from sklearn_swdae.cli import build_parser, main
from sklearn_swdae.datasets import make_interactions

SMALL_MODEL = [
    "--n-clusters",
    "8",
    "--overlap",
    "2",
    "--n-components",
    "4",
    "--max-iter",
    "2",
    "--device",
    "cpu",
    "--verbose",
    "0",
]


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    """An interaction log with string user ids and sparse integer item ids."""
    X, _ = make_interactions(300, 40, 4, density=0.15, random_state=0)
    path = tmp_path_factory.mktemp("data") / "log.csv"
    rows, cols = X.nonzero()
    with open(path, "w") as fh:
        fh.write("user,item,rating\n")
        for u, i in zip(rows, cols):
            fh.write(f"u{u},{1000 + 7 * i},5\n")
    return path


def _table_rows(out):
    return [line for line in out.splitlines() if "±" in line and not line.startswith("Test")]


def test_demo_prints_a_results_table_and_says_how_far_it_is(capsys):
    assert main(["demo", "--users", "600", "--items", "80", "--groups", "4", *SMALL_MODEL, "--verbose", "1"]) == 0
    captured = capsys.readouterr()
    names = ["SW-DAE", "Popularity", "EASE", "FC-DAE", "Mult-DAE", "Mult-VAE"]
    assert [line.split()[0] for line in _table_rows(captured.out)] == names
    assert "ndcg@100" in captured.out
    # What is being trained, which of how many models, and which epoch of how many.
    for number, name in enumerate(names, start=1):
        assert f"[{number}/6] fitting {name}" in captured.err
        if name not in ("Popularity", "EASE"):
            assert f"{name} epoch 2/2" in captured.err
    assert "epoch" not in captured.out


def test_results_on_stdout_progress_on_stderr(log_csv, capsys):
    # `swdae evaluate ... > results.txt` must hold only the table.
    args = [
        "evaluate",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--heldout-users",
        "30",
        "--baselines",
        "popularity",
        "multvae",
        *SMALL_MODEL,
        "--verbose",
        "1",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("Test users (30), mean ± standard error")
    assert lines[1].split() == ["model", "recall@20", "recall@50", "ndcg@100"]
    assert [line.split()[0] for line in lines[2:]] == ["SW-DAE", "Popularity", "Mult-VAE"]
    for expected in ("reading", "fitting SW-DAE", "SW-DAE epoch 1/2", "Mult-VAE epoch 2/2", "Mult-VAE trained in"):
        assert expected in captured.err


def test_a_quiet_model_gets_still_training_lines(log_csv, capsys, monkeypatch):
    monkeypatch.setattr(_commands, "HEARTBEAT_S", 0.05)
    said = []
    say = _commands.say
    monkeypatch.setattr(_commands, "say", lambda message: (said.append(message), say(message)))
    fit = EASERecommender.fit

    def quiet_fit(self, X, y=None):
        # A fit without epochs that lasts until the heartbeat has spoken.
        deadline = time.monotonic() + 60
        while not any("EASE: still training" in m for m in said) and time.monotonic() < deadline:
            time.sleep(0.01)
        return fit(self, X, y)

    monkeypatch.setattr(EASERecommender, "fit", quiet_fit)
    args = [
        "evaluate",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--heldout-users",
        "30",
        "--baselines",
        "ease",
        *SMALL_MODEL,
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert re.search(r"EASE: still training, \d+s so far", captured.err)
    assert "still training" not in captured.out


def test_fit_then_recommend_with_original_ids(tmp_path, log_csv, capsys):
    model = tmp_path / "model.joblib"
    args = [
        "fit",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--out",
        str(model),
        *SMALL_MODEL,
    ]
    assert main(args + ["--verbose", "1"]) == 0
    # The saved model holds no object of the command line (its progress printer).
    assert joblib.load(model)["model"].callbacks is None
    history = tmp_path / "history.csv"
    history.write_text("user,item\nalice,1000\nalice,1007\nbob,1014\nbob,999999\n")
    capsys.readouterr()
    assert main(["recommend", "--model", str(model), "--history", str(history), "--top-n", "5"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0] == "user,rank,item,score" and len(lines) == 11
    recommended = {(line.split(",")[0], int(line.split(",")[2])) for line in lines[1:]}
    assert ("alice", 1000) not in recommended and ("alice", 1007) not in recommended
    assert all((item - 1000) % 7 == 0 for _, item in recommended)  # original ids
    assert "unknown" in captured.err  # item 999999

    out = tmp_path / "recs.json"
    assert (
        main(
            [
                "recommend",
                "--model",
                str(model),
                "--history",
                str(history),
                "--top-n",
                "3",
                "--output-format",
                "json",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    records = json.loads(out.read_text())
    assert [r["rank"] for r in records if r["user"] == "bob"] == [1, 2, 3]


def test_evaluate_on_a_log(log_csv, capsys):
    args = [
        "evaluate",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--heldout-users",
        "30",
        "--baselines",
        "popularity",
        "ease",
        *SMALL_MODEL,
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert {line.split()[0] for line in out.splitlines() if "±" in line and not line.startswith("Test")} == {
        "SW-DAE",
        "Popularity",
        "EASE",
    }
    row = [line for line in out.splitlines() if line.startswith("SW-DAE")][0]
    values = [float(cell.split("±")[0]) for cell in row.split()[1:]]
    assert len(values) == 3 and all(0 <= v <= 1 for v in values)


def test_evaluate_compares_with_every_listed_baseline(log_csv, capsys):
    # Each model of the paper's comparison is reachable from the command line.
    names = {"cdae": "CDAE", "fc-prune": "FC-Prune", "fc-reg": "FC-reg", "slim": "SLIM", "wmf": "WMF"}
    pytest.importorskip("implicit")
    args = [
        "evaluate",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--heldout-users",
        "30",
        "--baselines",
        *names,
        *SMALL_MODEL,
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0] for line in out.splitlines() if "±" in line and not line.startswith("Test")}
    assert rows == {"SW-DAE", *names.values()}


def test_missing_wmf_package_fails_before_training(log_csv, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "implicit", None)  # makes ``import implicit`` fail
    args = [
        "evaluate",
        "--data",
        str(log_csv),
        "--format",
        "csv",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--heldout-users",
        "30",
        "--baselines",
        "wmf",
        *SMALL_MODEL,
    ]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "--baselines wmf needs the optional 'implicit' package" in captured.err
    assert "fitting" not in captured.err + captured.out  # nothing was trained


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("user,item\nu1\n", "line"),
    ],
)
def test_bad_files_fail_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code = main(
        ["evaluate", "--data", str(path), "--format", "csv", "--user-col", "user", "--item-col", "item", *SMALL_MODEL]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("swdae: error:") and message in err[-1].lower()
    assert "Traceback" not in "\n".join(err)


def test_missing_paths_fail_with_one_line(tmp_path, capsys):
    code = main(
        [
            "fit",
            "--data",
            str(tmp_path / "nope"),
            "--format",
            "movielens",
            "--out",
            str(tmp_path / "m.joblib"),
            *SMALL_MODEL,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("swdae: error:")
    code = main(["recommend", "--model", str(tmp_path / "nope.joblib"), "--history", "x.csv"])
    assert code == 2 and "does not exist" in capsys.readouterr().err
    not_a_model = tmp_path / "junk.joblib"
    not_a_model.write_bytes(b"not a pickle")
    code = main(["recommend", "--model", str(not_a_model), "--history", "x.csv"])
    assert code == 2 and "not a model saved by 'swdae fit'" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"user,item\n1,2\n", b"not a pickle", b"\x80\x04K\x01."])
def test_foreign_model_file_message_names_no_exception_class(tmp_path, capsys, content):
    path = tmp_path / "notamodel.txt"
    path.write_bytes(content)
    assert main(["recommend", "--model", str(path), "--history", "x.csv"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"swdae: error: --model {path} is not a model saved by 'swdae fit'."


def test_unknown_format_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--data", "x", "--format", "xlsx"])
    assert exc.value.code == 2
    assert "invalid choice: 'xlsx'" in capsys.readouterr().err


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "sklearn_swdae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("demo", "fit", "evaluate", "recommend"):
        assert command in result.stdout


def _all_parsers():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [("swdae", parser), *subparsers.choices.items()]


@pytest.mark.parametrize("name, parser", _all_parsers(), ids=[name for name, _ in _all_parsers()])
def test_every_option_has_help(name, parser):
    for action in parser._actions:
        if action.option_strings:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings)


def test_help_says_what_demo_runs(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    demo = out[out.index("demo") : out.index(" fit ")]
    for model in ("SW-DAE", "Popularity", "EASE", "FC-DAE", "Mult-DAE", "Mult-VAE", "generated data"):
        assert model in demo


def test_fit_options_default_to_the_models_own_training():
    from sklearn_swdae import SparseWideDAERecommender
    from sklearn_swdae._commands import BASELINES, make_model

    args = build_parser().parse_args(["fit", "--data", "x", "--format", "csv", "--out", "m"])
    model, package = make_model(args), SparseWideDAERecommender()
    assert (model.learning_rate, model.average_half_life) == (package.learning_rate, package.average_half_life)
    assert model.n_iter_no_change == package.n_iter_no_change == 20
    # The baselines keep their own learning rate too.
    mult_dae = BASELINES["multdae"][1](args, 10)
    assert mult_dae.learning_rate == type(mult_dae)().learning_rate

    args = build_parser().parse_args(
        ["fit", "--data", "x", "--format", "csv", "--out", "m", "--learning-rate", "0.01", "--average-half-life", "off"]
    )
    model = make_model(args)
    assert (model.learning_rate, model.average_half_life) == (0.01, None)
    assert BASELINES["multdae"][1](args, 10).learning_rate == 0.01
    args = build_parser().parse_args(
        ["fit", "--data", "x", "--format", "csv", "--out", "m", "--average-half-life", "0.5", "--paper"]
    )
    assert make_model(args).average_half_life is None  # --paper: the paper's trained weights
    args = build_parser().parse_args(
        ["fit", "--data", "x", "--format", "csv", "--out", "m", "--average-half-life", "0.5"]
    )
    assert make_model(args).average_half_life == 0.5
    for value, expected in [("off", None), ("5", 5)]:
        args = build_parser().parse_args(
            ["fit", "--data", "x", "--format", "csv", "--out", "m", "--n-iter-no-change", value]
        )
        assert make_model(args).n_iter_no_change == expected
    args = build_parser().parse_args(
        ["fit", "--data", "x", "--format", "csv", "--out", "m", "--n-iter-no-change", "5", "--paper"]
    )
    assert make_model(args).n_iter_no_change is None  # --paper: every epoch


def test_hidden_dropout_option():
    from sklearn_swdae._commands import make_model

    def model(*options):
        return make_model(build_parser().parse_args(["fit", "--data", "x", "--format", "csv", "--out", "m", *options]))

    assert model().hidden_dropout == "auto"
    assert model("--hidden-dropout", "0.35").hidden_dropout == 0.35
    assert model("--hidden-dropout", "0").hidden_dropout == 0.0
    assert model("--hidden-dropout", "0.35", "--paper").hidden_dropout == 0.2  # the paper's


@pytest.mark.parametrize("value", ["1", "-0.1", "nan", "half"])
def test_bad_hidden_dropout_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["fit", "--data", "x", "--format", "csv", "--out", "m", "--hidden-dropout", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--hidden-dropout" in err and "rate in [0, 1) or 'auto'" in err


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "none"])
def test_bad_n_iter_no_change_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--data", "x", "--format", "csv", "--out", "m", "--n-iter-no-change", value])
    err = capsys.readouterr().err
    assert "--n-iter-no-change" in err and "positive whole number of epochs or 'off'" in err


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "none", "abc"])
def test_bad_average_half_life_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["fit", "--data", "x", "--format", "csv", "--out", "m", "--average-half-life", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--average-half-life" in err and "positive number of epochs or 'off'" in err
