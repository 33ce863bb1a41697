"""SynthPed scenes: camera backgrounds, occluders that cover a chosen share of the body, and the
camera's optics (resolution, blur, lighting, colour cast, noise). Vectorised with numpy; shapes
with PIL's ImageDraw.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from scing_core.data.synthped_attributes import PALETTE, CameraStyle

OCCLUDER_KINDS = ("car", "pole", "bush", "pedestrian")
CAR_COLOURS = ("white", "black", "grey", "red", "navy", "blue", "beige", "green")


def _jitter(colour, rng: np.random.Generator, amount: int = 12):
    offsets = rng.integers(-amount, amount + 1, size=3).tolist()
    return tuple(min(255, max(0, int(v) + o)) for v, o in zip(colour, offsets))


def _mix(a, b, t: float):
    return tuple(int(x * (1 - t) + y * t) for x, y in zip(a, b))


# ----------------------------------------------------------------------------------------- backgrounds

def _windows(d: ImageDraw.ImageDraw, w: int, top: float, bottom: float, pan: int, cam: CameraStyle, rng) -> None:
    step_x, step_y = w * 0.5, max(8.0, (bottom - top) / 2.6)
    glass = _mix((55, 70, 90), cam.accent_colour, 0.25)
    x = -(pan % step_x)
    while x < w:
        y = top + step_y * 0.25
        while y + step_y * 0.5 < bottom:
            d.rectangle((x + step_x * 0.2, y, x + step_x * 0.75, y + step_y * 0.6), fill=_jitter(glass, rng, 10))
            y += step_y
        x += step_x


def _tiles(d: ImageDraw.ImageDraw, w: int, h: int, horizon: float, colour, pan: int, rng) -> None:
    line = _mix(colour, (0, 0, 0), 0.25)
    y, gap = horizon + 4, 6.0
    while y < h:
        d.line((0, y, w, y), fill=line, width=1)
        gap *= 1.45
        y += gap
    step = w * 0.42
    x = -(pan % step)
    while x < w:
        d.line((x, horizon, x - (x - w / 2) * 0.6, h), fill=line, width=1)
        x += step


def _bricks(d: ImageDraw.ImageDraw, w: int, horizon: float, colour, pan: int, rng) -> None:
    bh, bw = max(6.0, horizon / 9), w * 0.24
    row = 0
    y = 0.0
    while y + 2 < horizon:
        x = -(pan % bw) - (bw / 2 if row % 2 else 0)
        while x < w:
            d.rectangle((x + 1, y + 1, x + bw - 1, min(y + bh - 1, horizon)), fill=_jitter(colour, rng, 16))
            x += bw
        y += bh
        row += 1


def _trees(d: ImageDraw.ImageDraw, w: int, horizon: float, cam: CameraStyle, rng) -> None:
    greens = [(46, 86, 44), (60, 104, 52), (36, 70, 40), (74, 110, 60)]
    for _ in range(9):
        cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(0.1, 0.9) * horizon
        r = rng.uniform(0.18, 0.35) * w
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_jitter(greens[int(rng.integers(4))], rng, 10))


def draw_background(cam: CameraStyle, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A background in the camera's style; ``rng`` moves the viewpoint (pan) and the clutter."""
    w, h = size
    horizon = h * float(np.clip(cam.horizon + rng.normal(0, 0.06), 0.3, 0.7))
    pan = int(rng.integers(0, 4 * w))
    wall, ground, accent = _jitter(cam.wall_colour, rng, 30), _jitter(cam.ground_colour, rng, 30), _jitter(cam.accent_colour, rng, 30)
    if rng.random() < 0.5:  # a different building / shop front within the same camera view
        wall = _mix(_jitter((128, 128, 128), rng, 90), (128, 128, 128), 0.6)
    ground = _mix(ground, _jitter((125, 122, 118), rng, 45), 0.5)
    img = Image.new("RGB", size, wall)
    d = ImageDraw.Draw(img)
    style = cam.backgrounds[int(rng.choice(len(cam.backgrounds), p=[0.5, 0.25, 0.25]))]
    if style == "street":
        _windows(d, w, 0, horizon - 6, pan, cam, rng)
        d.rectangle((0, horizon - 6, w, horizon), fill=_mix(wall, (0, 0, 0), 0.35))
        d.rectangle((0, horizon, w, h), fill=ground)
        _tiles(d, w, h, horizon, ground, pan, rng)
    elif style == "park":
        d.rectangle((0, 0, w, horizon), fill=_mix((160, 180, 200), accent, 0.15))
        _trees(d, w, horizon, cam, rng)
        d.rectangle((0, horizon, w, h), fill=_mix((80, 130, 60), wall, 0.2))
        d.rectangle((0, horizon + (h - horizon) * 0.35, w, h), fill=_mix((190, 170, 130), ground, 0.4))
    elif style == "indoor":
        light = _mix(wall, (235, 230, 220), 0.5)
        d.rectangle((0, 0, w, horizon), fill=light)
        step = w * 0.9
        x = -(pan % step)
        while x < w:
            d.rectangle((x, horizon * 0.15, x + w * 0.36, horizon), fill=_mix(accent, (90, 70, 50), 0.4), outline=_mix(light, (0, 0, 0), 0.4), width=2)
            x += step
        d.rectangle((0, horizon - 4, w, horizon), fill=_mix(light, (0, 0, 0), 0.5))
        d.rectangle((0, horizon, w, h), fill=ground)
        _tiles(d, w, h, horizon, ground, pan, rng)
    elif style == "brick":
        d.rectangle((0, 0, w, horizon), fill=_mix(wall, (200, 200, 200), 0.3))
        _bricks(d, w, horizon, _mix(accent, (150, 70, 50), 0.6), pan, rng)
        d.rectangle((0, horizon, w, h), fill=ground)
    elif style == "road":
        d.rectangle((0, horizon * 0.6, w, horizon), fill=_mix(wall, (60, 90, 50), 0.4))
        d.rectangle((0, horizon, w, h), fill=_mix((70, 70, 74), ground, 0.3))
        lane_y = horizon + (h - horizon) * 0.3
        for x in range(-(pan % 40), w, 40):
            d.rectangle((x, lane_y, x + 20, lane_y + 3), fill=(210, 205, 170))
        d.rectangle((0, h - (h - horizon) * 0.3, w, h), fill=_mix(ground, (200, 200, 200), 0.3))
    else:  # plaza
        d.rectangle((0, 0, w, horizon), fill=_mix(wall, (120, 120, 120), 0.3))
        d.rectangle((w * 0.1 - pan % w, horizon * 0.2, w * 0.1 - pan % w + w * 0.8, horizon - 8), fill=_mix((70, 90, 110), accent, 0.3), outline=(40, 40, 40), width=2)
        d.rectangle((0, horizon, w, h), fill=ground)
        _tiles(d, w, h, horizon, ground, pan * 3, rng)
    if rng.random() < 0.35:  # a distant pole or sign post
        x = rng.uniform(0, w)
        d.rectangle((x, horizon * rng.uniform(0.0, 0.5), x + w * 0.03, horizon + (h - horizon) * 0.2), fill=(70, 72, 76))
    weathering = lighting_field(size, rng, 0.1, (5, 10))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) * weathering, 0, 255).astype(np.uint8), "RGB")


