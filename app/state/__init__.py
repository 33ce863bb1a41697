"""Qt-free view-models of the studio's panels (napari-style: state here, widgets subscribe).

Nothing in this package imports Qt, pyqtgraph or the core: the panels feed it plain data (run
summaries, eval arrays, events) and render what it computes, so it is unit-tested without a display.
"""
