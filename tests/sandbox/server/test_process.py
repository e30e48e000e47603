"""SandboxProcess: starts on a free port, answers, and is gone after the block."""

from __future__ import annotations

import httpx
import pytest

from sandbox.process import SandboxProcess, SandboxStartError


async def test_async_context_manager_starts_and_stops_the_exchange() -> None:
    async with SandboxProcess(maker=False) as process:
        async with httpx.AsyncClient(base_url=process.api_url) as client:
            assert (await client.get("/api/v1/ping")).text == "pong"
        assert process.ws_url == f"ws://127.0.0.1:{process.port}/"
        assert [key["subaccount"] for key in process.keys] == [0, 1, 2, 3]
        child = process.process
    assert child is not None and child.poll() is not None
    async with httpx.AsyncClient(base_url=process.api_url, timeout=1) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/api/v1/ping")


def test_a_bad_seed_fails_to_start_with_the_reason(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "seed.json"
    bad.write_text("{")
    with pytest.raises(SandboxStartError) as failed:
        SandboxProcess(seed=bad).start()
    assert "exited with 2" in str(failed.value) and "invalid JSON" in str(failed.value)


def test_the_sandbox_counts_the_exchange_requests_it_received(sandbox) -> None:  # noqa: ANN001
    sandbox.requests(clear=True)
    with httpx.Client(base_url=sandbox.api_url) as client:
        client.get("/api/v1/ping")
        client.get("/api/v1/ping")
        client.get("/api/v1/markets")

    counts = sandbox.requests(clear=True)

    assert counts == {"GET /api/v1/ping": 2, "GET /api/v1/markets": 1}
    assert sandbox.requests() == {}