def lighting_field(size: tuple[int, int], rng: np.random.Generator, strength: float = 0.18,
                   cells: tuple[int, int] = (2, 3)) -> np.ndarray:
    """A smooth random brightness field (H x W x 1) around 1.0 with ``cells`` = (across, down)
    random knots: shadows and light patches, or (many knots) stains and weathering."""
    small = Image.fromarray((rng.random(cells[::-1]) * 255).astype(np.uint8), "L")
    field = np.asarray(small.resize(size, Image.BILINEAR), dtype=np.float32) / 255.0
    return (1.0 + strength * (field - 0.5) * 2)[..., None]


# ----------------------------------------------------------------------------------------- occluders

# An occluder is a closure ``draw(d, param, ink)``: ``param`` places it (top edge or half width),
# ``ink`` maps each colour to the fill used (the colour itself, or 255 to draw its mask).

def _colour(colour):
    return colour


def _solid(colour):
    return 255


def _car(size, rng: np.random.Generator):
    w, h = size
    colour = PALETTE[CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]]
    glass = (60, 72, 86)
    left = rng.uniform(-0.6, -0.05) * w
    right = left + rng.uniform(1.3, 2.0) * w

    def draw(d: ImageDraw.ImageDraw, top: float, ink=_colour) -> None:
        roof = 0.22 * h
        d.rounded_rectangle((left + 0.15 * w, top, right - 0.2 * w, top + roof + 10), radius=0.08 * w, fill=ink(colour))
        d.rectangle((left + 0.22 * w, top + 0.03 * h, right - 0.27 * w, top + roof), fill=ink(glass))
        d.rounded_rectangle((left, top + roof, right, top + roof + 0.9 * h), radius=0.06 * w, fill=ink(colour))
        d.line((left, top + roof + 0.08 * h, right, top + roof + 0.08 * h), fill=ink(_mix(colour, (0, 0, 0), 0.3)), width=2)
        for x in (left + 0.35 * w, right - 0.35 * w):
            d.ellipse((x - 0.2 * w, top + roof + 0.2 * h, x + 0.2 * w, top + roof + 0.2 * h + 0.4 * w), fill=ink((25, 25, 25)))
    return draw


