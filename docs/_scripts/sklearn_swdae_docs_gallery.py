"""Helpers of the sphinx-gallery configuration (importable, so the config pickles)."""


def reset_argv(gallery_conf, script_vars):
    """Command-line arguments of every gallery example: its fast mode."""
    return ["--fast"]
