"""Drawing one SynthPed person with PIL: head, hair, hat, torso, arms, legs, clothes, shoes, bags.

The person is drawn on a transparent layer together with a *part map* (one label per pixel: face,
skin, hair, hat, top, bottom, shoes, bag). The part map drives the clothing patterns, the cartoon
outlines, and, after occlusion, which attributes are visible enough to be named in a caption.
Views: ``front``, ``back`` (no face, no logo, the backpack in full) and ``side`` (profile, striding;
a backpack sticks out behind, a logo is hidden).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from scing_core.data.synthped_attributes import (
    BUILDS, HAIR_COLOURS, PALETTE, SKIN_TONES, Identity, shaded,
)

FACE, SKIN, HAIR, HAT, TOP, BOTTOM, SHOES, BAG = range(1, 9)
# caption regions -> part labels
REGIONS = {"head": (FACE, HAIR, HAT), "torso": (TOP,), "legs": (BOTTOM,), "feet": (SHOES,), "bag": (BAG,)}

Point = tuple[float, float]


class Painter:
    """Draws each shape twice: colour on an RGBA layer, part label on an L layer."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.rgba = Image.new("RGBA", size, (0, 0, 0, 0))
        self.label = Image.new("L", size, 0)
        self._colour = ImageDraw.Draw(self.rgba)
        self._part = ImageDraw.Draw(self.label)

    def polygon(self, points: list[Point], colour, part: int) -> None:
        self._colour.polygon(points, fill=(*colour, 255))
        self._part.polygon(points, fill=part)

    def ellipse(self, centre: Point, rx: float, ry: float, colour, part: int) -> None:
        box = (centre[0] - rx, centre[1] - ry, centre[0] + rx, centre[1] + ry)
        self._colour.ellipse(box, fill=(*colour, 255))
        self._part.ellipse(box, fill=part)

    def rect(self, box, colour, part: int, radius: float = 0) -> None:
        box = tuple(float(v) for v in box)
        if radius > 0.5:
            self._colour.rounded_rectangle(box, radius=radius, fill=(*colour, 255))
            self._part.rounded_rectangle(box, radius=radius, fill=part)
        else:
            self._colour.rectangle(box, fill=(*colour, 255))
            self._part.rectangle(box, fill=part)

    def limb(self, p0: Point, p1: Point, w0: float, w1: float, colour, part: int, round_ends: bool = True) -> None:
        """A tapered segment from ``p0`` (width ``w0``) to ``p1`` (width ``w1``) with rounded joints."""
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        norm = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / norm, dx / norm
        self.polygon([(p0[0] + nx * w0 / 2, p0[1] + ny * w0 / 2), (p1[0] + nx * w1 / 2, p1[1] + ny * w1 / 2),
                      (p1[0] - nx * w1 / 2, p1[1] - ny * w1 / 2), (p0[0] - nx * w0 / 2, p0[1] - ny * w0 / 2)], colour, part)
        if round_ends:
            self.ellipse(p0, w0 / 2, w0 / 2, colour, part)
            self.ellipse(p1, w1 / 2, w1 / 2, colour, part)


def _darker(colour, factor: float = 0.78):
    return tuple(int(v * factor) for v in colour)


def _lerp(p0: Point, p1: Point, t: float) -> Point:
    return (p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t)


@dataclass
class Body:
    """Joint positions (canvas pixels) of one posed person."""

    h: float
    cx: float
    top: float
    view: str
    shoulder_y: float
    hip_y: float
    ankle_y: float
    shoulder_w: float   # half width (front / back) or half depth (side) of the chest
    hip_w: float
    arm_w: float
    leg_w: float
    head: Point
    head_rx: float
    head_ry: float
    arms: tuple         # ((shoulder, elbow, wrist), ...) far first
    legs: tuple         # ((hip, knee, ankle), ...) far first

    def y(self, f: float) -> float:
        return self.top + f * self.h