def _bush(size, rng: np.random.Generator):
    w, h = size
    blobs = [(rng.uniform(-0.2, 1.2) * w, rng.uniform(0.0, 0.12) * h, rng.uniform(0.15, 0.3) * w) for _ in range(7)]
    greens = [_jitter((50 + 20 * i, 100 + 12 * i, 45), rng, 10) for i in range(3)]

    def draw(d: ImageDraw.ImageDraw, top: float, ink=_colour) -> None:
        d.rectangle((0, top + 0.1 * h, w, top + 2 * h), fill=ink(greens[0]))
        for i, (x, y, r) in enumerate(blobs):
            d.ellipse((x - r, top + y, x + r, top + y + 2.2 * r), fill=ink(greens[i % 3]))
    return draw


def _pole(size, rng: np.random.Generator, centre: float):
    w, h = size
    colour = _jitter((90, 92, 96) if rng.random() < 0.6 else (60, 80, 60), rng, 10)
    sign = rng.random() < 0.5
    sign_y = rng.uniform(0.0, 0.2) * h

    def draw(d: ImageDraw.ImageDraw, half_width: float, ink=_colour) -> None:
        d.rectangle((centre - half_width, 0, centre + half_width, h), fill=ink(colour))
        d.line((centre - half_width * 0.3, 0, centre - half_width * 0.3, h), fill=ink(_mix(colour, (255, 255, 255), 0.25)), width=2)
        if sign:
            s = max(half_width * 1.6, 0.16 * w)
            d.rectangle((centre - s, sign_y, centre + s, sign_y + s * 1.2), fill=ink((35, 90, 160)), outline=ink((230, 230, 230)), width=2)
    return draw


def _coverage(person: np.ndarray, occluder: Image.Image) -> float:
    occ = np.asarray(occluder) > 0
    return float((person & occ).sum()) / max(1, int(person.sum()))


