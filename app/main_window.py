"""The studio's window: arranges the panels of :data:`app.panels.registry.PANELS` in tabs and wires
them by the panel protocol. The panels are built one per event-loop turn after the window is
constructed (it shows "Opening the workspace…" meanwhile and stays responsive); then they are wired,
the tabs shown, and the workspace opens on the next turn — a panel asked for earlier builds the rest at
once. No logic of its own beyond routing: workspace scans come from
:class:`app.services.workspace.WorkspaceService` into its evented ``WorkspaceState``, which every
panel (then the window) subscribes to; every panel owns its work. The routes between panels
(Retrieval -> Saliency, Modality gap -> Retrieval / Dataset, Study -> Training) are the only panel-specific
lines here."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QStackedWidget, QTabWidget, QWidget)

from app.panels.registry import PANELS, ShowcaseRuns, optional_members
from app.panels.workspace_panel import WorkspacePanel
from app.services import core_client
from app.widgets.gallery_thumbnails import shared_thumbnails
from app.services.gap_query_link import GapQueryLink
from app.services.workers import WorkerPool
from app.services.workspace import WorkspaceService

TAB_NAMES = tuple(spec.name for spec in PANELS)
_BUILT_LATER = (*TAB_NAMES, "gap_query_link")
TURN_MS = 1   # a real timer between two panel builds: paints, input and other timers run in between
STATUS_TIMEOUT_MS = 8000


class MainWindow(QMainWindow):
    def __init__(self, workspace=None, warm_up_umap: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("SCING Studio")
        self.resize(1440, 900)
        self.workspace = WorkspaceService(self)
        self._run_to_select = None   # set when a run directory was opened as the workspace
        self._workspace_to_open = workspace
        self._warm_up_umap = warm_up_umap
        self.ready = False           # every panel built and wired (the workspace opens on the next turn)
        self.setup_page = WorkspacePanel()
        self.opening_page = QLabel("Opening the workspace…")
        self.opening_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.panels = {}             # built so far, in tab order once ready
        self._placeholders = {}
        for spec in PANELS:   # each panel is built on its own event-loop turn (_build_next_panel)
            self._placeholders[spec.name] = QWidget()
            self.tabs.addTab(self._placeholders[spec.name], spec.title)
        self.stack = QStackedWidget()
        for page in (self.opening_page, self.setup_page, self.tabs):
            self.stack.addWidget(page)
        self.setCentralWidget(self.stack)
        self.workspace_label = QLabel()
        self.workspace_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addPermanentWidget(self.workspace_label)
        self._build_menu()
        self.setup_page.errorOccurred.connect(self.show_error)
        self.setup_page.statusMessage.connect(lambda text: self.statusBar().showMessage(text, STATUS_TIMEOUT_MS))
        self.preloading = WorkerPool(self)
        QTimer.singleShot(0, self, self._build_next_panel)

    # -- building the panels in turns ---------------------------------------------------------------------
    def __getattr__(self, name):
        """A panel (``self.training``, …) asked for before its turn: build the rest now, as in one go."""
        if name in _BUILT_LATER and "_placeholders" in self.__dict__ and not self.__dict__.get("ready"):
            self.complete_build()
            return self.__dict__[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _build_next_panel(self) -> None:
        """One panel per event-loop turn (each costs 30–150 ms: in one go the window would not paint
        or answer for most of a second); after the last, the wiring and the workspace."""
        if self.ready or not shiboken6.isValid(self) or self.__dict__.get("_closed"):
            return
        spec = next((spec for spec in PANELS if spec.name not in self.panels), None)
        if spec is not None:
            self._build_panel(spec)
            QTimer.singleShot(TURN_MS, self, self._build_next_panel)
            return
        self._finish_build()

    def _build_panel(self, spec) -> None:
        panel = self.panels[spec.name] = spec.factory()
        setattr(self, spec.name, panel)
        placeholder = self._placeholders.pop(spec.name)
        current, index = self.tabs.currentIndex(), self.tabs.indexOf(placeholder)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, panel, spec.title)
        self.tabs.setCurrentIndex(current)
        placeholder.deleteLater()

    def complete_build(self) -> None:
        """Build every panel not built yet, wire them and open the workspace, now."""
        for spec in PANELS:
            if spec.name not in self.panels:
                self._build_panel(spec)
        self._finish_build()

    def _finish_build(self) -> None:
        """Every panel is built: wire them and show the tabs (their first layout, on this turn); the
        workspace opens on the next turn."""
        if self.ready:
            return
        self.ready = True
        if self._warm_up_umap:   # an interactive start (tests pass False): the heavy modules load now, once
            self.start_preloading()   # the panels are built (two Python threads at work halve the GUI's pace)
        self.panels = {spec.name: self.panels[spec.name] for spec in PANELS}
        self.gap_query_link = GapQueryLink(self.retrieval, self)
        self._wire()
        self.stack.setCurrentWidget(self.tabs)   # the setup page instead, should the scan say so
        self._first_open_pending = True
        QTimer.singleShot(TURN_MS, self, self._open_first_workspace)

    def _open_first_workspace(self) -> None:
        if self.__dict__.get("_closed"):
            return
        self._first_open_pending = False
        if self._warm_up_umap:   # compile UMAP in its niced process
            self.start_umap_warm_up()
        self.open_workspace(self._workspace_to_open or core_client.default_workspace())

    def start_preloading(self) -> None:
        """Import torch, Grad-CAM and the analysis modules in a worker now, before the first action needs them."""
        self.preloading.start(core_client.preload_analysis_modules, on_error=self.show_error)

    def start_umap_warm_up(self, in_process_thread: bool = False) -> None:
        """Compile UMAP now, so the Modality-gap tab's UMAP is quick later: in the gap panel's projection
        process (niced; the window stays responsive), or — ``in_process_thread``, the former way, kept
        for benchmarks/bench_studio.py — in a thread of this process, which holds the GIL for long."""
        try:
            if in_process_thread:
                self.gap.watch_umap_warm_up(core_client.start_umap_warm_up())
            else:
                self.gap.start_umap_warm_up()
        except Exception as error:  # the analysis extra missing: PCA still works
            self.gap.umap_unavailable(error)

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        actions = (("&Open workspace…", QKeySequence.StandardKey.Open, self.choose_workspace),
                   ("&Refresh", QKeySequence.StandardKey.Refresh, self.workspace.refresh),
                   ("Open &demo workspace", None, lambda: self.open_workspace(core_client.default_workspace())),
                   ("&Quit", QKeySequence.StandardKey.Quit, self.close))
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            menu.addAction(action)
        self.menuBar().addMenu("&Help").addAction("About SCING Studio", self._about)

    def _wire(self) -> None:
        # each panel clears what belonged to another workspace first; the window comes after the panels
        self.workspace.deliver_in_turns([panel.workspace_changed for panel in self.panels.values()]
                                        + [self._workspace_changed])
        for panel in optional_members(self.panels.values(), "runsChanged"):
            panel.runsChanged.connect(self.workspace.refresh)
        self.workspace.failed.connect(self.show_error)
        self.workspace.state.status_changed.connect(self._show_workspace_status)
        self.training.runAdded.connect(self.workspace.add_run)   # counted in the status bar at once
        for panel in self.panels.values():
            panel.errorOccurred.connect(self.show_error)
            panel.statusMessage.connect(lambda text: self.statusBar().showMessage(text, STATUS_TIMEOUT_MS))
        self.setup_page.openRequested.connect(self.choose_workspace)
        self.setup_page.workspaceReady.connect(self.open_workspace)
        self.retrieval.imagesForSaliency.connect(self._explain_images)
        self.retrieval.pairForSaliency.connect(self._explain_pair)
        self.retrieval.evalLoaded.connect(lambda state: self.saliency.suggest_images(
            [row.path for row in state.visible_rows()[:3]]))
        self.study.openRun.connect(self._open_study_run)
        self.gap.openQuery.connect(self._open_gap_query)
        self.gap.showImage.connect(self._show_gap_image)
        self.gap.sendQueries.connect(lambda run, folder, paths, label: (   # a lasso's queries -> Retrieval's filter
            self.tabs.setCurrentWidget(self.retrieval), self.gap_query_link.restrict(run, folder, paths, label)))
        self.gap_query_link.routed.connect(lambda _, text: self.statusBar().showMessage(text, STATUS_TIMEOUT_MS))

    # -- workspace ---------------------------------------------------------------------------------------
    def open_workspace(self, path) -> None:
        """Open a workspace, or the workspace of a run directory (that run is then selected); before the
        panels are built, once they are."""
        if not self.ready or self.__dict__.get("_first_open_pending"):
            self._workspace_to_open = path
            return
        workspace, self._run_to_select = core_client.workspace_of(path)
        self.workspace_label.setText(f"workspace: {workspace}")
        self.workspace.open(workspace)

    def choose_workspace(self) -> None:
        start = str(self.workspace.path or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open workspace (a folder whose runs/ hold run directories)", start)
        if folder:
            self.open_workspace(folder)

    def _workspace_changed(self, _path, _rows) -> None:
        """After the panels: the setup page or the tabs, and the run a run directory named."""
        status = self.workspace.state.status
        if status.shows_setup and not self._running_jobs():
            self.setup_page.show_status(status)
            self.stack.setCurrentWidget(self.setup_page)
            return
        self.stack.setCurrentWidget(self.tabs)
        if self._run_to_select is not None:   # opened as a run directory: show that run
            for panel in optional_members(self.panels.values(), "select_run"):
                panel.select_run(self._run_to_select)
            self._run_to_select = None

    def _show_workspace_status(self, status) -> None:
        """The status bar: the workspace and its runs, a run started here included from the moment it exists."""
        self.workspace_label.setText(f"workspace: {status.path} · {status.headline()}")

    def _running_jobs(self) -> list:
        panels = optional_members(self.panels.values(), "running_jobs")
        return [job for panel in panels for job in panel.running_jobs()]

    # -- routing -------------------------------------------------------------------------------------------
    def _explain_images(self, paths: list) -> None:
        self.saliency.set_images(paths, pair_with_first=True)
        self.tabs.setCurrentWidget(self.saliency)

    def _explain_pair(self, query_path: str, gallery_path: str) -> None:
        """A query–gallery pair from Retrieval: each image explained by its similarity to the other."""
        self.saliency.explain_pair(query_path, gallery_path)
        self.tabs.setCurrentWidget(self.saliency)

    def _open_study_run(self, run_dir) -> None:
        """A study row's run: its study folder becomes the workspace, with that run selected in Training."""
        self.open_workspace(run_dir)
        self.tabs.setCurrentWidget(self.training)

    def _open_gap_query(self, run_dir: str, image_path: str) -> None:
        """A clicked image of the Modality-gap plot: that query of that run, in Retrieval."""
        self.tabs.setCurrentWidget(self.retrieval)
        self.gap_query_link.open(run_dir, image_path)

    def _show_gap_image(self, image_path: str, dataset: str) -> None:
        """A clicked image of the Modality-gap plot that is no query: that image in the Dataset tab."""
        self.tabs.setCurrentWidget(self.dataset)
        self.dataset.show_image(image_path, dataset)

    def show_error(self, message: str) -> None:
        """Every error reaches the window: the status bar (panels also show it inline)."""
        self.statusBar().showMessage(f"⚠ {message}", 4 * STATUS_TIMEOUT_MS)

    def _about(self) -> None:
        QMessageBox.about(self, "SCING Studio", "SCING Studio — train, browse retrievals, compare Grad-CAM saliency "
                          "and the modality gap of CLIP-ReID, CoCoOp and SCING runs.")

    # -- screenshots and lifecycle ---------------------------------------------------------------------------
    def busy(self) -> bool:
        """True while any scan or analysis worker of the window runs (screenshots wait for it)."""
        pools = (self.workspace.workers, self.preloading, *(panel.workers for panel in self.panels.values()))
        return (not self.ready or self.workspace.scans_done == 0 or self.workspace.delivering or any(pool.busy for pool in pools)
                or shared_thumbnails().busy)

    def screenshot_steps(self):
        """(name, show, start) per panel for ``--screenshot``; the setup page alone when it is shown."""
        if self.stack.currentWidget() is self.setup_page:
            return [("workspace", lambda: None, None)]
        runs = ShowcaseRuns.of(self.workspace.rows)
        return [(name, lambda panel=panel: self.tabs.setCurrentWidget(panel), panel.screenshot_start(runs))
                for name, panel in self.panels.items() if panel.screenshot_wanted()]

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        running = self._running_jobs()
        if running:
            answer = QMessageBox.question(
                self, "Training runs are active",
                f"{len(running)} training run(s) started here are still running. Stop them? They write a "
                "checkpoint first and can be resumed later.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self._closed = True   # a window closed while its panels are built opens no workspace afterwards
        for panel in optional_members((self.setup_page, *self.panels.values()), "shutdown"):
            panel.shutdown()
        super().closeEvent(event)
