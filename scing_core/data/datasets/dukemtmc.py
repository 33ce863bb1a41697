"""DukeMTMC-reID (Zheng et al., ICCV 2017; Ristani et al., ECCVW 2016): 702 train ids, 8 cameras."""

from __future__ import annotations

from scing_core.data.datasets import register_dataset
from scing_core.data.datasets.market_layout import load_market_layout
from scing_core.data.types import ReIDDataset

FOLDERS = ("DukeMTMC-reID", "dukemtmcreid", "dukemtmc-reid", "DukeMTMC-reid", "dukemtmc")


@register_dataset("dukemtmc")
def load_dukemtmc(root: str) -> ReIDDataset:
    """DukeMTMC-reID: DukeMTMC-reID/{bounding_box_train,query,bounding_box_test}/<pid>_c<cam>_f<frame>.jpg
    (also under dukemtmcreid/ or dukemtmc-reid/); 8 cameras.
    """
    return load_market_layout(root, "dukemtmc", FOLDERS, num_cams=8)
