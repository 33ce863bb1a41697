"""Bring your own data without code: any folder in the Market-1501 layout.

``root`` must be the folder itself (it holds ``bounding_box_train``, ``query`` and
``bounding_box_test``, or the folder names passed as options). Files are named
``<pid>_c<cam>...`` (cam from 1, pid -1 = junk, pid 0 = gallery distractors). Without a train
folder the dataset is test-only (``extras['test_only']``). The camera count is read from the files.
"""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset


@register_dataset("custom")
def load_custom(
    root: str,
    train_dir: str = "bounding_box_train",
    query_dir: str = "query",
    gallery_dir: str = "bounding_box_test",
    num_cams: int | None = None,
) -> ReIDDataset:
    """Custom: ROOT/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>*.jpg (Market naming; no train
    folder = test-only). Options train_dir, query_dir, gallery_dir rename the folders; num_cams fixes the camera count.
    """
    return load_market_layout(
        root,
        "custom",
        (),
        train_dir=train_dir,
        query_dir=query_dir,
        gallery_dir=gallery_dir,
        num_cams=num_cams,
        require_train=False,
    )
