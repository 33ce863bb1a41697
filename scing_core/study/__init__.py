"""Studies: a plan's rows (presets) x seeds, trained into one workspace, with paired statistics.

``load_plan("study/table3-synthped")`` reads a plan, :func:`run_study` trains it (resumable), and
``study.json`` / ``study.md`` hold per row the mean ± 95 % CI over seeds, per pair of rows the paired
per-query ΔAP with a bootstrap CI and a sign test over seeds (:mod:`scing_core.study.stats`).
"""

from scing_core.study.plan import StudyPlan, StudyRow, list_plans, load_plan
from scing_core.study.report import collect, render_markdown, write_study
from scing_core.study.runner import StudyFolder, StudyOptions, run_study

__all__ = ["StudyFolder", "StudyOptions", "StudyPlan", "StudyRow", "collect", "list_plans", "load_plan",
           "render_markdown", "run_study", "write_study"]
