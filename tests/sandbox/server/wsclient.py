"""WebSocket helpers for the sandbox tests (the ``websockets`` client, real sockets)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection


def subscribe_signature(key: dict[str, Any], window: int = 5000) -> list[str]:
    """``[verifying key, signature, timestamp, window]`` for a private subscription."""
    timestamp = int(time.time() * 1000)
    message = f"instruction=subscribe&timestamp={timestamp}&window={window}".encode()
    signature = SigningKey(base64.b64decode(key["api_secret"])).sign(message).signature
    return [key["api_key"], base64.b64encode(signature).decode(), str(timestamp), str(window)]


async def request(ws: ClientConnection, frame: dict[str, Any], within_s: float = 5.0) -> dict:
    """Send a frame with an ``id`` and wait for its acknowledgement or error."""
    await ws.send(json.dumps(frame))
    return await receive(ws, lambda m: m.get("id") == frame.get("id"), within_s)


async def receive(
    ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], within_s: float = 5.0
) -> dict[str, Any]:
    """The next frame for which ``wanted`` is true (others are skipped)."""
    async with asyncio.timeout(within_s):
        while True:
            message = json.loads(await ws.recv())
            if wanted(message):
                return message


async def collect_until(
    ws: ClientConnection, done: Callable[[list[dict[str, Any]]], bool], within_s: float = 5.0
) -> list[dict[str, Any]]:
    """Every frame, in order, until ``done(frames)`` holds (or fail after ``within_s``)."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(within_s):
        while not done(frames):
            frames.append(json.loads(await ws.recv()))
    return frames


async def frames_before_ack(
    ws: ClientConnection, frame: dict[str, Any], within_s: float = 5.0
) -> list[dict[str, Any]]:
    """Send a frame with an ``id``; every frame that arrived before its acknowledgement.

    The acknowledgement is a sentinel: a connection's frames go out in order, so a frame the
    server queued before it read ``frame`` (say, for an order placed earlier) is among them.
    """
    await ws.send(json.dumps(frame))
    frames = await collect_until(ws, lambda f: bool(f) and f[-1].get("id") == frame["id"], within_s)
    return frames[:-1]


async def collect(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame that arrives within ``seconds``."""
    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(json.loads(await ws.recv()))
    except TimeoutError:
        pass
    return frames
