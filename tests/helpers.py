"""Helpers for tests: read an output folder back with pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.dataset as ds


def rows(out: Path, table: str) -> list[dict[str, Any]]:
    d = out / table
    if not d.is_dir() or not any(d.glob("*.parquet")):
        return []
    return ds.dataset(d, format="parquet").to_table().to_pylist()


def without_run_columns(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k != "run_id"} for r in rs),
                  key=lambda r: (r.get("source_file") or "", r.get("source_line") or 0, r.get("article_id") or "",
                                 r.get("position") or 0, r.get("line") or 0))


def servers_of(prefect_home: str) -> list[int]:
    """Processes running a Prefect API server with this PREFECT_HOME."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # not a process, gone, or not ours to read
            continue
        if b"prefect.server.api.server:create_app" in cmdline and f"PREFECT_HOME={prefect_home}".encode() in environ:
            found.append(int(proc.name))
    return found
