"""Quick process exits (flows/quickexit.py): what a normal exit does that matters still happens."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_exit_now_keeps_the_code_runs_exit_callbacks_flushes_and_skips_the_teardown(tmp_path):
    out = python(f"""
        import atexit, sys, threading
        from flows.quickexit import exit_now

        class Finalized:  # a module global's finalizer runs only when the interpreter is torn down
            def __del__(self):
                open({str(tmp_path / "teardown")!r}, "w").write("torn down")

        kept = Finalized()
        atexit.register(lambda: print("handler ran"))
        threading._register_atexit(lambda: print("thread callback ran"))  # as Prefect's log and event workers do
        sys.stdout.write("unflushed output")
        sys.stderr.write("unflushed error")
        exit_now(5)
    """, tmp_path)
    assert out.returncode == 5, out.stderr
    assert out.stdout.startswith("unflushed output") and "handler ran" in out.stdout
    assert "thread callback ran" in out.stdout
    assert out.stderr == "unflushed error"
    assert not (tmp_path / "teardown").exists()


def test_exit_now_waits_for_a_thread_still_at_work(tmp_path):
    done = tmp_path / "done"
    out = python(f"""
        import threading, time
        from flows.quickexit import exit_now

        def work():
            time.sleep(0.5)
            open({str(done)!r}, "w").write("done")

        threading.Thread(target=work).start()
        exit_now(3)
    """, tmp_path)
    assert out.returncode == 3, out.stderr
    assert done.read_text() == "done"


def test_pool_workers_flush_their_output_and_exit_when_the_pool_shuts_down(tmp_path):
    out = python("""
        import sys
        from flows import workers

        def job(i):
            sys.stdout.write(f"<worker {i}>")  # no newline, no flush: flushed before the worker ends
            return i * i

        if __name__ == "__main__":
            pool = workers.pool(2)
            procs = None
            print(sorted(pool.map(job, range(4))), flush=True)
            procs = list(pool._processes.values())
            workers.shutdown()
            print("exit codes", [p.exitcode for p in procs], flush=True)
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[0, 1, 4, 9]" in out.stdout and "exit codes [0, 0]" in out.stdout
    assert all(f"<worker {i}>" in out.stdout for i in range(4)), out.stdout
