"""Packaging only (the metadata is in pyproject.toml): the shipped freqtrade strategies in
``strategies/`` are installed as ``liq_signals/strategies``, so ``liq-signals
install-strategies`` and ``--strategy-path`` find them in any environment."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["liq_signals*"]), "liq_signals.strategies"],
    package_dir={"liq_signals.strategies": "strategies"},
)
