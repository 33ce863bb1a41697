"""Qt-free view-models of the studio's panels (napari-style: state here, widgets subscribe).

Nothing in this package imports Qt, pyqtgraph or the core: the panels feed it plain data (run
summaries, eval arrays, events) and render what it computes, so it is unit-tested without a display.
Every panel's state is evented with psygnal signals, emitted once per real change: the workspace
(``workspace.WorkspaceState``), Training (``runs.RunListState``, ``training.TrainingState``),
Retrieval (``retrieval.RetrievalState`` per eval, ``retrieval_browser.RetrievalBrowser`` for the eval
on screen), and the analysis panels on ``evented.EventedState`` (``analysis.AnalysisState`` for
Saliency and Modality gap, ``saliency.SaliencyState``, ``gap.GapState``, ``study.StudyState``,
``dataset_summary.DatasetState``). Whoever changes a state only writes to it; the widgets subscribe
and draw (docs/architecture.md, "State that emits"). Plain rules live here too: where runs train
(``launcher``: the launch forms' values and what is saved), a submitted run's status from its
scheduler job (``runs_status``), and a study that runs or waits to be collected (``study_live``).
"""