def pose_body(identity: Identity, view: str, cx: float, top: float, h: float, rng: np.random.Generator) -> Body:
    """Place the joints of ``identity`` for one image (walking pose drawn from ``rng``)."""
    build = BUILDS[identity.build]
    woman = identity.gender == "woman"
    y = lambda f: top + f * h  # noqa: E731
    shoulder_y, hip_y, ankle_y = y(0.165), y(identity.leg_ratio), y(0.945)
    side = view == "side"
    shoulder_w = (0.09 if side else (0.134 if woman else 0.15)) * h * build
    hip_w = (0.082 if side else (0.122 if woman else 0.114)) * h * build
    arm_w, leg_w = 0.066 * h * build ** 0.5, 0.112 * h * build ** 0.6
    head = (cx + (0.012 * h if side else 0.0), y(0.068))
    stride = rng.uniform(0.1, 0.42) if side else rng.uniform(0.0, 0.12)
    swing = stride * 0.9
    arms, legs = [], []
    for s in (-1, 1):
        if side:
            sh = (cx - 0.01 * h, shoulder_y + 0.03 * h)
            ang = s * swing
            elbow = (sh[0] + math.sin(ang) * 0.165 * h, sh[1] + math.cos(ang) * 0.165 * h)
            ang2 = ang + 0.25 + 0.2 * max(ang, 0)
            wrist = (elbow[0] + math.sin(ang2) * 0.15 * h, elbow[1] + math.cos(ang2) * 0.15 * h)
            hip = (cx, hip_y)
            lang = -s * stride
            knee = (hip[0] + math.sin(lang) * 0.23 * h, hip[1] + math.cos(lang) * 0.23 * h)
            bend = 0.22 if lang < 0 else 0.0
            ankle = (knee[0] + math.sin(lang - bend) * 0.23 * h, knee[1] + math.cos(lang - bend) * 0.23 * h)
            ankle = (ankle[0], min(ankle[1], ankle_y))
        else:
            sh = (cx + s * (shoulder_w - arm_w * 0.55), shoulder_y + 0.028 * h)
            out = 0.07 + rng.uniform(0.0, 0.06)
            elbow = (sh[0] + s * math.sin(out) * 0.165 * h, sh[1] + math.cos(out) * 0.165 * h * (1 - swing * 0.3))
            wrist = (elbow[0] + s * 0.01 * h, elbow[1] + 0.15 * h * (1 - swing * 0.4 * (s > 0)))
            hip = (cx + s * hip_w * 0.5, hip_y)
            lift = stride * 0.25 * h if s > 0 else 0.0
            ankle = (cx + s * (hip_w * 0.5 + rng.uniform(0.0, 0.025) * h), ankle_y - lift)
            knee = _lerp(hip, ankle, 0.5)
        arms.append((sh, elbow, wrist))
        legs.append((hip, knee, ankle))
    return Body(h, cx, top, view, shoulder_y, hip_y, ankle_y, shoulder_w, hip_w, arm_w, leg_w,
                head, 0.054 * h, 0.066 * h, tuple(arms), tuple(legs))


# ----------------------------------------------------------------------------------------- parts

