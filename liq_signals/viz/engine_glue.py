"""Where the figures load a pair's frames and run the model and the books over them.

Other viz modules reach the engine only for its cluster search (``engine.clusters``) and,
in ``leverage_bands.py``, the leverage mix and the kernel's output layout.

The feature frame and the engine inputs come from one :func:`liq_signals.features.run`
(the run behind the strategy's features); the books come from
:func:`liq_signals.engine.history.book_history` replaying those inputs, so the heatmap and
the features describe one model run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from liq_signals import columns as C
from liq_signals.config import ModelConfig
from liq_signals.data.boundary import LiqInputError
from liq_signals.data.load import PairInputs
from liq_signals.engine import book as B
from liq_signals.engine.history import BookHistory
from liq_signals.engine.history import book_history as _engine_book_history
from liq_signals.features.pipeline import run
from liq_signals.viz.errors import HeatmapInputError

MODE = C.MODE


@dataclass(frozen=True)
class Window:
    """
    Which candles feed the engine and which are drawn.

    :ivar first: position (in the loaded candles) of the first candle fed to the engine
    :ivar show: position of the first drawn candle (``first + warm-up``)
    :ivar stop: position after the last drawn candle
    """

    first: int
    show: int
    stop: int


@dataclass(frozen=True)
class EngineRun:
    """
    Engine inputs and feature frame for candles ``[first, stop)`` of the loaded data.

    :ivar frame: candles + feature columns, positional index 0..n-1
    :ivar show: position in ``frame`` of the first drawn candle
    """

    pair: str
    timeframe: str
    frame: pd.DataFrame
    show: int
    inputs: B.EngineInputs
    params: B.EngineParams

    @property
    def stop_count(self) -> int:
        """Number of drawn candles."""
        return len(self.frame) - self.show


def load(datadir: Path, pair: str, timeframe: str) -> PairInputs:
    """
    Everything the model can use for ``pair`` (futures when the pair has ``:``, else spot).

    :raise HeatmapInputError: no such datadir or candle file (the loader's message names
        the file and the download command that creates it)
    """
    from liq_signals.data.load import load_pair_inputs

    mode = "futures" if ":" in pair else "spot"
    try:
        return load_pair_inputs(datadir, pair, timeframe, trading_mode=mode)
    except LiqInputError as err:
        raise HeatmapInputError(str(err)) from err


def source_of(loaded: PairInputs) -> str:
    """The candle file, for messages."""
    return str(loaded.files.get("candles", loaded.pair))


def run_engine(loaded: PairInputs, window: Window, cfg: ModelConfig | None = None) -> EngineRun:
    """
    Features and engine inputs for candles ``[window.first, window.stop)``.

    Candles after the drawn range are never given to the engine (nothing later can leak
    into the picture); the warm-up candles before it only build the book.  The candles are
    validated and aligned once (:func:`liq_signals.features.run`).

    :param loaded: the pair's data (:func:`load`).
    :param window: which candles are warm-up and which are drawn.
    :param cfg: model parameters (defaults: :class:`ModelConfig`).
    :return: the :class:`EngineRun`.
    :raise HeatmapInputError: the loader's validation rejected the data
    """
    candles = loaded.candles.iloc[window.first : window.stop].reset_index(drop=True)
    try:
        model = run(
            loaded.with_candles(candles),
            pair=loaded.pair,
            timeframe=loaded.timeframe,
            config=cfg or ModelConfig(),
        )
    except LiqInputError as err:
        raise HeatmapInputError(str(err)) from err
    return EngineRun(
        pair=loaded.pair,
        timeframe=loaded.timeframe,
        frame=model.features,
        show=window.show - window.first,
        inputs=model.inputs,
        params=model.params,
    )


def book_history(run: EngineRun, *, every: int, start: int) -> BookHistory:
    """The engine's books after every ``every``-th candle from ``start`` (and the last)."""
    return _engine_book_history(run.inputs, run.params, every=every, start=start)
