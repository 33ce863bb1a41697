"""``study.json`` and ``study.md``: the statistics of a study's finished runs.

Per row and test set: mean ± 95 % t interval over seeds of mAP and R1, and every seed's value.
Per pair of rows (each row against the reference, and each row against the row before it — Table 3's
one-switch steps): the paired per-query ΔAP with a bootstrap interval, the per-seed ΔmAP with its t
interval, and a sign test over seeds. Runs that have not finished are listed as missing and left
out; pairs use the seeds both rows finished.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from scing_core.runs.layout import RunDir
from scing_core.runs.trained import TrainedRun
from scing_core.atomic import read_json, write_json_atomic, write_text_atomic
from scing_core.study.plan import StudyPlan
from scing_core.study.stats import mean_ci, paired_delta_ap, sign_test

STUDY_VERSION = 1


def finished_metrics(run_dir: Path) -> dict:
    """``{test set: metrics}`` of a run that completed (``{}`` while it has not): ``TrainedRun.final_metrics``."""
    return TrainedRun(RunDir.at(run_dir)).final_metrics() or {}


def per_query_ap(run_dir: Path, label: str) -> tuple[np.ndarray, list[str]]:
    """The run's per-query AP on a test set and the query paths (to check the queries line up)."""
    folder = RunDir.at(run_dir).eval_dir(label)
    with np.load(folder / "per_query.npz") as data:
        ap = np.asarray(data["ap"], dtype=np.float64)
    paths = (read_json(folder / "query.json") or {}).get("paths", [])
    return ap, [str(p) for p in paths]


def _pairs(plan: StudyPlan) -> list[tuple[str, str, str]]:
    """``(a, b, kind)``: a - b for every row against the reference, then each row against the one before."""
    names = [r.name for r in plan.rows]
    out = [(n, plan.reference, "reference") for n in names if n != plan.reference]
    for before, after in zip(names, names[1:]):
        if plan.reference not in (before, after):
            out.append((after, before, "step"))
    return out


