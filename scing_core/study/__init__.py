"""Studies: a plan's rows (presets) x seeds, trained into one workspace, with paired statistics.

``plan.load_plan("study/table3-synthped")`` reads a plan, ``runner.run_study`` trains it (resumable),
and ``study.json`` / ``study.md`` hold per row the mean ± 95 % CI over seeds, per pair of rows the
paired per-query ΔAP with a bootstrap CI and a sign test over seeds (:mod:`scing_core.study.stats`).

The package imports nothing itself: ``scing_core.study.plan`` (plans) loads without torch, for the
studio's plan list; ``runner`` (training) and ``report`` (scipy) load when used.
"""
