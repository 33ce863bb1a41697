"""Bad inputs, one line each: every entry of these tables must end in a one-line error that names
the key or path (exit 2), with no traceback and nothing left behind. A new bad input is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scing_core.cli import main as scing
from scing_core.runs.layout import RunDir
from scing_core.runs.lock import RunLock
from scing_core.errors import RunDirError

from tests.support import strict_json, quick_overrides

# (override, what the one-line error must say)
BAD_OVERRIDES = [
    ("stage2.epochs=-3", r"stage2\.epochs = -3 is out of range: it must be >= 1"),
    ("stage1.epochs=0", r"stage1\.epochs = 0 .*>= 1"),
    ("stage1.lr=0", r"stage1\.lr = 0\.0 .*> 0"),
    ("stage2.lr=-1e-4", r"stage2\.lr = -0\.0001 .*> 0"),
    ("stage2.weight_decay=-1", r"stage2\.weight_decay .*>= 0"),
    ("stage2.gamma=0", r"stage2\.gamma .*\(0, 1\]"),
    ("stage1.milestones=[0]", r"stage1\.milestones .*epochs >= 1"),
    ("data.ids_per_batch=0", r"data\.ids_per_batch = 0 .*>= 2"),
    ("data.instances_per_id=0", r"data\.instances_per_id = 0 .*>= 1"),
    ("data.test_batch_size=0", r"data\.test_batch_size .*>= 1"),
    ("data.num_workers=-1", r"data\.num_workers .*>= 0"),
    ("data.image_size=[0,32]", r"data\.image_size .*two positive integers"),
    ("data.flip_p=1.5", r"data\.flip_p .*probability"),
    ("perturb.occlude_p=-0.1", r"perturb\.occlude_p .*probability"),
    ("device=nosuchdevice", r"device = 'nosuchdevice' .*auto, cpu, mps, cuda or cuda:N"),
    ("amp=fp8", r"amp = 'fp8' is not one of auto, bf16, fp16, off"),
    ("stage1.optimizer=rmsprop", r"stage1\.optimizer = 'rmsprop' is not one of adam, adamw, sgd"),
    ("stage2.scheduler=linear", r"stage2\.scheduler = 'linear'"),
    ("eval_every=0", r"eval_every = 0 .*>= 1"),
    ("checkpoint_every=0", r"checkpoint_every .*>= 1"),
    ("seed=-1", r"seed = -1 .*>= 0"),
    ("model.n_ctx=0", r"model\.n_ctx .*>= 1"),
    ("model.stride=0", r"model\.stride .*>= 1"),
    ("prototypes=mean", r"prototypes = 'mean' is not one of conditioned, unconditioned"),
    ("model.neck_feat=middle", r"model\.neck_feat"),
    ("loss.lambda_con=1.0 model.method=clipreid", r"lambda_con=1\.0 asks for PDCA, but method 'clipreid'"),
]


def _one_line_error(capsys, pattern: str, after_progress: bool = False) -> str:
    """The error is one line (the last, after progress bars when ``after_progress``), with no traceback."""
    import re

    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    lines = err.replace("\r", "\n").splitlines()
    assert len(lines) == 1 or after_progress, err
    assert lines[-1].startswith("error: ") and re.search(pattern, lines[-1]), err
    return lines[-1]


@pytest.mark.parametrize("override, message", BAD_OVERRIDES)
def test_bad_config_value_is_one_line_naming_key_value_and_range(tiny_synthped, tmp_path, capsys, override, message):
    run = tmp_path / "run"
    code = scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(run), "--plain",
                  f"data.root={tiny_synthped}", *override.split()])
    assert code == 2
    _one_line_error(capsys, message)
    assert not run.exists() or not (run / "checkpoints").exists()  # nothing trained, nothing half-written


@pytest.mark.parametrize("argv, message", [
    (["--nproc", "0"], r"--nproc must be >= 1"),
    (["--nproc", "-2"], r"--nproc must be >= 1"),
])
def test_bad_train_option_is_one_line(tmp_path, capsys, argv, message):
    assert scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(tmp_path / "r"), *argv]) == 2
    _one_line_error(capsys, message)


def test_base_chain_that_includes_itself_is_one_line_not_a_recursion_error(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("_base_: b.yaml\nstage1: {epochs: 2}\n")
    (tmp_path / "b.yaml").write_text("_base_: [a.yaml]\n")
    assert scing(["train", "--config", str(tmp_path / "a.yaml"), "--print-config"]) == 2
    _one_line_error(capsys, r"includes itself through _base_ \(a\.yaml -> b\.yaml -> a\.yaml\)")


@pytest.fixture(scope="module")
def finished_run(tiny_synthped, tmp_path_factory):
    run = tmp_path_factory.mktemp("finished") / "run"
    assert scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(run), "--plain",
                  *quick_overrides(tiny_synthped)]) == 0
    return run


@pytest.mark.slow
def test_resume_of_a_finished_run_changes_nothing_and_says_so(finished_run, capsys):
    files = {name: (finished_run / name).read_bytes() for name in ("metrics.json", "events.jsonl")}
    capsys.readouterr()
    assert scing(["train", "--run-dir", str(finished_run), "--resume", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "already finished" in out and "nothing to resume" in out
    assert {name: (finished_run / name).read_bytes() for name in files} == files


@pytest.mark.slow
def test_a_second_writer_is_refused_while_a_live_process_holds_the_run(finished_run, capsys):
    (finished_run / "metrics.json").rename(finished_run / "metrics.keep")  # make it resumable again
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        RunDir.at(finished_run).lock.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename,
                                                          "since": 0}))
        assert scing(["train", "--run-dir", str(finished_run), "--resume", "--plain"]) == 2
        _one_line_error(capsys, rf"being trained by process {holder.pid} on .*stop it first")
        from scing_core import api

        assert f"process {holder.pid}" in api.run_writer(finished_run)
    finally:
        holder.kill()
        holder.wait()
        (finished_run / "metrics.keep").rename(finished_run / "metrics.json")
    # the holder is gone: its lock is stale, and the next writer takes it over (then drops it)
    assert api.run_writer(finished_run) is None
    with RunLock(finished_run) as lock:
        assert lock.held and json.loads(RunDir.at(finished_run).lock.read_text())["pid"] == os.getpid()
        with pytest.raises(RunDirError, match=f"process {os.getpid()}"):
            RunLock(finished_run).__enter__()
    assert not RunDir.at(finished_run).lock.exists()
    assert scing(["train", "--run-dir", str(finished_run), "--resume", "--plain"]) == 0


# -- output paths: a clear error before any work, nothing half-written ---------------------------------------
def _immutable(folder) -> bool:
    """Make ``folder`` immutable (chattr +i) when this machine allows it (root with CAP_LINUX_IMMUTABLE)."""
    import shutil

    return shutil.which("chattr") is not None and subprocess.call(["chattr", "+i", str(folder)],
                                                                  stderr=subprocess.DEVNULL) == 0


def test_run_dir_under_a_regular_file_is_one_line_and_creates_nothing(tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    assert scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(blocker / "run")]) == 2
    _one_line_error(capsys, r"run directory .* cannot be created: .*notes\.txt' is a file")
    assert blocker.read_text() == "mine"


def test_immutable_run_dir_is_refused_before_any_work(tiny_synthped, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    if not _immutable(run):
        pytest.skip("chattr +i is not permitted here")
    try:
        assert scing(["train", "--config", "synthped/scing/quick", "--run-dir", str(run), "--plain",
                      f"data.root={tiny_synthped}"]) == 2
        _one_line_error(capsys, r"run directory .* is not writable \(Operation not permitted\)")
    finally:
        subprocess.call(["chattr", "-i", str(run)])
    assert list(run.iterdir()) == []


@pytest.mark.slow
def test_eval_folder_that_cannot_be_written_is_one_line_before_extracting(finished_run, capsys, monkeypatch):
    import shutil

    saved = finished_run.parent / "eval.keep"
    shutil.move(finished_run / "eval", saved)
    (finished_run / "eval").write_text("a file where the eval folder belongs")

    def refuse(*args, **kwargs):
        raise AssertionError("features were extracted although the eval folder cannot be written")

    monkeypatch.setattr("scing_core.cli.evaluate.load_run_model", refuse)
    try:
        assert scing(["eval", "--run-dir", str(finished_run)]) == 2
        _one_line_error(capsys, r"eval folder .*eval' cannot be created: .* is a file")
    finally:
        (finished_run / "eval").unlink()
        shutil.move(saved, finished_run / "eval")


@pytest.mark.slow
def test_an_earlier_evaluations_folder_that_cannot_be_written_is_one_line_before_extracting(finished_run, capsys,
                                                                                           monkeypatch):
    """eval/ is fine but eval/<dataset>/ of a first evaluation was made immutable (or is a file)."""
    import shutil

    def refuse(*args, **kwargs):
        raise AssertionError("features were extracted although the dataset's eval folder cannot be written")

    monkeypatch.setattr("scing_core.cli.evaluate.load_run_model", refuse)
    folder = finished_run / "eval" / "synthped"
    if _immutable(folder):
        try:
            assert scing(["eval", "--run-dir", str(finished_run)]) == 2
            _one_line_error(capsys, r"eval folder of synthped .* is not writable \(Operation not permitted\)")
        finally:
            subprocess.call(["chattr", "-i", str(folder)])
    saved = finished_run.parent / "synthped.keep"
    shutil.move(folder, saved)
    folder.write_text("a file where the dataset's eval folder belongs")
    try:
        assert scing(["eval", "--run-dir", str(finished_run)]) == 2
        _one_line_error(capsys, r"eval folder of synthped .*synthped' cannot be created: .* is a file")
    finally:
        folder.unlink()
        shutil.move(saved, folder)


@pytest.mark.parametrize("command", [["figures", "--eval-dir", "EVAL"], ["ranking", "--eval-dir", "EVAL"],
                                     ["gap", "--run-dir", "RUN"], ["robustness", "--run-dir", "RUN"]])
def test_out_that_is_an_existing_folder_is_one_line(tmp_path, capsys, command):
    argv = [part.replace("EVAL", str(tmp_path)).replace("RUN", str(tmp_path)) for part in command]
    assert scing([*argv, "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, r"--out .* is a folder; give a file path inside it")


# -- skipped inputs are counted ---------------------------------------------------------------------------
@pytest.mark.slow
def test_eval_and_extract_count_the_images_they_skip_and_strict_refuses(finished_run, tiny_synthped, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_synthped, data)
    broken = sorted((data / "query").glob("*.jpg"))[0]
    broken.write_bytes(b"not an image")
    capsys.readouterr()
    assert scing(["eval", "--run-dir", str(finished_run), "--dataset", "synthped", "--root", str(data), "--json"]) == 0
    metrics = strict_json(capsys.readouterr().out)["synthped"]
    assert metrics["skipped"] == 1 and metrics["skipped_paths"] == [str(broken)]
    assert scing(["eval", "--run-dir", str(finished_run), "--dataset", "synthped", "--root", str(data)]) == 0
    assert "skipped 1 unreadable image(s)" in capsys.readouterr().out
    assert scing(["eval", "--run-dir", str(finished_run), "--dataset", "synthped", "--root", str(data), "--strict"]) == 2
    _one_line_error(capsys, r"1 image\(s\) of 'synthped' could not be read, e\.g\. .*--strict", after_progress=True)

    out = tmp_path / "feats.npz"
    last = str(finished_run / "checkpoints" / "last.pt")
    assert scing(["extract", "--checkpoint", last, "--images", str(data / "query"), "--out", str(out)]) == 0
    assert "skipped 1 unreadable image(s)" in capsys.readouterr().out
    import numpy as np

    assert list(np.load(out)["skipped"]) == [str(broken)]
    assert scing(["extract", "--checkpoint", last, "--images", str(data / "query"), "--out", str(out), "--strict"]) == 2
    _one_line_error(capsys, r"1 of \d+ images could not be read", after_progress=True)


# -- every numeric key of the schema is checked when the config resolves --------------------------------------
def _numeric_keys(cls=None, prefix: str = "") -> list[str]:
    """Every int / float / tuple-of-numbers key of TrainConfig, dotted (bools are switches, not numbers)."""
    import dataclasses
    import typing

    from scing_core.config.schema import TrainConfig

    cls = cls or TrainConfig
    keys = []
    for name, hint in typing.get_type_hints(cls).items():
        if dataclasses.is_dataclass(hint):
            keys += _numeric_keys(hint, f"{prefix}{name}.")
        elif hint in (int, float) or (typing.get_origin(hint) is tuple
                                       and set(typing.get_args(hint)) - {Ellipsis} <= {int, float}):
            keys.append(prefix + name)
    return keys


NUMERIC_KEYS = _numeric_keys()
# values tried for each key (through the public resolution path): one at least must be refused naming the key
SCALAR_TRIES, TUPLE_TRIES = ("-1", "-0.5", "0", "1.5"), ("[]", "[-1]", "[0,0,0]", "[-1,-1,-1]")


def test_the_schema_has_the_numeric_keys_the_generated_test_expects():
    assert len(NUMERIC_KEYS) >= 60 and "loss.temperature" in NUMERIC_KEYS and "stage2.bias_lr_factor" in NUMERIC_KEYS
    assert "model.sie" not in NUMERIC_KEYS


@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_every_numeric_key_refuses_a_value_outside_its_range_naming_the_key(key):
    from scing_core.config import resolve_config
    from scing_core.errors import ConfigError

    tuple_key = key in {"data.image_size", "data.mean", "data.std", "stage1.milestones", "stage2.milestones"}
    refused = []
    for value in TUPLE_TRIES if tuple_key else SCALAR_TRIES:
        try:
            resolve_config("synthped/scing/quick", [f"{key}={value}"])
        except ConfigError as exc:
            assert key in str(exc), f"{key}={value}: the error does not name the key: {exc}"
            refused.append(value)
    assert refused, f"{key}: none of {TUPLE_TRIES if tuple_key else SCALAR_TRIES} is refused when the config resolves"


@pytest.mark.parametrize("overrides, message", [
    (["loss.temperature=-1"], r"loss\.temperature = -1(\.0)? .*> 0"),
    (["loss.label_smoothing=1.5"], r"loss\.label_smoothing = 1\.5 .*\[0, 1\)"),
    (["loss.w_i2t_ce=0", "loss.w_xm_triplet=0", "loss.w_id=0", "loss.w_triplet=0"], r"every stage-2 loss weight is 0"),
    (["model.n_cond=5"], r"model\.n_cond = 5 must be <= model\.n_ctx = 4"),
    (["loss.lambda_con=1", "perturb.views_per_image=1"], r"perturb\.views_per_image = 1; set it to 2"),
])
def test_print_config_and_a_study_plan_refuse_what_training_would(tmp_path, capsys, overrides, message):
    """The checks run when the config resolves: before stage 1 trains, in --print-config, in a plan."""
    import re

    from scing_core.errors import ConfigError
    from scing_core.study.plan import load_plan

    assert scing(["train", "--config", "synthped/scing/quick", "--print-config", *overrides]) == 2
    _one_line_error(capsys, message)
    plan = tmp_path / "bad.yaml"
    plan.write_text("title: bad\nseeds: 1\nreference: scing\noverrides: " + json.dumps(overrides) + "\nrows:\n"
                    "  - {name: scing, title: SCING, preset: synthped/scing/quick}\n"
                    "  - {name: cocoop, title: CoCoOp, preset: synthped/cocoop/quick}\n")
    with pytest.raises(ConfigError) as caught:
        load_plan(str(plan))
    assert re.search(message, str(caught.value)) and "row 'scing'" in str(caught.value)
