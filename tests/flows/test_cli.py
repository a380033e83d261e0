"""The command line as a user runs it: real subprocesses, real exit codes and messages."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import rows, servers_of


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "flows", *args], cwd=ROOT, capture_output=True, text=True,
                          env=full_env, timeout=timeout)


def test_help_explains_every_option():
    out = cli("run", "--help")
    assert out.returncode == 0
    for opt in ("RAW_DIR", "OUT_DIR", "--batch-files", "--batch-mb", "--reprocess", "--rules", "--no-prefect", "--json",
                "--workers", "--dask-address", "--max-reject-share", "--warn-reject-share", "--limit",
                "--quiet"):
        assert opt in out.stdout
    top = cli("--help")
    assert top.returncode == 0 and "run" in top.stdout


def test_missing_raw_dir_is_a_clear_error_without_traceback(tmp_path):
    out = cli("run", str(tmp_path / "nope"), str(tmp_path / "out"))
    assert out.returncode == 2
    assert "raw folder" in out.stderr and "does not exist" in out.stderr
    assert "Traceback" not in out.stderr


def test_unwritable_out_dir_is_a_clear_error_without_traceback(tmp_path, raw_copy):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out = cli("run", str(raw_copy), str(blocker / "out"))
    assert out.returncode == 2
    assert "output folder" in out.stderr
    assert "Traceback" not in out.stderr


def test_locked_output_says_who_holds_it(tmp_path, raw_copy):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    holder = {"run_id": "20260101T000000Z-abcdef", "pid": os.getpid(), "host": socket.gethostname(),
              "since": "2026-01-01T00:00:00+00:00"}
    (out_dir / ".newsclean.lock").write_text(json.dumps(holder))
    out = cli("run", "--no-prefect", str(raw_copy), str(out_dir))
    assert out.returncode == 3
    assert "output is locked by run 20260101T000000Z-abcdef since 2026-01-01T00:00:00+00:00" in out.stderr
    assert "Traceback" not in out.stderr


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, raw_copy):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out_dir / ".newsclean.lock").write_text(json.dumps(
        {"run_id": "old", "pid": dead.pid, "host": socket.gethostname(), "since": "2026-01-01T00:00:00+00:00"}))
    out = cli("run", "--no-prefect", "-q", str(raw_copy), str(out_dir))
    assert out.returncode == 0, out.stderr
    assert not (out_dir / ".newsclean.lock").exists()


@pytest.mark.flow
def test_the_main_command_runs_the_prefect_flow_in_ephemeral_mode(tmp_path, raw_copy):
    """What the README's first command does: `newsclean run` with no server started by hand."""
    # behind an HTTP proxy (a dead one): the temporary server on 127.0.0.1 is reached directly
    env = {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
           "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    full_env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "NO_PROXY", "no_proxy")} | env
    proc = subprocess.run([sys.executable, "-m", "flows", "run", str(raw_copy), str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True, env=full_env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "articles  9 kept" in proc.stdout
    assert "rejects   2" in proc.stdout
    assert "Traceback" not in proc.stderr and "telemetry" not in proc.stderr.lower()
    # the temporary server was the one the command started first (flows/tempserver.py), not Prefect's
    # own (which says so at INFO), and it is gone with the command
    assert "Starting temporary server" not in proc.stderr and "View at" not in proc.stderr
    assert not servers_of(env["PREFECT_HOME"])
    assert len(rows(tmp_path / "out", "articles")) == 9
    db = sqlite3.connect(Path(env["PREFECT_HOME"]) / "prefect.db")
    assert db.execute("select state_type from flow_run").fetchall() == [("COMPLETED",)]
    # the flow's last log line, sent by Prefect's log worker as the process exits (flows/quickexit.py)
    assert db.execute("select count(*) from log where message like 'Finished in state Completed%' "
                      "and task_run_id is null").fetchone() == (1,)


def test_bad_rule_file_is_a_clear_error(tmp_path, raw_copy):
    bad = tmp_path / "rules.toml"
    bad.write_text("[[rule]]\nname = 'x'\npatterns = ['(unclosed']\n")
    out = cli("run", "--no-prefect", "--rules", str(bad), str(raw_copy), str(tmp_path / "out"))
    assert out.returncode == 2
    assert "invalid pattern" in out.stderr and "Traceback" not in out.stderr


def test_user_rules_file_reaches_the_run(tmp_path, raw_copy):
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nname = 'council_votes'\npatterns = ['.*by 31 votes to 17.*']\n")
    out = cli("run", "--no-prefect", "-q", "--rules", str(rules), str(raw_copy), str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    assert any(r["reason"] == "council_votes" for r in rows(tmp_path / "out", "removals"))


def test_limits_can_be_set_on_the_command_line(tmp_path, raw_copy):
    out = cli("run", "--no-prefect", "-q", "--limit", "max_html_bytes=100", str(raw_copy), str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    reasons = {r["reason"] for r in rows(tmp_path / "out", "rejects")}
    assert "limit_max_html_bytes" in reasons
    bad = cli("run", "--no-prefect", "--limit", "max_bananas=3", str(raw_copy), str(tmp_path / "out2"))
    assert bad.returncode == 2 and "known limits" in bad.stderr
