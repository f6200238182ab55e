"""Length-prefixed JSON messages: the world's protocol with the service over a Unix socket."""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

from supervm.jobs.output import jsonable

#: Each message is a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
HEADER = struct.Struct(">I")

#: The largest message either side accepts (a job with inline data rides in one message).
MAX_MESSAGE = 256 * 1024 * 1024


class WireError(ConnectionError):
    """The peer closed the connection or sent something that is not a message."""


def encode(message: dict[str, Any], *, plain: bool = False) -> bytes:
    """Return `message` framed for the wire; numpy values are made JSON first unless `plain`
    says the message holds only JSON values already (the service's side: it saves a walk)."""
    body = json.dumps(message if plain else jsonable(message), allow_nan=False,
                      separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def decode_length(header: bytes) -> int:
    """Return the body length a header announces; raise WireError if it is too large."""
    (length,) = HEADER.unpack(header)
    if length > MAX_MESSAGE:
        raise WireError(f"message of {length} bytes exceeds the limit of {MAX_MESSAGE}")
    return length


def decode_body(body: bytes) -> dict[str, Any]:
    """Return the message in `body`; raise WireError unless it is a JSON object."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not a JSON message: {exc}") from None
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    return message


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise WireError("the peer closed the connection")
        chunks += chunk
    return bytes(chunks)


def receive(sock: socket.socket) -> dict[str, Any]:
    """Read one message from a blocking socket."""
    length = decode_length(_read_exactly(sock, HEADER.size))
    return decode_body(_read_exactly(sock, length))


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Write one message to a blocking socket."""
    sock.sendall(encode(message))
