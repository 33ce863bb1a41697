"""CLIP-ReID's heads: a BNNeck (BatchNorm1d with a frozen bias) and a bias-free identity classifier
on each image feature (before and after projection)."""

from __future__ import annotations

from torch import nn


class BNNeck(nn.BatchNorm1d):
    """BatchNorm1d whose bias stays at zero (``requires_grad=False``), weight initialised to one."""

    def __init__(self, width: int) -> None:
        super().__init__(width)
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        self.bias.requires_grad_(False)


class IdentityClassifier(nn.Linear):
    """Linear identity classifier without bias, weights ~ N(0, 0.001) (CLIP-ReID's init)."""

    def __init__(self, width: int, num_classes: int) -> None:
        super().__init__(width, num_classes, bias=False)
        nn.init.normal_(self.weight, std=0.001)
