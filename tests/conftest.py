"""Shared test helpers: where the real evaluation data lives."""

import os
from pathlib import Path

import pytest


def shared_data():
    """The shared/data folder: $SWDAE_SHARED_DATA, else next to the repository."""
    root = os.environ.get("SWDAE_SHARED_DATA")
    return Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"


def real_folder(name):
    """A real dataset folder, or skip the test when it is absent."""
    folder = shared_data() / name
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent")
    return folder