def collect(plan: StudyPlan, study_dir: Path) -> dict:
    """The study's statistics from its run directories (``study.json``'s content)."""
    runs = {(r.name, s): study_dir / "runs" / plan.run_name(r, s) for r in plan.rows for s in plan.seeds}
    finished = {key: finished_metrics(path) for key, path in runs.items()}
    test_sets = next((list(m) for m in finished.values() if m), [])
    rows = []
    for row in plan.rows:
        done = [s for s in plan.seeds if all(t in finished[(row.name, s)] for t in test_sets) and test_sets]
        entry = {"name": row.name, "title": row.title, "preset": row.preset, "overrides": list(row.overrides),
                 "runs": {str(s): str(runs[(row.name, s)].relative_to(study_dir)) for s in plan.seeds},
                 "seeds": done, "missing": [s for s in plan.seeds if s not in done], "metrics": {}}
        for test in test_sets if done else []:
            entry["metrics"][test] = {k: mean_ci([finished[(row.name, s)][test][k] for s in done]) for k in ("mAP", "R1")}
        rows.append(entry)
    pairs = []
    for a, b, kind in _pairs(plan):
        seeds = [s for s in plan.seeds if s in _row(rows, a)["seeds"] and s in _row(rows, b)["seeds"]]
        for test in test_sets if seeds else []:
            pairs.append({"a": a, "b": b, "kind": kind, "test_set": test, "seeds": seeds,
                          **_pair_stats(finished, runs, a, b, test, seeds)})
    return {"version": STUDY_VERSION, "plan": plan.as_dict(), "test_sets": test_sets, "reference": plan.reference,
            "rows": rows, "pairs": pairs, "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def _row(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


def _pair_stats(finished, runs, a: str, b: str, test: str, seeds: list[int]) -> dict:
    ap_a, ap_b, reference_paths = [], [], None
    for s in seeds:
        for name, store in ((a, ap_a), (b, ap_b)):
            ap, paths = per_query_ap(runs[(name, s)], test)
            if reference_paths is None:
                reference_paths = paths
            elif paths != reference_paths:
                raise ValueError(f"run {runs[(name, s)]} was evaluated on other queries of '{test}' than the rest "
                                 "of the study; re-evaluate it or start the study again")
            store.append(ap)
    map_a = [finished[(a, s)][test]["mAP"] for s in seeds]
    map_b = [finished[(b, s)][test]["mAP"] for s in seeds]
    return {"delta_ap": paired_delta_ap(np.stack(ap_a), np.stack(ap_b)),
            "delta_map": mean_ci([x - y for x, y in zip(map_a, map_b)]),
            "sign": sign_test(map_a, map_b)}


def write_study(plan: StudyPlan, study_dir: Path, seconds: float | None = None) -> dict:
    """Collect, then write ``study.json`` and ``study.md`` atomically; returns the collected dict."""
    study = collect(plan, study_dir)
    if seconds is not None:
        study["seconds"] = round(float(seconds), 1)
    write_json_atomic(study_dir / "study.json", study)
    write_text_atomic(study_dir / "study.md", render_markdown(study))
    return study


# -- markdown -------------------------------------------------------------------------------------------
def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _interval(stat: dict, signed: bool = False) -> str:
    sign = "+" if signed and stat["mean"] >= 0 else ""
    if stat.get("lo") is None:
        return f"{sign}{_pct(stat['mean'])}"
    return f"{sign}{_pct(stat['mean'])} [{_pct(stat['lo'])}, {_pct(stat['hi'])}]"


def render_markdown(study: dict) -> str:
    plan, titles = study["plan"], {r["name"]: r["title"] for r in study["rows"]}
    lines = [f"# Study: {plan['title']}", "",
             f"Plan `{plan['name']}` ({plan['source']}), seeds {plan['seeds']}, reference row "
             f"**{titles[study['reference']]}**. Each run reports its final epoch. Percentages; intervals are 95 %: "
             "Student-t over seeds for the row means and the per-seed ΔmAP, a bootstrap over seeds and queries "
             "for the paired per-query ΔAP. The sign test counts the seeds on which a row's mAP beats the other's "
             "(two-sided binomial; with 5 seeds its smallest p is 0.0625).", ""]
    for test in study["test_sets"]:
        lines += [f"## {test}", "", "| row | preset | mAP (mean [95 % CI]) | R1 | mAP per seed |", "|---|---|---|---|---|"]
        for row in study["rows"]:
            m = row["metrics"].get(test)
            if not m:
                lines.append(f"| {row['title']} | `{row['preset']}` | not finished | | |")
                continue
            seeds = ", ".join(_pct(v) for v in m["mAP"]["values"])
            lines.append(f"| {row['title']} | `{row['preset']}` | {_interval(m['mAP'])} | {_interval(m['R1'])} | {seeds} |")
        lines += ["", "| comparison | paired ΔAP [95 % bootstrap CI] | ΔmAP [95 % t CI] | wins / losses (p) |",
                  "|---|---|---|---|"]
        for pair in (p for p in study["pairs"] if p["test_set"] == test):
            sign = pair["sign"]
            lines.append(f"| {titles[pair['a']]} − {titles[pair['b']]} | {_interval(pair['delta_ap'], True)} | "
                         f"{_interval(pair['delta_map'], True)} | {sign['wins']} / {sign['losses']} (p = {sign['p']:.3g}) |")
        lines.append("")
    missing = [f"{r['title']}: seeds {r['missing']}" for r in study["rows"] if r["missing"]]
    if missing:
        lines += ["Not finished (left out): " + "; ".join(missing), ""]
    if study.get("seconds") is not None:
        lines += [f"Built in {study['seconds'] / 60:.1f} min (this call).", ""]
    return "\n".join(lines)
