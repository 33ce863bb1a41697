"""Services: worker errors reach the window as one line, the event stream follows appended lines,
a child process streams its output and stops on SIGTERM."""

from __future__ import annotations

import json
import sys
import threading

from scing_core import api

from app.services.training_process import CommandProcess, EventStream
from app.services.workers import WorkerPool, error_message


def test_error_message_is_one_line_and_keeps_scing_messages_verbatim():
    class RunDirError(Exception):
        pass

    assert error_message(ValueError("bad value\ntraceback detail")) == "ValueError: bad value"
    assert error_message(KeyError()) == "KeyError"
    try:
        api.load_eval("/no/such/run")
    except Exception as error:  # a RunDirError from the core
        assert error_message(error) == str(error).splitlines()[0] and not error_message(error).startswith("RunDirError")
    assert error_message(RunDirError("x")) == "RunDirError: x"   # not a ScingError: the type is shown


def test_worker_delivers_results_progress_and_errors_on_the_gui_thread(qtbot):
    pool = WorkerPool()
    gui_thread = threading.get_ident()
    seen = []

    def work(x, progress):
        progress("halfway")
        return x * 2, threading.get_ident()

    def fail():
        raise ValueError("no good\nsecond line")

    record = lambda kind: (lambda value=None: seen.append((kind, value, threading.get_ident())))  # noqa: E731
    pool.start(work, 21, on_result=record("result"), on_progress=record("progress"))
    pool.start(fail, on_error=record("error"))
    qtbot.waitUntil(lambda: len(seen) == 3 and not pool.busy, timeout=10000)
    by_kind = {kind: value for kind, value, _ in seen}
    assert by_kind["progress"] == "halfway" and by_kind["error"] == "ValueError: no good"
    result, worker_thread = by_kind["result"]
    assert result == 42 and worker_thread != gui_thread
    assert all(thread == gui_thread for _, _, thread in seen)   # callbacks run on the GUI thread


def test_event_stream_emits_only_complete_new_lines(qtbot, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"type": "run_started"}) + "\n" + '{"type": "st')
    stream = EventStream(tmp_path, interval_ms=20)
    received = []
    stream.eventsArrived.connect(received.extend)
    stream.start()
    qtbot.waitUntil(lambda: len(received) == 1, timeout=5000)
    with open(path, "a") as fh:
        fh.write('ep", "stage": 1}\n')
    qtbot.waitUntil(lambda: len(received) == 2, timeout=5000)
    stream.stop()
    assert [e["type"] for e in received] == ["run_started", "step"]


def test_command_process_streams_output_and_stop_sends_sigterm(qtbot):
    script = ("import signal, sys, time\n"
              "signal.signal(signal.SIGTERM, lambda *a: (print('got SIGTERM', flush=True), sys.exit(0)))\n"
              "print('re' + 'ady', flush=True)\n"
              "time.sleep(60)\n")
    process = CommandProcess([sys.executable, "-c", script])
    output = []
    process.output.connect(output.append)
    process.start()
    qtbot.waitUntil(lambda: "\nready" in "".join(output), timeout=20000)   # not the echoed command line
    with qtbot.waitSignal(process.finished, timeout=20000) as finished:
        process.stop()
    assert finished.args == [0] and "got SIGTERM" in "".join(output) and process.stop_requested
