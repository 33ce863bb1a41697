"""Run directories as data: their layout, event log, checkpoint files, lock and ``TrainedRun`` (see
docs/architecture.md). Below the engine: everything that reads a run imports from here."""
