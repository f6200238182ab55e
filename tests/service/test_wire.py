"""The world's message framing and where its socket goes."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from supervm import wire
from supervm.service.world_client import _socket_path


def test_messages_round_trip_over_a_socket_pair() -> None:
    left, right = socket.socketpair()
    with left, right:
        wire.send(left, {"type": "done", "report": {"result": np.float64(2.5), "nan": np.nan,
                                                    "counts": np.arange(3)}})
        assert wire.receive(right) == {"type": "done", "report": {
            "result": 2.5, "nan": "nan", "counts": [0, 1, 2]}}
        left.close()
        with pytest.raises(wire.WireError, match="closed"):
            wire.receive(right)


def test_bad_frames_are_refused() -> None:
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        wire.decode_length(wire.HEADER.pack(wire.MAX_MESSAGE + 1))
    with pytest.raises(wire.WireError, match="JSON object"):
        wire.decode_body(b"[1, 2]")
    with pytest.raises(wire.WireError, match="not a JSON message"):
        wire.decode_body(b"\xff")


def test_a_long_state_dir_gets_a_short_socket(tmp_path: Path) -> None:
    assert _socket_path(tmp_path) == tmp_path / "world.sock"
    long_dir = tmp_path / ("d" * 120)
    path = _socket_path(long_dir)
    try:
        assert len(str(path)) < 108 and path.parent.stat().st_mode & 0o077 == 0
    finally:
        path.parent.rmdir()

