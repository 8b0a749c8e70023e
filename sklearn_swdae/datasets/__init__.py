"""Datasets: loaders for public implicit-feedback data and a synthetic generator."""

from ._synthetic import make_interactions

__all__ = ["make_interactions"]