def _legs(p: Painter, idt: Identity, b: Body, skin, bottom, shoes, far: bool) -> None:
    order = [0] if far else ([1] if b.view == "side" else [0, 1])
    for i in order:
        hip, knee, ankle = b.legs[i]
        dim = 0.8 if (far and b.view == "side") else 1.0
        w_top, w_knee, w_ankle = b.leg_w, b.leg_w * 0.72, b.h * 0.045
        covered = {"trousers": 1.0, "shorts": 0.42, "skirt": 0.0}[idt.bottom_type]
        p.limb(hip, knee, w_top, w_knee, _darker(skin, dim), SKIN)
        p.limb(knee, ankle, w_knee, w_ankle, _darker(skin, dim), SKIN)
        if covered >= 1.0:
            p.limb(hip, knee, w_top * 1.04, w_knee * 1.1, _darker(bottom, dim), BOTTOM)
            p.limb(knee, ankle, w_knee * 1.1, w_ankle * 1.25, _darker(bottom, dim), BOTTOM)
        elif covered > 0:
            end = _lerp(hip, knee, covered * 2)
            p.limb(hip, end, w_top * 1.08, w_top * 0.98, _darker(bottom, dim), BOTTOM, round_ends=False)
        toe = 0.035 * b.h if b.view == "side" else 0.0
        centre = (ankle[0] + toe * 0.6, ankle[1] + 0.022 * b.h)
        p.ellipse(centre, 0.038 * b.h + toe * 0.6, 0.02 * b.h, _darker(shoes, dim), SHOES)


def _hips(p: Painter, idt: Identity, b: Body, bottom) -> None:
    top = b.hip_y - 0.035 * b.h
    if idt.bottom_type == "skirt":
        hem = b.hip_y + 0.2 * b.h
        flare = 1.5 if b.view != "side" else 1.8
        p.polygon([(b.cx - b.hip_w, top), (b.cx + b.hip_w, top), (b.cx + b.hip_w * flare, hem),
                   (b.cx - b.hip_w * flare, hem)], bottom, BOTTOM)
    else:
        p.rect((b.cx - b.hip_w, top, b.cx + b.hip_w, b.hip_y + 0.05 * b.h), bottom, BOTTOM, radius=0.02 * b.h)


def _torso(p: Painter, idt: Identity, b: Body, top_colour) -> None:
    sw, hw, r = b.shoulder_w, b.hip_w * 1.04, 0.045 * b.h
    sy, hem = b.shoulder_y, b.hip_y + 0.025 * b.h
    waist = 0.88 if idt.gender == "woman" else (1.03 if idt.build == "heavy" else 0.97)
    mid = (sy + hem) / 2 + 0.04 * b.h
    cx = b.cx + (0.008 * b.h if b.view == "side" else 0.0)
    p.polygon([(cx - sw + r, sy), (cx + sw - r, sy), (cx + sw, sy + r), (cx + sw * waist, mid), (cx + hw, hem),
               (cx - hw, hem), (cx - sw * waist, mid), (cx - sw, sy + r)], top_colour, TOP)
    neck_w = 0.022 * b.h
    p.rect((b.head[0] - neck_w, b.y(0.11), b.head[0] + neck_w, sy + 0.012 * b.h), _darker(SKIN_TONES[idt.skin_tone], 0.9), SKIN)


def _arm(p: Painter, idt: Identity, b: Body, index: int, skin, top_colour, dim: float) -> None:
    sh, elbow, wrist = b.arms[index]
    skin, top_colour = _darker(skin, dim), _darker(top_colour, dim)
    p.limb(sh, elbow, b.arm_w, b.arm_w * 0.85, skin, SKIN)
    p.limb(elbow, wrist, b.arm_w * 0.85, b.arm_w * 0.7, skin, SKIN)
    if idt.sleeves == "long":
        p.limb(sh, elbow, b.arm_w * 1.15, b.arm_w * 1.0, top_colour, TOP)
        p.limb(elbow, _lerp(elbow, wrist, 0.88), b.arm_w * 1.0, b.arm_w * 0.9, top_colour, TOP)
    else:
        p.limb(sh, _lerp(sh, elbow, 0.62), b.arm_w * 1.25, b.arm_w * 1.15, top_colour, TOP)
    p.ellipse((wrist[0], wrist[1] + 0.012 * b.h), 0.026 * b.h, 0.03 * b.h, skin, SKIN)


