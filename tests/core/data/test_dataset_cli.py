"""`scing data list / info / check` through the `scing` dispatcher's main([...])."""

from __future__ import annotations

from scing_core.cli import main
from scing_core.cli import data as data_cli

from .test_datasets import MARKET_GALLERY, MARKET_QUERY, MARKET_TRAIN, market_tree, write_images


def test_data_list_prints_every_registered_name(capsys):
    assert main(["data", "list"]) == 0
    names = capsys.readouterr().out.split()
    assert {"market1501", "msmt17", "occluded_reid", "synthped", "custom"} <= set(names)
    assert names == sorted(names)


def test_data_list_layouts_and_help_document_the_folders(capsys):
    assert main(["data", "list", "--layouts"]) == 0
    out = capsys.readouterr().out
    assert "Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}" in out
    assert "mask_train_v2" in out and "occluded_body_images" in out
    assert "bounding_box_train" in data_cli.build_parser().format_help()


def test_data_info_prints_a_per_split_table(tmp_path, capsys):
    market_tree(tmp_path / "Market-1501-v15.09.15")
    assert main(["data", "info", "market1501", "--root", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("market1501: ")
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:5]}
    assert rows["split"] == ["ids", "images", "cameras"]
    assert rows["train"] == ["3", "4", "4"]
    assert rows["query"] == ["2", "2", "2"]
    assert rows["gallery"] == ["3", "4", "4"]
    assert any("cameras: 6" in line for line in lines)


def test_data_info_passes_loader_options(tmp_path, capsys):
    market_tree(tmp_path, dirs=("train", "probe", "gallery"))
    argv = ["data", "info", "custom", "--root", str(tmp_path), "--set", "query_dir=probe",
            "--set", "train_dir=train", "--set", "gallery_dir=gallery", "--set", "num_cams=9"]
    assert main(argv) == 0
    assert "cameras: 9" in capsys.readouterr().out


def test_data_info_rejects_an_unknown_option_naming_the_accepted_ones(tmp_path, capsys):
    assert main(["data", "info", "msmt17", "--root", str(tmp_path), "--set", "use_vall=false"]) == 2
    err = capsys.readouterr().err
    assert "use_vall" in err and "use_val" in err and "Traceback" not in err


def test_data_info_unknown_name_exits_2_listing_valid_names(tmp_path, capsys):
    assert main(["data", "info", "market", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown dataset 'market'") and "market1501" in err and "dukemtmc" in err


def test_data_info_missing_folder_exits_2_with_one_line(tmp_path, capsys):
    assert main(["data", "info", "dukemtmc", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "DukeMTMC-reID" in err


def test_data_check_passes_on_readable_images(tmp_path, capsys):
    market_tree(tmp_path, files=write_images)
    assert main(["data", "check", "market1501", "--root", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "10 images checked, 0 unreadable" in captured.out
    assert "checked 10/10 images" in captured.err  # progress count


def test_data_check_reports_unreadable_files_with_their_paths(tmp_path, capsys):
    market_tree(tmp_path, files=write_images)
    corrupt = tmp_path / "bounding_box_test" / MARKET_GALLERY[0]
    corrupt.write_bytes(corrupt.read_bytes()[:20])  # truncated JPEG
    empty = tmp_path / "query" / MARKET_QUERY[1]
    empty.write_bytes(b"")
    assert main(["data", "check", "market1501", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    unreadable = sorted(line.split()[1] for line in out.splitlines() if line.startswith("unreadable:"))
    assert unreadable == sorted([str(corrupt), str(empty)])
    assert f"{len(MARKET_TRAIN) + 2 + 4} images checked, 2 unreadable" in out


def test_data_check_counts_symlink_loops_and_dangling_links_by_name(tmp_path, capsys, caplog):
    market_tree(tmp_path, files=write_images)
    loop_a, loop_b = tmp_path / "query" / "0101_c1s1_000001_00.jpg", tmp_path / "query" / "0101_c2s1_000001_00.jpg"
    loop_a.symlink_to(loop_b.name)
    loop_b.symlink_to(loop_a.name)
    dangling = tmp_path / "bounding_box_test" / "0101_c3s1_000001_00.jpg"
    dangling.symlink_to(tmp_path / "nowhere.jpg")
    assert main(["data", "check", "market1501", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    unreadable = {line.split()[1]: line for line in out.splitlines() if line.startswith("unreadable:")}
    assert set(unreadable) == {str(loop_a), str(loop_b), str(dangling)}
    assert "symbolic links" in unreadable[str(loop_a)]
    assert f"{len(MARKET_TRAIN) + 2 + 4 + 3} images checked, 3 unreadable" in out
    assert "lead nowhere (a symlink loop or a missing target)" in caplog.text
