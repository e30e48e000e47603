"""Fixtures for the sandbox server tests: HTTP clients for two subaccounts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api


@pytest.fixture
async def http(sandbox: SandboxProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.api_url, timeout=10) as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, sandbox: SandboxProcess) -> Api:
    """Subaccount 1 ("Desk A")."""
    return Api(http, sandbox.keys[1])


@pytest.fixture
def other(http: httpx.AsyncClient, sandbox: SandboxProcess) -> Api:
    """Subaccount 2 ("Desk B"), a counterparty."""
    return Api(http, sandbox.keys[2])
