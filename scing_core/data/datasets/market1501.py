"""Market-1501 (Zheng et al., ICCV 2015): 751 train ids, 6 cameras, pid 0 = gallery distractors."""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("Market-1501-v15.09.15", "market1501", "Market-1501", "market-1501")


@register_dataset("market1501")
def load_market1501(root: str) -> ReIDDataset:
    """Market-1501: Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>s<seq>_<frame>_<n>.jpg
    (also under market1501/). pid -1 = junk (dropped), pid 0 = gallery distractors; 6 cameras.
    """
    return load_market_layout(root, "market1501", FOLDERS, num_cams=6)
