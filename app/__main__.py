"""``scing-studio`` / ``python -m app``: start the desktop app (bootstrap only)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scing-studio",
        description="SCING Studio: launch and watch training runs, browse ranked retrievals per query, compare "
                    "Grad-CAM saliency and the modality gap of CLIP-ReID / CoCoOp / SCING runs.",
        epilog="Without --workspace the studio opens the demo workspace (built by `scing demo`, or from the window).")
    parser.add_argument("--workspace", metavar="DIR",
                        help="folder whose runs/*/ (or */) are run directories (default: the demo workspace)")
    parser.add_argument("--screenshot", metavar="DIR",
                        help="render every panel, write DIR/studio-<panel>.png and quit")
    parser.add_argument("--size", default="1440x900", metavar="WxH", help="window size (default 1440x900)")
    parser.add_argument("--no-umap-warm-up", action="store_true",
                        help="do not compile UMAP in the background at start (the first UMAP plot then compiles)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"scing-studio: --size '{text}' is not WxH (e.g. 1440x900)") from None
    return width, height


def _choose_platform(screenshot: bool) -> None:
    """On Linux without a display: render off-screen for --screenshot, otherwise stop with one clear line
    (Qt itself would abort with a plugin error that does not say what is missing)."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    raise SystemExit("scing-studio: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Start it in a "
                     "desktop session (or with ssh -X), or render the panels to PNG files with --screenshot DIR.")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _choose_platform(bool(args.screenshot))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    width, height = _window_size(args.size)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SCING Studio")
    app.setOrganizationName("scing-studio")
    from app.services.core_client import resources_dir

    style_sheet = resources_dir() / "styles" / "studio.qss"
    if style_sheet.is_file():
        app.setStyleSheet(style_sheet.read_text(encoding="utf-8"))

    from app.main_window import MainWindow

    window = MainWindow(args.workspace, warm_up_umap=not args.no_umap_warm_up)
    window.resize(width, height)
    window.show()
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer()   # lets Python run its signal handlers while Qt's loop runs (Ctrl+C)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(250)
    if args.screenshot:
        from app.services.screenshots import ScreenshotSession

        session = ScreenshotSession(window, args.screenshot)
        session.finished.connect(lambda paths: (print("\n".join(str(p) for p in paths)), window.close()))
        session.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