def _fit(draw: Callable, person: np.ndarray, size, target: float, lo: float, hi: float, grows_with_param: bool):
    """Bisection on the occluder's parameter until it covers ``target`` of the person."""
    layer = Image.new("L", size, 0)
    for _ in range(9):
        mid = (lo + hi) / 2
        layer.paste(0, (0, 0, size[0], size[1]))
        draw(ImageDraw.Draw(layer), mid, _solid)
        cov = _coverage(person, layer)
        if (cov < target) == grows_with_param:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def make_occluder(kind: str, person: np.ndarray, size: tuple[int, int], rng: np.random.Generator, target: float,
                  other_person: Callable[[float], tuple[np.ndarray, np.ndarray]] | None = None):
    """An occluder of ``kind`` placed to cover about ``target`` (0..1) of the ``person`` mask.

    Returns ``(rgb uint8 HxWx3, mask bool HxW)``. ``other_person(dx)`` draws the occluding
    pedestrian shifted by ``dx`` pixels (needed for kind "pedestrian").
    """
    w, h = size
    rows = np.flatnonzero(person.any(axis=1))
    cols = np.flatnonzero(person.any(axis=0))
    top, bottom = (int(rows[0]), int(rows[-1])) if rows.size else (0, h)
    if kind == "pedestrian" and other_person is not None:
        return _occluding_pedestrian(person, rng, target, other_person, w)
    if kind == "pole":
        centre = rng.uniform(cols[0] if cols.size else 0, cols[-1] if cols.size else w)
        draw = _pole(size, rng, centre)
        param = _fit(draw, person, size, target, 1.0, 0.5 * w, True)
    else:
        draw = _car(size, rng) if kind == "car" else _bush(size, rng)
        param = _fit(draw, person, size, target, top - 0.1 * h, bottom, False)
    rgb_layer, mask_layer = Image.new("RGB", size, 0), Image.new("L", size, 0)
    draw(ImageDraw.Draw(rgb_layer), param)
    draw(ImageDraw.Draw(mask_layer), param, _solid)
    return np.asarray(rgb_layer), np.asarray(mask_layer) > 0


def _occluding_pedestrian(person: np.ndarray, rng, target: float, other_person, width: int):
    sign = 1 if rng.random() < 0.5 else -1
    rgb, label = other_person(0.0)
    lo, hi = 0.0, float(width)
    for _ in range(9):
        mid = (lo + hi) / 2
        cov = float((person & (_shift(label, int(sign * mid)) > 0)).sum()) / max(1, int(person.sum()))
        if cov < target:
            hi = mid
        else:
            lo = mid
    dx = int(sign * (lo + hi) / 2)
    return _shift(rgb, dx), _shift(label, dx) > 0


def _shift(arr: np.ndarray, dx: int) -> np.ndarray:
    out = np.zeros_like(arr)
    if dx >= 0:
        out[:, dx:] = arr[:, : arr.shape[1] - dx]
    else:
        out[:, :dx] = arr[:, -dx:]
    return out


# ----------------------------------------------------------------------------------------- optics

def apply_camera(img: Image.Image, cam: CameraStyle, rng: np.random.Generator) -> Image.Image:
    """The camera's optics on a finished image: resolution loss, blur, lighting, colour cast, noise."""
    w, h = img.size
    if cam.resolution < 0.99:
        small = (max(8, round(w * cam.resolution)), max(8, round(h * cam.resolution)))
        img = img.resize(small, Image.BILINEAR).resize((w, h), Image.BILINEAR)
    if cam.blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(cam.blur))
    x = np.asarray(img, dtype=np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * cam.saturation
    gain = cam.gain * rng.uniform(0.8, 1.2)  # auto exposure and time of day vary from image to image
    cast = np.asarray(cam.cast, np.float32) * (1.0 + rng.normal(0.0, 0.025, size=3)).astype(np.float32)
    x *= cast * gain
    x *= lighting_field((w, h), rng, 0.12)
    x += rng.standard_normal(x.shape, dtype=np.float32) * (cam.noise * rng.uniform(0.6, 1.4))
    return Image.fromarray(np.clip(x, 0, 255).astype(np.uint8), "RGB")