def _head(p: Painter, idt: Identity, b: Body, skin, hair) -> None:
    (hx, hy), rx, ry, h = b.head, b.head_rx, b.head_ry, b.h
    long_to = {"short": None, "medium": 0.16, "long": 0.27}[idt.hair_length]
    if b.view == "front":
        if long_to:  # locks falling over the shoulders; the rest hangs behind the torso (see hair_behind)
            for s in (-1, 1):
                p.limb((hx + s * rx * 0.85, hy), (hx + s * rx * 1.0, b.y(long_to) - rx * 0.3), rx * 0.55, rx * 0.5, hair, HAIR)
        p.ellipse((hx, hy - ry * 0.06), rx * 1.1, ry * 1.04, hair, HAIR)
        p.ellipse((hx, hy + ry * 0.14), rx * 0.9, ry * 0.84, skin, FACE)
        for s in (-1, 1):
            p.ellipse((hx + s * rx * 0.38, hy + ry * 0.12), 0.007 * h, 0.008 * h, (40, 30, 30), FACE)
    elif b.view == "back":
        p.ellipse((hx, hy), rx * 1.08, ry * 1.02, hair, HAIR)
        if long_to:
            p.rect((hx - rx * 1.12, hy, hx + rx * 1.12, b.y(long_to)), hair, HAIR, radius=rx * 0.5)
    else:
        if long_to:
            p.rect((hx - rx * 1.15, hy - ry * 0.2, hx + rx * 0.1, b.y(long_to)), hair, HAIR, radius=rx * 0.5)
        p.ellipse((hx + rx * 0.12, hy + ry * 0.1), rx * 0.9, ry * 0.88, skin, FACE)
        p.polygon([(hx + rx * 0.9, hy), (hx + rx * 1.18, hy + ry * 0.32), (hx + rx * 0.9, hy + ry * 0.4)], skin, FACE)
        p.ellipse((hx - rx * 0.2, hy - ry * 0.12), rx * 1.0, ry * 0.96, hair, HAIR)
        p.ellipse((hx + rx * 0.35, hy + ry * 0.25), rx * 0.62, ry * 0.62, skin, FACE)
        p.ellipse((hx + rx * 0.55, hy + ry * 0.1), 0.007 * h, 0.008 * h, (40, 30, 30), FACE)
    if idt.hat != "none":
        _hat(p, idt, b)


def _hair_behind(p: Painter, idt: Identity, b: Body, hair) -> None:
    """Front view: the part of medium / long hair that hangs behind the neck and shoulders."""
    long_to = {"short": None, "medium": 0.16, "long": 0.27}[idt.hair_length]
    if long_to and b.view == "front":
        (hx, hy), rx = b.head, b.head_rx
        p.rect((hx - rx * 1.2, hy - b.head_ry * 0.4, hx + rx * 1.2, b.y(long_to)), _darker(hair, 0.85), HAIR, radius=rx * 0.6)


def _hat(p: Painter, idt: Identity, b: Body) -> None:
    (hx, hy), rx, ry = b.head, b.head_rx, b.head_ry
    colour = shaded(idt.hat_colour, idt.shade[3])
    if idt.hat == "beanie":
        p.ellipse((hx, hy - ry * 0.35), rx * 1.12, ry * 0.78, colour, HAT)
        p.rect((hx - rx * 1.14, hy - ry * 0.5, hx + rx * 1.14, hy - ry * 0.2), _darker(colour, 0.85), HAT, radius=rx * 0.2)
        return
    p.ellipse((hx, hy - ry * 0.5), rx * 1.1, ry * 0.62, colour, HAT)
    if b.view == "front":
        p.ellipse((hx, hy - ry * 0.32), rx * 1.2, ry * 0.2, _darker(colour, 0.8), HAT)
    elif b.view == "side":
        p.polygon([(hx, hy - ry * 0.5), (hx + rx * 1.75, hy - ry * 0.36), (hx + rx * 1.7, hy - ry * 0.2),
                   (hx, hy - ry * 0.25)], _darker(colour, 0.85), HAT)


