"""A loopback (127.0.0.1) websocket server that replays scripted liquidation messages,
and real-format messages built from the real Binance forceOrder sample.

Only the internet is emulated here; the recorder under test is the real one.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from websockets.asyncio.server import ServerConnection, serve

FORCE_ORDER_CSV = (
    Path(__file__).resolve().parents[1] / "testdata" / "BTCUSDT-forceOrder-2024-12-04_06.csv"
)

DROP = object()  # script marker: abort the TCP connection without a close frame


def force_order_rows() -> pd.DataFrame:
    return pd.read_csv(FORCE_ORDER_CSV, dtype=str)


def binance_message(row: pd.Series) -> str:
    """The combined-stream frame Binance sends for one forceOrder row (documented shape)."""
    payload = {
        "e": "forceOrder",
        "E": int(row.event_time_ms),
        "o": {
            "s": row.symbol,
            "S": row.side,
            "o": row.order_type,
            "f": row.time_in_force,
            "q": row.original_quantity,
            "p": row.price,
            "ap": row.average_price,
            "X": row.order_status,
            "l": row.last_filled_quantity,
            "z": row.accumulated_filled_quantity,
            "T": int(row.trade_time_ms),
        },
    }
    return json.dumps({"stream": f"{row.symbol.lower()}@forceOrder", "data": payload})


def bybit_message(rows: pd.DataFrame) -> str:
    """The same real events in Bybit's allLiquidation frame.  Bybit gives the *position*
    side, so a Binance SELL order (long liquidated) becomes ``Buy``."""
    data = [
        {
            "T": int(r.trade_time_ms),
            "s": r.symbol,
            "S": "Buy" if r.side == "SELL" else "Sell",
            "v": r.accumulated_filled_quantity,
            "p": r.average_price,
        }
        for r in rows.itertuples()
    ]
    return json.dumps(
        {
            "topic": f"allLiquidation.{rows.symbol.iloc[0]}",
            "type": "snapshot",
            "ts": int(rows.event_time_ms.iloc[-1]),
            "data": data,
        }
    )


@dataclass
class ReplayServer:
    """Serves connection i with ``scripts[i]`` (a list of text frames or DROP), then holds
    the connection open.  Records what each client asked for."""

    scripts: list[list]
    expect_subscribe: bool = False
    paths: list[str] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def _handler(self, ws: ServerConnection) -> None:
        index = len(self.paths)
        self.paths.append(ws.request.path if ws.request else "")
        if self.expect_subscribe:
            self.subscriptions.append(json.loads(await ws.recv()))
            await ws.send(
                json.dumps(
                    {"success": True, "ret_msg": "subscribe", "conn_id": "t", "op": "subscribe"}
                )
            )
        script = self.scripts[index] if index < len(self.scripts) else []
        for frame in script:
            if frame is DROP:
                ws.transport.abort()
                return
            await ws.send(frame)
        if index >= len(self.scripts) - 1:
            self.finished.set()
        await ws.wait_closed()

    async def __aenter__(self) -> ReplayServer:
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"
