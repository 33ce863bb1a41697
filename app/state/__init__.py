"""Qt-free view-models of the studio's panels (napari-style: state here, widgets subscribe).

Nothing in this package imports Qt, pyqtgraph or the core: the panels feed it plain data (run
summaries, eval arrays, events) and render what it computes, so it is unit-tested without a display.
State that changes while it is shown is evented with psygnal signals — ``workspace.WorkspaceState``
(``workspace_changed``), ``runs.RunListState`` (``rows_changed``, ``selection_changed``,
``overlay_changed``, ``statuses_changed``) and ``training.TrainingState`` (``actions_changed``,
``runs_ended_elsewhere``) — and the widgets subscribe and draw (docs/architecture.md, "State that emits").
"""
