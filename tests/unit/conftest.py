"""Unit tests never wait on (or take) the host's real osa-aio lock, nor write to its log: a
deployment may be at work."""

import pytest

import osa_aio.lock
import osa_aio.logs


@pytest.fixture(autouse=True)
def private_lock_and_log(tmp_path, monkeypatch):
    monkeypatch.setattr(osa_aio.lock, "LOCK_FILE", tmp_path / "osa-aio.lock")
    monkeypatch.setattr(osa_aio.logs, "LOG_DIR", tmp_path / "log")
