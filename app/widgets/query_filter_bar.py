"""The retrieval browser's query filters: a search box (file name / identity), identity, camera, AP
range, rank-1 failures, — with a compared run — a ΔAP threshold, and in a collapsible "Attributes" part
(:class:`app.widgets.query_attribute_row.QueryAttributeRow`) the occluded share, caption words, camera and
identity lists and a tag. Emits the whole
:class:`app.state.query_filter.QueryFilter` on every change of its widgets, and shows the state's
(``show_filter``) when the state changes it; the filtering itself is Qt-free."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton, QSpinBox, QToolButton, QWidget

from app.state.query_filter import DELTA_DIRECTIONS, QueryFilter
from app.widgets.query_attribute_row import QueryAttributeRow
from app.widgets.layout import STRETCH, hbox, vbox


def _percent_spin(value: int, prefix: str = "", suffix: str = " %") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, 100)
    spin.setValue(value)
    spin.setPrefix(prefix)
    spin.setSuffix(suffix)
    spin.setKeyboardTracking(False)
    return spin


class QueryFilterBar(QWidget):
    filterChanged = Signal(object)   # QueryFilter

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file name or identity…")
        self.search.setClearButtonEnabled(True)
        self.identity = QLineEdit()
        self.identity.setPlaceholderText("any")
        self.identity.setValidator(QIntValidator(0, 10 ** 9))
        self.identity.setMaximumWidth(70)
        self.camera = QComboBox()
        self.ap_min = _percent_spin(0)
        self.ap_max = _percent_spin(100)
        self.delta_direction = QComboBox()
        for key, text in DELTA_DIRECTIONS.items():
            self.delta_direction.addItem(text, key)
        self.delta_threshold = _percent_spin(10, suffix=" pts")
        self.failures_only = QCheckBox("Only rank-1 failures (first true match below rank 1)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Show every query again")
        self.attributes = QueryAttributeRow()
        self.attributes.setVisible(False)
        self.attributes_toggle = QToolButton()
        self.attributes_toggle.setText("Attributes ▸")
        self.attributes_toggle.setCheckable(True)
        self.attributes_toggle.setToolTip("Filter by occlusion, caption words, cameras, identities and tags")
        self.attributes_toggle.toggled.connect(self._show_attributes)
        self.set_cameras([])
        self.set_comparison(False)
        self._connect()
        self._tooltips()
        layout = vbox(hbox((self.search, 1), QLabel("ID"), self.identity, QLabel("Cam"), self.camera),
                      hbox(QLabel("AP"), self.ap_min, QLabel("–"), self.ap_max, 12, QLabel("vs run"),
                           self.delta_direction, self.delta_threshold, STRETCH, self.reset_button),
                      hbox(self.failures_only, STRETCH, self.attributes_toggle), self.attributes)
        layout.setSpacing(4)
        self.setLayout(layout)

    def _connect(self) -> None:
        self.search.textChanged.connect(self._emit)
        self.identity.textChanged.connect(self._emit)
        for signal in (self.camera.currentIndexChanged, self.ap_min.valueChanged, self.ap_max.valueChanged,
                       self.delta_direction.currentIndexChanged, self.delta_threshold.valueChanged,
                       self.failures_only.toggled):
            signal.connect(self._emit)
        self.delta_direction.currentIndexChanged.connect(self._delta_enabled)
        self.reset_button.clicked.connect(self.reset)
        self.attributes.changed.connect(self._emit)

    def _tooltips(self) -> None:
        self.search.setToolTip("Queries whose file name contains the text, or whose identity is the number typed")
        self.camera.setToolTip("The query's camera, numbered as in the file names (c1, c2, …)")
        self.ap_min.setToolTip("Lowest AP shown (queries without a true match have no AP: a narrowed range "
                               "hides them)")
        self.ap_max.setToolTip("Highest AP shown")
        self.delta_direction.setToolTip("With a run chosen under 'vs': only queries where this run lost, gained, or "
                                        "changed its AP by at least the threshold (in points)")

    # -- what the panel sets -------------------------------------------------------------------------------
    def set_cameras(self, numbers) -> None:
        """The camera numbers the queries use (the dataset's own, 1-based); keeps the chosen one if present."""
        current = self.camera.currentData()
        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItem("any", None)
        for number in sorted(set(numbers)):
            self.camera.addItem(f"c{number}", number)
        index = self.camera.findData(current) if current is not None else 0
        self.camera.setCurrentIndex(max(index, 0))
        self.camera.blockSignals(False)

    def set_comparison(self, available: bool) -> None:
        """The ΔAP criterion needs a compared run."""
        self.delta_direction.setEnabled(available)
        self._delta_enabled()

    def _delta_enabled(self, *_) -> None:
        self.delta_threshold.setEnabled(self.delta_direction.isEnabled()
                                        and self.delta_direction.currentData() != "any")

    def reset(self) -> None:
        """Back to 'every query' (one filterChanged)."""
        self.show_filter(self.current().cleared())
        self._emit()

    def show_filter(self, query_filter: QueryFilter) -> None:
        """Show ``query_filter`` (the state's) in the widgets, without emitting ``filterChanged``."""
        if query_filter == self.current():
            return
        f = query_filter
        widgets = (self.search, self.identity, self.camera, self.ap_min, self.ap_max, self.delta_direction,
                   self.delta_threshold, self.failures_only)
        for widget in widgets:
            widget.blockSignals(True)
        if self.search.text() != f.text:
            self.search.setText(f.text)
        self.identity.setText("" if f.identity is None else str(f.identity))
        self.camera.setCurrentIndex(max(self.camera.findData(f.camera), 0) if f.camera is not None else 0)
        self.ap_min.setValue(round(100 * f.ap_min))
        self.ap_max.setValue(round(100 * f.ap_max))
        self.delta_direction.setCurrentIndex(max(self.delta_direction.findData(f.delta_direction), 0))
        self.delta_threshold.setValue(round(100 * f.delta_threshold))
        self.failures_only.setChecked(f.only_failures)
        for widget in widgets:
            widget.blockSignals(False)
        self.attributes.show_filter(f)
        if f.uses_attributes or f.cameras or f.identities or f.tag:
            self.attributes_toggle.setChecked(True)   # a criterion set elsewhere (a saved view) stays in sight
        self._delta_enabled()

    def current(self) -> QueryFilter:
        identity = self.identity.text().strip()
        low, high = sorted((self.ap_min.value(), self.ap_max.value()))
        return QueryFilter(text=self.search.text(), identity=int(identity) if identity.isdigit() else None,
                           camera=self.camera.currentData(), ap_min=low / 100, ap_max=high / 100,
                           only_failures=self.failures_only.isChecked(),
                           delta_direction=self.delta_direction.currentData() or "any",
                           delta_threshold=self.delta_threshold.value() / 100, **self.attributes.values())

    def _show_attributes(self, shown: bool) -> None:
        self.attributes.setVisible(shown)
        self.attributes_toggle.setText("Attributes ▾" if shown else "Attributes ▸")

    def _emit(self, *_) -> None:
        self.filterChanged.emit(self.current())
