"""`scing eval` and `scing extract` end to end on a trained tiny run."""


import numpy as np
import pytest

from scing_core import api
from scing_core.cli import main as scing
from scing_core.cli.evaluate import main as eval_main
from scing_core.cli.extract import main as extract_main
from scing_core.errors import ConfigError, RunDirError

from tests.support import strict_json, quick_overrides

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained_run(tiny_synthped, tmp_path_factory):
    run = tmp_path_factory.mktemp("evalrun") / "run"
    assert scing(["train", "--config", "synthped/cocoop/quick", "--run-dir", str(run), "--plain",
                  *quick_overrides(tiny_synthped)]) == 0
    return run


def test_eval_writes_artefacts_the_api_loads_without_recomputing(trained_run, capsys):
    assert eval_main(["--run-dir", str(trained_run), "--checkpoint", "last", "--flip", "--json"]) == 0
    results = strict_json(capsys.readouterr().out)
    metrics = results["synthped"]
    assert 0 <= metrics["mAP"] <= 1 and metrics["flip"] is True
    art = api.load_eval(trained_run, "synthped_flip")
    assert art.topk_indices.shape[0] == len(art.query.pids) == len(art.ap)
    assert art.metrics["mAP"] == pytest.approx(metrics["mAP"])
    assert art.topk_junk.dtype == bool


def test_eval_reports_every_descriptor_beside_the_runs_own(trained_run, capsys):
    assert eval_main(["--run-dir", str(trained_run), "--json"]) == 0
    metrics = strict_json(capsys.readouterr().out)["synthped"]
    assert metrics["descriptor"] == "proj"  # the SCING recipe's g_p (cocoop trains with it)
    assert set(metrics["descriptors"]) == {"concat", "proj", "pre_proj"}
    assert metrics["descriptors"]["proj"]["mAP"] == pytest.approx(metrics["mAP"])
    assert metrics["checkpoint"].endswith("last.pt")  # `selected` = the final epoch by default
    assert eval_main(["--run-dir", str(trained_run)]) == 0
    assert "descriptors, mAP / R1: concat" in capsys.readouterr().out


def test_eval_with_rerank_uses_clip_reids_parameters_and_says_so(trained_run, tiny_synthped, capsys):
    """CLIP-ReID's R1_mAP_eval re-ranks with k1=50, k2=15, lambda=0.3: the default, printed and recorded."""
    assert eval_main(["--run-dir", str(trained_run), "--dataset", "synthped", "--root", str(tiny_synthped), "--rerank"]) == 0
    out = capsys.readouterr().out
    assert "synthped: mAP" in out
    assert "re-ranked: k1=50, k2=15, lambda=0.3 (CLIP-ReID's); ties in gallery order" in out
    saved = strict_json((trained_run / "eval" / "synthped_rerank" / "metrics.json").read_text())
    assert saved["rerank"] is True
    assert saved["rerank_params"] == {"k1": 50, "k2": 15, "lambda_value": 0.3, "ties": "gallery order"}
    assert eval_main(["--run-dir", str(trained_run), "--dataset", "synthped", "--root", str(tiny_synthped), "--rerank",
                      "--k1", "20", "--k2", "6", "--json"]) == 0
    other = strict_json(capsys.readouterr().out)["synthped"]
    assert other["rerank_params"]["k1"] == 20 and other["eval_dir"].endswith("synthped_rerank-k20-6-0.3")


def test_rerank_parameters_without_rerank_are_one_clear_error(trained_run):
    with pytest.raises(ConfigError, match="add --rerank"):
        eval_main(["--run-dir", str(trained_run), "--k1", "20"])


def test_eval_of_a_folder_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(RunDirError, match="not a run directory"):
        eval_main(["--run-dir", str(tmp_path)])
    assert scing(["eval", "--run-dir", str(tmp_path)]) == 2  # one line on stderr, no traceback


def test_extract_embeds_a_folder_of_crops(trained_run, tiny_synthped, tmp_path):
    out = tmp_path / "feats.npz"
    assert extract_main(["--checkpoint", str(trained_run / "checkpoints" / "last.pt"),
                         "--images", str(tiny_synthped / "query"), "--out", str(out)]) == 0
    data = np.load(out)
    n = len(list((tiny_synthped / "query").glob("*.jpg")))
    assert data["features"].shape[0] == n and len(data["paths"]) == n
    assert np.allclose(np.linalg.norm(data["features"], axis=1), 1, atol=1e-5)


def test_extract_with_no_images_gives_a_clear_error(trained_run, tmp_path):
    assert scing(["extract", "--checkpoint", str(trained_run / "checkpoints" / "last.pt"),
                  "--images", str(tmp_path / "*.jpg"), "--out", str(tmp_path / "f.npz")]) == 2


def test_api_summarizes_runs_in_a_workspace(trained_run):
    runs = api.list_runs(trained_run.parent)
    assert [r.path.name for r in runs] == ["run"]
    assert runs[0].status == "completed" and runs[0].method == "cocoop"
    assert "synthped" in runs[0].metrics["final"]
    cmd = api.train_command("synthped/scing/quick", "/tmp/x", ["stage1.epochs=1"])
    assert cmd[-3:] == ["--config", "synthped/scing/quick", "stage1.epochs=1"]


def test_a_loaded_model_gives_the_trained_text_features(trained_run):
    """The prompt's fixed words are part of the checkpoint: two loads give identical text features,
    and the loaded stage-1 model reproduces the run's prototypes."""
    import torch

    from scing_core.runs.trained import load_prototypes, load_run_model

    texts = []
    for _ in range(2):
        model, _, _ = load_run_model(trained_run, "stage1", "cpu")
        with torch.inference_mode():
            texts.append(model.encode_text_unconditioned(torch.arange(model.num_classes)))
    assert torch.equal(texts[0], texts[1])
    protos = load_prototypes(trained_run)
    assert protos.shape == texts[0].shape


def test_a_run_directory_opens_as_the_workspace_that_holds_it(tmp_path):
    for layout in ("ws/runs/a", "ws/b"):
        run = tmp_path / layout
        run.mkdir(parents=True)
        (run / "config.yaml").write_text("seed: 0\n")
    assert api.workspace_of(tmp_path / "ws/runs/a") == ((tmp_path / "ws").resolve(), (tmp_path / "ws/runs/a").resolve())
    assert api.workspace_of(tmp_path / "ws/b") == ((tmp_path / "ws").resolve(), (tmp_path / "ws/b").resolve())
    assert api.workspace_of(tmp_path / "ws") == ((tmp_path / "ws").resolve(), None)
    assert api.workspace_of(tmp_path / "missing") == ((tmp_path / "missing").resolve(), None)


def test_evaluation_extracts_in_fp32_on_a_gpu_unless_amp_is_asked_for(monkeypatch):
    """CLIP-ReID's test runs in fp32: features for evaluation use autocast only with eval_precision=amp."""
    import torch

    from scing_core.config import resolve_config
    from scing_core.engine import evaluate

    seen = []
    monkeypatch.setattr(evaluate, "extract_features", lambda *a, amp, **k: seen.append(amp))
    cuda = torch.device("cuda")
    model = type("Model", (), {"test_feature": "proj"})()
    for overrides, wanted in (([], False), (["eval_precision=amp"], True), (["eval_precision=amp", "amp=off"], False)):
        cfg = resolve_config("synthped/scing/quick", overrides)
        evaluate._extract(model, [None], cfg, cuda, flip=False, progress=False, all_descriptors=False)
        assert seen.pop() is wanted, overrides
        assert evaluate.evaluation_amp(cfg, torch.device("cpu")) is False