def _logo(p: Painter, idt: Identity, b: Body) -> None:
    cx, cy, s = b.cx, b.shoulder_y + 0.1 * b.h, 0.028 * b.h
    colour = PALETTE[idt.top_second_colour]
    shape = idt.logo_shape
    if shape == "circle":
        p.ellipse((cx, cy), s, s, colour, TOP)
    elif shape == "square":
        p.rect((cx - s, cy - s, cx + s, cy + s), colour, TOP)
    elif shape == "triangle":
        p.polygon([(cx, cy - s * 1.2), (cx + s * 1.2, cy + s), (cx - s * 1.2, cy + s)], colour, TOP)
    else:
        p.polygon([(cx, cy - s * 1.3), (cx + s, cy), (cx, cy + s * 1.3), (cx - s, cy)], colour, TOP)


def _bag_back(p: Painter, idt: Identity, b: Body, colour) -> None:
    """Bag parts that sit behind the body in this view (the side-view backpack)."""
    if idt.bag == "backpack" and b.view == "side":
        x1 = b.cx - b.shoulder_w * 0.8
        p.rect((x1 - 0.085 * b.h, b.shoulder_y + 0.02 * b.h, x1 + 0.02 * b.h, b.hip_y - 0.07 * b.h), colour, BAG, radius=0.02 * b.h)


def _bag_front(p: Painter, idt: Identity, b: Body, colour, flip: int) -> None:
    """Bag parts in front of the body: straps, the back-view backpack, hand and shoulder bags."""
    h, sy = b.h, b.shoulder_y
    if idt.bag == "backpack":
        if b.view == "front":
            for s in (-1, 1):
                p.limb((b.cx + s * b.shoulder_w * 0.5, sy), (b.cx + s * b.shoulder_w * 0.58, sy + 0.19 * h),
                       0.024 * h, 0.02 * h, _darker(colour, 0.7), BAG)
        elif b.view == "back":
            w = b.shoulder_w * 0.5
            p.rect((b.cx - w, sy + 0.02 * h, b.cx + w, b.hip_y - 0.05 * h), colour, BAG, radius=0.03 * h)
            p.rect((b.cx - w * 0.7, b.hip_y - 0.16 * h, b.cx + w * 0.7, b.hip_y - 0.07 * h), _darker(colour, 0.8), BAG, radius=0.015 * h)
        else:
            p.limb((b.cx, sy + 0.005 * h), (b.cx + 0.03 * h, sy + 0.16 * h), 0.02 * h, 0.02 * h, _darker(colour, 0.7), BAG)
    elif idt.bag == "shoulder bag":
        s = flip if b.view != "side" else 1
        far = (b.cx - s * b.hip_w * 1.05, b.hip_y - 0.03 * h)
        p.limb((b.cx + s * b.shoulder_w * 0.55, sy + 0.005 * h), far, 0.018 * h, 0.018 * h, _darker(colour, 0.75), BAG)
        bx = far[0] - s * 0.01 * h if b.view != "side" else b.cx - 0.09 * h
        p.rect((bx - 0.05 * h, far[1] - 0.03 * h, bx + 0.05 * h, far[1] + 0.065 * h), colour, BAG, radius=0.015 * h)
    elif idt.bag == "handbag":
        i = (1 if flip > 0 else 0) if b.view != "side" else 1
        wx, wy = b.arms[i][2]
        top, bottom = wy + 0.045 * h, wy + 0.12 * h
        p.limb((wx - 0.022 * h, top), (wx, wy + 0.01 * h), 0.012 * h, 0.012 * h, _darker(colour, 0.7), BAG)
        p.limb((wx + 0.022 * h, top), (wx, wy + 0.01 * h), 0.012 * h, 0.012 * h, _darker(colour, 0.7), BAG)
        p.polygon([(wx - 0.035 * h, top), (wx + 0.035 * h, top), (wx + 0.048 * h, bottom), (wx - 0.048 * h, bottom)], colour, BAG)


