"""What keeps the window answering at first open and while a run trains (benchmarks/bench_studio.py
measures the stalls; no timing here): the panels are built one per event-loop turn, torch is imported
in a worker (never on the GUI thread) with its libraries loaded outside the GIL, a run's events are read
in a worker and arrive in one list per tick, and a process's output is handed on in batches."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_window_builds_its_panels_in_turns_then_opens_the_workspace(tiny_workspace, qtbot):
    from app.main_window import MainWindow
    from app.panels.registry import PANELS

    window = MainWindow(tiny_workspace, warm_up_umap=False)
    qtbot.addWidget(window)
    window.show()
    assert not window.ready and len(window.panels) < len(PANELS)   # constructed without its panels
    assert window.stack.currentWidget() is window.opening_page
    seen = []
    window.tabs.currentChanged.connect(lambda _: seen.append(len(window.panels)))
    qtbot.waitUntil(lambda: window.workspace.scans_done > 0, timeout=60000)
    assert window.ready and list(window.panels) == [spec.name for spec in PANELS]
    assert [window.tabs.widget(i) for i in range(window.tabs.count())] == list(window.panels.values())
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [spec.title for spec in PANELS]
    assert window.stack.currentWidget() is window.tabs and window.training.runs.rows
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)


def test_a_panel_asked_for_before_its_turn_builds_the_rest_at_once(tiny_workspace, qtbot):
    from app.main_window import MainWindow

    window = MainWindow(tiny_workspace, warm_up_umap=False)
    qtbot.addWidget(window)
    assert not window.ready
    gap = window.gap   # as a caller that does not wait would do
    assert window.ready and window.tabs.indexOf(gap) == 3 and window.gap_query_link is not None
    qtbot.waitUntil(lambda: window.workspace.scans_done > 0, timeout=60000)
    qtbot.waitUntil(lambda: not window.busy(), timeout=60000)


def test_torch_is_imported_in_a_worker_never_on_the_gui_thread(tiny_workspace):
    script = textwrap.dedent(f"""
        import sys, threading
        sys.path.insert(0, {str(REPO)!r})
        importers = []

        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name == "torch":
                    importers.append(threading.current_thread() is threading.main_thread())
                return None

        sys.meta_path.insert(0, Spy())
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from app.main_window import MainWindow
        window = MainWindow({str(tiny_workspace)!r}, warm_up_umap=True)
        window.show()
        for _ in range(3000):
            if window.ready and not window.busy() and "torch" in sys.modules:
                break
            loop = QEventLoop(); QTimer.singleShot(20, loop.quit); loop.exec()
        print("IMPORTERS", importers, "torch" in sys.modules)
        window.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    line = next(line for line in done.stdout.splitlines() if line.startswith("IMPORTERS"))
    assert line == "IMPORTERS [False] True", done.stdout[-2000:] + done.stderr[-2000:]


def test_libraries_load_through_the_gil_free_dlopen_and_the_patch_is_undone():
    script = textwrap.dedent(f"""
        import ctypes, ctypes.util, importlib.machinery, sys
        sys.path.insert(0, {str(REPO)!r})
        from app.services.gil_free_imports import dlopen_without_gil
        original = ctypes._dlopen, importlib.machinery.ExtensionFileLoader.create_module
        with dlopen_without_gil():
            patched = ctypes._dlopen is not original[0]
            import _bz2
            libm = ctypes.CDLL(ctypes.util.find_library("m"))
            try:
                ctypes.CDLL("libno-such-library.so")
            except OSError as error:
                missing = "libno-such-library" in str(error)
        restored = (ctypes._dlopen, importlib.machinery.ExtensionFileLoader.create_module) == original
        print("RESULT", patched, _bz2.BZ2Compressor is not None, libm.cos.__name__, missing, restored)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "RESULT True True cos True True" in done.stdout, done.stdout + done.stderr


def test_event_stream_reads_in_a_worker_and_hands_a_burst_on_as_one_list(qtbot, tmp_path):
    from app.services.training_process import EventStream

    path = tmp_path / "events.jsonl"
    path.write_text("")
    stream = EventStream(tmp_path, interval_ms=20)
    readers = []
    poll = stream.follower.poll
    stream.follower.poll = lambda: (readers.append(threading.current_thread()), poll())[1]
    deliveries = []
    stream.eventsArrived.connect(deliveries.append)
    stream.start()
    qtbot.waitUntil(lambda: bool(readers), timeout=10000)
    with open(path, "a") as fh:   # a burst of 200 epochs' events between two ticks
        fh.write("".join(json.dumps({"type": "step", "epoch": n}) + "\n" for n in range(200)))
    qtbot.waitUntil(lambda: sum(map(len, deliveries)) == 200, timeout=10000)
    stream.stop()
    assert len(deliveries) == 1 and [e["epoch"] for e in deliveries[0]] == list(range(200))
    assert all(thread is not threading.main_thread() for thread in readers)
    qtbot.waitUntil(lambda: not stream.workers.busy, timeout=10000)


def test_event_stream_poll_now_keeps_the_order_of_what_a_worker_read(qtbot, tmp_path):
    from app.services.training_process import EventStream

    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"type": "run_started"}) + "\n")
    stream = EventStream(tmp_path, interval_ms=10_000)
    received = []
    stream.eventsArrived.connect(received.extend)
    stream._read()   # a worker's read, not delivered yet
    with open(path, "a") as fh:
        fh.write(json.dumps({"type": "run_finished", "status": "completed"}) + "\n")
    assert [e["type"] for e in stream.poll()] == ["run_started", "run_finished"]
    assert [e["type"] for e in received] == ["run_started", "run_finished"]


def test_a_chatty_process_output_is_handed_on_in_batches(qtbot):
    from app.services.training_process import CommandProcess

    script = "import sys, time\nfor n in range(400):\n    print(n, flush=True)\n    time.sleep(0.002)\n"
    process = CommandProcess([sys.executable, "-c", script])
    chunks = []
    process.output.connect(chunks.append)
    with qtbot.waitSignal(process.finished, timeout=60000):
        process.start()
    text = "".join(chunks)
    assert [int(line) for line in text.split("\n") if line.strip().isdigit()] == list(range(400))
    assert len(chunks) < 100   # 400 flushed lines; one hand-on per line would redraw the log 400 times
    assert chunks[-1].startswith("\n[studio] process ended")
