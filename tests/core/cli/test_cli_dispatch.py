"""The `scing` dispatcher: user errors and a closed output pipe end in one line or silence, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from scing_core.cli import run_main
from scing_core.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_a_user_error_is_one_line_and_exit_status_2(capsys):
    def entry(argv):
        raise InputError("'x.pt' is not a checkpoint; pass a file written by `scing train`")

    assert run_main(entry, []) == 2
    err = capsys.readouterr().err
    assert err == "error: 'x.pt' is not a checkpoint; pass a file written by `scing train`\n"


def test_output_piped_into_a_reader_that_stops_early_ends_quietly():
    script = textwrap.dedent("""
        import sys
        from scing_core.cli import run_main
        def entry(argv):
            for _ in range(100000):
                print("x" * 100)
        sys.exit(run_main(entry, []))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)   # like `| head -c 10`
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
