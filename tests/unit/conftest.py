"""Unit tests never wait on (or take) the host's real osa-aio lock: a deployment may be at work."""

import pytest

import osa_aio.lock


@pytest.fixture(autouse=True)
def private_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(osa_aio.lock, "LOCK_FILE", tmp_path / "osa-aio.lock")
