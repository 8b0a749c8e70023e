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
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()
            if line.startswith(("SW-DAE ", "Popularity "))}
    assert set(rows) == {"SW-DAE", "Popularity"}
    assert all(0.0 <= v <= 1.0 for values in rows.values() for v in values)
    assert sum(line.startswith("test user ") for line in out.splitlines()) == 2


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_has_a_gallery_docstring(script):
    source = (EXAMPLES / script).read_text()
    assert source.startswith('"""'), f"{script} needs a sphinx-gallery title docstring"
