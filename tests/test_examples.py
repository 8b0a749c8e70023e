"""The example scripts run end to end (in their fast mode)."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs_and_reports_both_models(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["quickstart.py", "--fast"])
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "ItemGrouper: K=40 groups" in out
    rows = {
        line.split()[0]: [float(v) for v in line.split()[1:]]
        for line in out.splitlines()
        if line.startswith(("SW-DAE ", "Popularity "))
    }
    assert set(rows) == {"SW-DAE", "Popularity"}
    assert all(0.0 <= v <= 1.0 for values in rows.values() for v in values)
    assert sum(line.startswith("test user ") for line in out.splitlines()) == 2


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_gallery_docstring(script):
    source = (EXAMPLES / script).read_text()
    assert source.startswith('"""'), f"{script} needs a sphinx-gallery title docstring"


# --- The analysis examples (stacked SW-DAE, diagnostics, sweeps) -----------

ANALYSIS_EXAMPLES = {
    "plot_width_sweep.py": ["SW-DAE ", "FC-DAE ", "Mult-DAE ", "Mult-VAE "],
    "plot_sparsity_sweep.py": ["  0.031", "  1.000"],
    "plot_generalization.py": ["SW-DAE: 1082 parameters", "FC-DAE: 9782 parameters"],
    "plot_stacked.py": ["hidden layers 32 - 16 - 8", "masks [(32, 150), (16, 32), (8, 16)]"],
}


@pytest.mark.parametrize("script", sorted(ANALYSIS_EXAMPLES))
def test_analysis_example_runs_fast_and_saves_its_figure(script, monkeypatch, capsys, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output = tmp_path / "figure.png"
    monkeypatch.setattr(sys, "argv", [script, "--fast", "--output", str(output)])
    try:
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    finally:
        plt.close("all")
    out = capsys.readouterr().out
    for expected in ANALYSIS_EXAMPLES[script]:
        assert expected in out, f"{script} did not print {expected!r}"
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run_example(monkeypatch, capsys, script, *argv):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setattr(sys, "argv", [script, "--fast", *argv])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    return capsys.readouterr().out


def test_cold_start_example_compares_the_models_on_short_histories(monkeypatch, capsys, tmp_path):
    out_png = tmp_path / "cold_start.png"
    out = _run_example(monkeypatch, capsys, "plot_cold_start.py", "--out", str(out_png))
    assert out_png.stat().st_size > 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("fold-in <="))
    assert lines[header].split()[-4:] == ["SW-DAE", "Mult-DAE", "Mult-VAE", "Popularity"]
    block = lines[lines.index("ndcg@100") + 1 :]
    rows = [line.split() for line in block if line.strip() and line.split()[0].isdigit()]
    thresholds, n_users = [int(r[0]) for r in rows], [int(r[1]) for r in rows]
    assert thresholds == sorted(thresholds) and n_users == sorted(n_users) and len(rows) >= 2
    means = [float(v) for r in rows for v in r[2::3]]
    assert all(0.0 <= v <= 1.0 for v in means)


def test_item_groups_genres_example_describes_units_and_explains(monkeypatch, capsys, tmp_path):
    out_png = tmp_path / "genres.png"
    out = _run_example(monkeypatch, capsys, "plot_item_groups_genres.py", "--out", str(out_png))
    assert out_png.stat().st_size > 0
    table = [
        row
        for row in (line.split() for line in out.splitlines())
        if row[:1] == ["genre"] and row[1].isdigit() and "%" in " ".join(row)
    ]
    assert len(table) == 4
    # The synthetic genres are the planted groups: each described genre's
    # best unit lists that genre first.
    for row in table:
        assert row[4:6] == row[0:2]
    assert "top recommendation" in out
    assert sum(line.startswith("  unit ") for line in out.splitlines()) >= 1
