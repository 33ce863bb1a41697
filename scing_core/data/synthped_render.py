"""One SynthPed image: background, person, optional occluder, camera optics, mask and caption.

Everything is drawn on a canvas twice the output size and reduced with a box filter (anti-aliasing).
The person mask is the *visible* person: pixels covered by an occluder are 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from scing_core.data.synthped_attributes import VIEWS, CameraStyle, Identity, caption, sample_identity, visible_attributes
from scing_core.data.synthped_draw import REGIONS, draw_person
from scing_core.data.synthped_scene import OCCLUDER_KINDS, apply_camera, draw_background, make_occluder

SUPERSAMPLE = 2
OCCLUSION_RANGE = (0.2, 0.6)   # share of the body an occluder covers
VISIBLE_ENOUGH = 0.5           # a region is named in the caption when at least this share of it shows


@dataclass
class RenderedImage:
    """A finished image with its visible-person mask and what can be said about it."""

    image: Image.Image         # RGB, output size
    mask: Image.Image          # L, 0 / 255, output size, visible person only
    attributes: dict           # visible attributes (see synthped_attributes.visible_attributes)
    caption: str
    view: str
    occluder: str | None       # kind of occluder, or None
    occluded_fraction: float   # share of the body hidden by the occluder (0 when none)


def _place(cam: CameraStyle, canvas: tuple[int, int], rng: np.random.Generator, bad_crop: bool):
    """Centre x, top y and height (canvas pixels) of the person: the detector's box jitter."""
    cw, ch = canvas
    if bad_crop:  # a poor detection: far too tight, too loose, or off-centre
        scale = rng.uniform(0.45, 1.5)
        cx = cw * (0.5 + rng.choice([-1, 1]) * rng.uniform(0.15, 0.4))
    else:
        scale = cam.scale * rng.uniform(0.94, 1.06)
        cx = cw * (0.5 + float(np.clip(rng.normal(0.0, cam.jitter), -0.12, 0.12)))
    height = scale * ch
    top = (ch - height) * rng.uniform(0.25, 0.8) if height < ch else (ch - height) * rng.uniform(0.0, 1.0)
    return cx, top, height


def _bystander(bg: np.ndarray, canvas, rng: np.random.Generator) -> None:
    """A small person in the distance (background clutter, not part of the mask)."""
    cw, ch = canvas
    other = sample_identity(rng)
    height = ch * rng.uniform(0.35, 0.55)
    cx = cw * (0.08 if rng.random() < 0.5 else 0.92)
    rgb, label = draw_person(other, VIEWS[int(rng.integers(3))], canvas, cx, ch * 0.45 - height * 0.6, height, rng)
    fg = label > 0
    bg[fg] = (rgb[fg] * 0.85).astype(np.uint8)


def _visible_regions(label: np.ndarray, visible: np.ndarray) -> dict[str, bool]:
    out = {}
    for region, parts in REGIONS.items():
        in_region = np.isin(label, parts)
        total = int(in_region.sum())
        out[region] = total == 0 or (in_region & visible).sum() >= VISIBLE_ENOUGH * total
    return out


def _reduce_mask(mask: np.ndarray) -> Image.Image:
    small = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255, "L").reduce(SUPERSAMPLE))
    return Image.fromarray(np.where(small >= 128, 255, 0).astype(np.uint8), "L")


def render_image(identity: Identity, cam: CameraStyle, size: tuple[int, int], rng: np.random.Generator,
                 occlusion_rng: np.random.Generator | None = None, bad_crop: bool = False) -> RenderedImage:
    """Render ``identity`` seen by camera ``cam`` at ``size`` = (height, width).

    ``rng`` draws the view, pose, framing, background and optics; ``occlusion_rng`` (when given)
    draws an occluder covering 20-60 % of the body. The two streams are separate, so the same
    ``rng`` with and without ``occlusion_rng`` gives the same picture, with and without the occluder.
    """
    out_h, out_w = size
    canvas = (out_w * SUPERSAMPLE, out_h * SUPERSAMPLE)
    view = VIEWS[int(rng.choice(3, p=np.asarray(cam.view_weights) / sum(cam.view_weights)))]
    flip = bool(rng.random() < 0.5)
    cx, top, height = _place(cam, canvas, rng, bad_crop)
    bg = np.array(draw_background(cam, canvas, rng))
    if rng.random() < 0.2:
        _bystander(bg, canvas, rng)
    rgb, label = draw_person(identity, view, canvas, cx, top, height, rng, flip=flip)
    person = label > 0
    scene = np.where(person[..., None], rgb, bg)
    visible, kind, fraction = person, None, 0.0
    if occlusion_rng is not None and person.any():
        kind, fraction, visible = _occlude(scene, person, canvas, cx, top, height, occlusion_rng)
    regions = _visible_regions(label, visible)
    attrs = visible_attributes(identity, view, regions)
    image = apply_camera(Image.fromarray(scene, "RGB").reduce(SUPERSAMPLE), cam, rng)
    return RenderedImage(image, _reduce_mask(visible), attrs, caption(attrs), view, kind, fraction)


def _occlude(scene: np.ndarray, person: np.ndarray, canvas, cx: float, top: float, height: float,
             rng: np.random.Generator):
    """Paint an occluder into ``scene`` (in place); returns (kind, hidden share, visible mask)."""
    target = rng.uniform(*OCCLUSION_RANGE)
    kind = OCCLUDER_KINDS[int(rng.integers(len(OCCLUDER_KINDS)))]
    other = sample_identity(rng)
    other_view = VIEWS[int(rng.integers(3))]
    pose_seed = int(rng.integers(2**31))

    def other_person(dx: float):
        return draw_person(other, other_view, canvas, cx + dx, top + 0.06 * height, height * 1.06,
                           np.random.default_rng(pose_seed))

    occ_rgb, occ_mask = make_occluder(kind, person, canvas, rng, target, other_person)
    scene[occ_mask] = occ_rgb[occ_mask]
    visible = person & ~occ_mask
    fraction = 1.0 - float(visible.sum()) / float(person.sum())
    return kind, round(fraction, 4), visible