# ----------------------------------------------------------------------------------------- person

def draw_person(identity: Identity, view: str, size: tuple[int, int], cx: float, top: float, height: float,
                rng: np.random.Generator, flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``identity`` seen from ``view`` on a ``size`` (w, h) canvas; the figure spans ``height``
    pixels from ``top``, centred on ``cx``. Returns ``(rgb uint8 HxWx3, part labels uint8 HxW)``;
    label 0 is transparent. ``flip`` mirrors the figure (left-facing profile, bag on the other side).
    """
    if flip:
        cx = size[0] - 1 - cx
    body = pose_body(identity, view, cx, top, height, rng)
    p = Painter(size)
    sh = identity.shade
    skin = SKIN_TONES[identity.skin_tone]
    top_c, bottom_c = shaded(identity.top_colour, sh[0]), shaded(identity.bottom_colour, sh[1])
    hair = shaded(identity.hair_colour, sh[2], HAIR_COLOURS)
    bag_c, shoes_c = shaded(identity.bag_colour, sh[3]), PALETTE[identity.shoes_colour]
    side = view == "side"
    if side:
        _arm(p, identity, body, 0, skin, top_c, 0.72)
        _legs(p, identity, body, skin, bottom_c, shoes_c, far=True)
        _legs(p, identity, body, skin, bottom_c, shoes_c, far=False)
        _bag_back(p, identity, body, bag_c)
    else:
        _legs(p, identity, body, skin, bottom_c, shoes_c, far=False)
    _hips(p, identity, body, bottom_c)
    _hair_behind(p, identity, body, hair)
    _torso(p, identity, body, top_c)
    for i in ((1,) if side else (0, 1)):
        _arm(p, identity, body, i, skin, top_c, 1.0)
    if identity.top_pattern == "logo" and view == "front":
        _logo(p, identity, body)
    _head(p, identity, body, skin, hair)
    _bag_front(p, identity, body, bag_c, -1 if flip else 1)
    rgb = np.asarray(p.rgba.convert("RGB"))
    label = np.asarray(p.label)
    if flip:
        rgb, label = rgb[:, ::-1], label[:, ::-1]
    rgb = _finish(identity, body, rgb, label, size[0] - 1 - cx if flip else cx)
    return rgb, np.ascontiguousarray(label)


def _finish(identity: Identity, body: Body, rgb: np.ndarray, label: np.ndarray, cx: float) -> np.ndarray:
    """Clothing patterns, soft body shading and cartoon outlines, all vectorised."""
    rgb = rgb.astype(np.float32)
    if identity.top_pattern in ("stripes", "checks"):
        period = identity.stripe_period * body.h
        ys, xs = np.ogrid[: rgb.shape[0], : rgb.shape[1]]
        if identity.top_pattern == "stripes":
            on = ((ys - body.top) / period) % 1.0 < 0.45
        else:
            on = (((ys - body.top) / period).astype(int) + ((xs - cx) / period).astype(int)) % 2 == 0
        second = np.array(PALETTE[identity.top_second_colour], np.float32)
        rgb[(label == TOP) & on] = second
    xs = np.arange(rgb.shape[1], dtype=np.float32)
    shade = np.clip(1.1 - 0.35 * ((xs - cx + 0.04 * body.h) / (body.shoulder_w * 1.9)) ** 2, 0.72, 1.12)
    rgb *= shade[None, :, None]
    inside = label > 0
    edge = np.zeros_like(inside)
    across, down = label[:, 1:] != label[:, :-1], label[1:, :] != label[:-1, :]
    edge[:, 1:] |= across
    edge[:, :-1] |= across
    edge[1:, :] |= down
    edge[:-1, :] |= down
    rgb[edge & inside] *= 0.8
    return np.clip(rgb, 0, 255).astype(np.uint8)
