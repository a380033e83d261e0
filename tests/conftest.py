"""Shared fixtures. Prefect settings are applied before anything imports prefect."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
DATA = Path(__file__).resolve().parent / "data"
SEED = RAW / "uighur-sanctions.txt"


@pytest.fixture(scope="session", autouse=True)
def _folding_tables_built() -> None:
    """numba's first compiled call and the case-folding tables of every Unicode plane cost a process
    about a second once (cleaners/folding.py: planes 0-3 scanned, the others blank); paid here, so
    that hypothesis's per-example deadline times the code under test, not whichever example first
    meets a character of a high plane."""
    from cleaners.recurring import normal_lines

    normal_lines(["caf\u00e9 \U0010fffd"])


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped raw/ samples."""
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """A real Prefect API (temporary SQLite DB, local server) for the flow tests; started once."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with prefect_test_harness(server_startup_timeout=90), temporary_settings(
            updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_RESULTS_LOCAL_STORAGE_PATH: storage}):
        yield
