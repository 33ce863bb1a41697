import pytest

from scing_core.data.synthped import generate_synthped


@pytest.fixture(scope="session")
def tiny_synthped(tmp_path_factory):
    """32 identities (16 train / 16 test) x 8 images over 3 cameras at 64x32, plus 10 distractors."""
    root = tmp_path_factory.mktemp("synthped") / "synthped"
    generate_synthped(root, ids=32, images_per_id=8, cams=3, size=(64, 32), seed=1, distractors=10)
    return root


def quick_overrides(root, *extra):
    """The `quick` variant, trimmed further for the test suite."""
    return [f"data.root={root}", "stage1.epochs=2", "stage2.epochs=3", "eval_every=2",
            "data.ids_per_batch=4", "data.instances_per_id=4", *extra]
