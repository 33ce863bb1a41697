"""SynthPed: layout, naming, splits, determinism, masks, captions, occlusion and `scing synth`."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scing_core.cli import main as scing_main
from scing_core.data.synthped import (
    INCOMPLETE_MARKER, SPLIT_DIRS, generate_synthped, identity_for, synthped_state,
)
from scing_core.data.synthped_attributes import caption, sample_identity, visible_attributes
from scing_core.data.synthped_sheet import render_contact_sheet
from scing_core.errors import DatasetError, InputError

MARKET = re.compile(r"([-\d]+)_c(\d)")
FULL_NAME = re.compile(r"^(\d{4})_c(\d)s1_(\d{6})_00\.jpg$")
TINY = dict(ids=6, images_per_id=4, cams=4, size=(64, 32), distractors=3)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthped") / "synthped"
    generate_synthped(root, seed=3, **TINY)
    return root


@pytest.fixture(scope="module")
def occluded_pair(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("occluded")
    clean, hidden = base / "clean", base / "occluded"
    generate_synthped(clean, seed=5, **TINY)
    generate_synthped(hidden, seed=5, occluded=True, **TINY)
    return clean, hidden


def images(root: Path) -> dict[str, list[Path]]:
    return {split: sorted((root / sub).glob("*.jpg")) for split, sub in SPLIT_DIRS.items()}


def parsed(paths: list[Path]) -> list[tuple[int, int]]:
    out = []
    for p in paths:
        m = MARKET.search(p.name)
        assert m is not None and FULL_NAME.match(p.name), p.name
        out.append((int(m.group(1)), int(m.group(2)) - 1))
    return out


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_output_has_market_folders_masks_captions_and_meta(tiny):
    for sub in SPLIT_DIRS.values():
        assert (tiny / sub).is_dir() and (tiny / "masks" / sub).is_dir()
    meta = json.loads((tiny / "meta.json").read_text())
    assert meta["generator"] == "synthped" and meta["version"] >= 1 and meta["parameters"]["seed"] == 3
    assert (tiny / "captions.jsonl").is_file()
    assert not (tiny / INCOMPLETE_MARKER).exists() and synthped_state(tiny) == "complete"


def test_counts_match_the_request_and_meta(tiny):
    files = images(tiny)
    assert sum(len(v) for v in files.values()) == TINY["ids"] * TINY["images_per_id"] + TINY["distractors"]
    counts = json.loads((tiny / "meta.json").read_text())["counts"]
    for split, paths in files.items():
        assert counts[split]["images"] == len(paths)
    assert counts["gallery"]["distractors"] == TINY["distractors"]
    assert counts["train"]["ids"] == TINY["ids"] // 2


def test_every_name_parses_with_the_market_regex_and_is_unique(tiny):
    names = [p.name for paths in images(tiny).values() for p in paths]
    assert len(names) == len(set(names))
    for pid, cam in parsed([p for paths in images(tiny).values() for p in paths]):
        assert 0 <= pid <= TINY["ids"] and 0 <= cam < TINY["cams"]


def test_distractors_are_pid_zero_and_only_in_the_gallery(tiny):
    files = images(tiny)
    assert all(pid != 0 for pid, _ in parsed(files["train"]) + parsed(files["query"]))
    assert sum(pid == 0 for pid, _ in parsed(files["gallery"])) == TINY["distractors"]


def test_train_and_test_identities_are_disjoint_and_queries_follow_market_rules(tiny):
    files = images(tiny)
    train = {pid for pid, _ in parsed(files["train"])}
    query, gallery = parsed(files["query"]), parsed(files["gallery"])
    test_ids = {pid for pid, _ in query + gallery} - {0}
    assert train and test_ids and not train & test_ids
    assert train | test_ids == set(range(1, TINY["ids"] + 1))
    per_id_cam = defaultdict(int)
    for pid, cam in query:
        per_id_cam[pid, cam] += 1
        assert any(g_pid == pid and g_cam != cam for g_pid, g_cam in gallery), "query without a cross-camera match"
    assert max(per_id_cam.values()) == 1
    assert {pid for pid, _ in query} == test_ids


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tiny, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    generate_synthped(again, seed=3, **TINY)
    generate_synthped(other, seed=4, **TINY)
    assert tree_digest(again) == tree_digest(tiny)
    first = {h for k, h in tree_digest(tiny).items() if k.endswith(".jpg")}
    second = {h for k, h in tree_digest(other).items() if k.endswith(".jpg")}
    assert len(first) == len(second) == TINY["ids"] * TINY["images_per_id"] + TINY["distractors"]
    assert not first & second


def test_masks_are_binary_nonempty_and_image_sized(tiny):
    for paths in images(tiny).values():
        for path in paths:
            mask_path = tiny / "masks" / path.parent.name / (path.stem + ".png")
            mask = np.asarray(Image.open(mask_path))
            with Image.open(path) as im:
                assert im.size == (TINY["size"][1], TINY["size"][0]) and im.mode == "RGB"
            assert mask.shape == TINY["size"][:2]
            assert set(np.unique(mask)) <= {0, 255}
            assert 0.05 < (mask > 0).mean() < 0.95, mask_path


def test_captions_cover_every_image_once_with_matching_ids(tiny):
    records = [json.loads(line) for line in (tiny / "captions.jsonl").read_text().splitlines()]
    on_disk = {(p.parent.name, p.name) for paths in images(tiny).values() for p in paths}
    assert {(r["split_dir"], r["file"]) for r in records} == on_disk and len(records) == len(on_disk)
    for r in records:
        pid, cam = parsed([Path(r["file"])])[0]
        assert (r["pid"], r["camid"]) == (pid, cam)
        assert r["caption"].startswith(("a man", "a woman", "a person")) and r["attributes"]["view"] in ("front", "back", "side")


def test_occluded_queries_hide_part_of_the_body_seen_in_the_clean_run(occluded_pair):
    clean, hidden = occluded_pair
    assert [p.name for p in images(clean)["query"]] == [p.name for p in images(hidden)["query"]]
    records = {r["file"]: r for r in map(json.loads, (hidden / "captions.jsonl").read_text().splitlines())}
    for path in images(hidden)["query"]:
        area = lambda root: (np.asarray(Image.open(root / "masks" / "query" / (path.stem + ".png"))) > 0).sum()  # noqa: E731
        seen, full = area(hidden), area(clean)
        assert seen < full, path.name
        assert 0.1 < 1 - seen / full < 0.75, (path.name, seen, full)
        assert records[path.name]["occlusion"]["occluder"] in ("car", "pole", "bush", "pedestrian")
    meta = json.loads((hidden / "meta.json").read_text())
    assert meta["occlusion"]["occluded_images"] >= len(images(hidden)["query"])


def test_loader_reads_the_output_with_masks(tiny):
    from scing_core.data import load_dataset

    data = load_dataset("synthped", tiny)
    assert len(data.train) == TINY["ids"] // 2 * TINY["images_per_id"]
    assert data.num_train_pids == TINY["ids"] // 2
    assert {s.pid for s in data.gallery} >= {0}
    assert Path(data.extras["mask_dir"]) == tiny / "masks"


def test_identity_seed_and_pid_offset_choose_other_people(tmp_path):
    assert identity_for(1, 0) == identity_for(1, 0)
    assert identity_for(1, 0).signature() != identity_for(1, 1).signature()
    generate_synthped(tmp_path / "clip", seed=0, pid_offset=100, **TINY)
    pids = {pid for pid, _ in parsed([p for v in images(tmp_path / "clip").values() for p in v])} - {0}
    assert pids == set(range(101, 101 + TINY["ids"]))
    demo = {identity_for(p, 0).signature() for p in range(1, TINY["ids"] + 1)}
    assert not demo & {identity_for(p, 0).signature() for p in pids}


def test_captions_name_only_what_the_view_and_occlusion_show():
    idt = sample_identity(np.random.default_rng(0))
    idt = type(idt)(**{**idt.__dict__, "gender": "woman", "hair_length": "long", "hair_colour": "black", "hat": "none",
                       "top_colour": "red", "top_pattern": "stripes", "top_second_colour": "white", "sleeves": "short",
                       "bottom_colour": "blue", "bottom_type": "trousers", "shoes_colour": "white", "bag": "backpack",
                       "bag_colour": "black"})
    everything = dict(head=True, torso=True, legs=True, feet=True, bag=True)
    assert caption(visible_attributes(idt, "back", everything)) == (
        "a woman with long black hair wearing a red and white striped short-sleeved top, blue trousers and white shoes, "
        "carrying a black backpack")
    assert "backpack" not in caption(visible_attributes(idt, "front", everything))
    legs_hidden = visible_attributes(idt, "side", dict(everything, legs=False, feet=False))
    assert "bottom_type" not in legs_hidden and "shoes" not in caption(legs_hidden)
    logo = type(idt)(**{**idt.__dict__, "top_pattern": "logo"})
    assert "logo" in caption(visible_attributes(logo, "front", everything))
    assert "logo" not in caption(visible_attributes(logo, "back", everything))


@pytest.mark.parametrize("bad", [dict(ids=1), dict(images_per_id=1), dict(cams=1), dict(cams=10), dict(size=(8, 8)),
                                 dict(distractors=-1), dict(pid_offset=9998), dict(seed=-1), dict(identity_seed=-5)])
def test_bad_arguments_raise_one_input_error(tmp_path, bad):
    with pytest.raises(InputError):
        generate_synthped(tmp_path / "x", **{**TINY, **bad})
    assert not (tmp_path / "x").exists()


def test_interrupted_run_is_detected_and_replaced_only_with_force(tmp_path):
    out = tmp_path / "synthped"

    def stop(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_synthped(out, progress=stop, **TINY)
    assert synthped_state(out) == "incomplete" and not (out / "meta.json").exists()
    with pytest.raises(DatasetError, match="interrupted"):
        generate_synthped(out, **TINY)
    generate_synthped(out, overwrite=True, **TINY)
    assert synthped_state(out) == "complete"
    assert sum(len(v) for v in images(out).values()) == TINY["ids"] * TINY["images_per_id"] + TINY["distractors"]


def test_scing_synth_writes_refuses_foreign_folders_and_needs_force(tmp_path, capsys):
    out = tmp_path / "sp"
    args = ["synth", "--out", str(out), "--ids", "6", "--images-per-id", "4", "--cams", "3", "--size", "64x32",
            "--distractors", "2", "--seed", "1"]
    assert scing_main(args + ["--contact-sheet", str(tmp_path / "sheet.png")]) == 0
    assert "26 images" in capsys.readouterr().out
    assert Image.open(tmp_path / "sheet.png").size[0] > 64
    assert scing_main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert scing_main(args + ["--force", "--occluded"]) == 0
    assert json.loads((out / "meta.json").read_text())["parameters"]["occluded"] is True

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert scing_main(["synth", "--out", str(foreign), "--force", "--ids", "4", "--images-per-id", "2"]) == 2
    assert "not a SynthPed output" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "keep me" and sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert scing_main(["synth", "--out", str(tmp_path / "y"), "--size", "128by64"]) == 2
    assert "HEIGHTxWIDTH" in capsys.readouterr().err


def test_contact_sheet_shows_queries_and_distractors(tiny, tmp_path):
    sheet = render_contact_sheet(tiny, tmp_path / "s.png", rows=4, per_row=5, with_masks=True)
    with Image.open(sheet) as im:
        assert im.size[1] >= 4 * TINY["size"][0] * 2 and im.mode == "RGB"
