"""SynthPed identities, cameras and captions (no drawing here).

An identity is a bundle of clothing and body attributes; a camera is a background style, a lighting
and colour cast, blur / noise / resolution and a viewpoint mix. Both are sampled from seeded numpy
generators so that a seed fixes them exactly. Colours are drawn from one small shared palette with
skewed weights (lots of black, grey, blue), so no single colour identifies a person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

RGB = tuple[int, int, int]

# name -> base colour. Garments of the same named colour differ by a small per-identity shade jitter.
PALETTE: dict[str, RGB] = {
    "black": (32, 32, 36), "white": (232, 232, 226), "grey": (128, 128, 130), "navy": (30, 40, 90),
    "blue": (45, 85, 175), "red": (185, 35, 40), "green": (45, 125, 65), "yellow": (222, 196, 50),
    "orange": (226, 118, 36), "pink": (228, 140, 170), "purple": (112, 56, 140), "brown": (108, 70, 42),
    "beige": (206, 186, 148),
}
TOP_WEIGHTS = {"black": 18, "white": 11, "grey": 12, "navy": 8, "blue": 10, "red": 8, "green": 6, "yellow": 4,
               "orange": 3, "pink": 5, "purple": 4, "brown": 5, "beige": 6}
BOTTOM_WEIGHTS = {"black": 24, "blue": 20, "navy": 10, "grey": 12, "beige": 9, "brown": 8, "white": 4, "green": 3,
                  "red": 3, "pink": 2, "purple": 2, "yellow": 1, "orange": 1}
ACCESSORY_WEIGHTS = {"black": 30, "brown": 14, "grey": 10, "navy": 8, "blue": 7, "red": 7, "white": 5, "beige": 6,
                     "green": 4, "pink": 4, "purple": 2, "yellow": 2, "orange": 2}
SHOE_WEIGHTS = {"black": 35, "white": 28, "brown": 14, "grey": 10, "red": 5, "blue": 5, "beige": 3}

SKIN_TONES: dict[str, RGB] = {
    "light": (244, 212, 186), "fair": (228, 186, 152), "medium": (202, 156, 116),
    "olive": (176, 132, 92), "brown": (136, 92, 62), "dark": (92, 62, 44),
}
HAIR_COLOURS: dict[str, RGB] = {
    "black": (24, 20, 18), "brown": (84, 54, 32), "blonde": (200, 168, 100), "grey": (150, 148, 144),
    "ginger": (168, 82, 36),
}
HAIR_WEIGHTS = {"black": 36, "brown": 30, "blonde": 16, "grey": 10, "ginger": 8}
HATS = {"none": 70, "cap": 16, "beanie": 14}
PATTERNS = {"plain": 46, "stripes": 20, "checks": 16, "logo": 18}
BAGS = {"none": 36, "backpack": 28, "handbag": 16, "shoulder bag": 20}
BUILDS: dict[str, float] = {"slim": 0.9, "average": 1.0, "heavy": 1.1}
LOGO_SHAPES = ("circle", "square", "triangle", "diamond")
VIEWS = ("front", "back", "side")
BACKGROUND_STYLES = ("street", "park", "indoor", "brick", "road", "plaza")


@dataclass(frozen=True)
class Identity:
    """Everything that makes one synthetic person recognisable across cameras."""

    gender: str
    skin_tone: str
    hair_colour: str
    hair_length: str              # short | medium | long
    hat: str                      # none | cap | beanie
    hat_colour: str
    top_colour: str
    top_pattern: str              # plain | stripes | checks | logo
    top_second_colour: str        # stripe / check / logo colour
    logo_shape: str
    sleeves: str                  # short | long
    bottom_colour: str
    bottom_type: str              # trousers | shorts | skirt
    shoes_colour: str
    bag: str                      # none | backpack | handbag | shoulder bag
    bag_colour: str
    build: str                    # slim | average | heavy
    shade: tuple[int, ...]        # per-garment shade jitter (top, bottom, hair, accessory)
    leg_ratio: float              # where the hips sit, as a fraction of the height
    stripe_period: float          # stripe / check period relative to the body height

    def signature(self) -> tuple:
        """The discrete attributes: two identities with the same signature look alike."""
        return tuple(v for k, v in asdict(self).items() if k not in ("shade", "leg_ratio", "stripe_period"))

    def attributes(self) -> dict:
        """The identity's attributes as plain data (for captions and meta files)."""
        return {k: v for k, v in asdict(self).items() if k not in ("shade", "leg_ratio", "stripe_period")}


@dataclass(frozen=True)
class CameraStyle:
    """One camera's look: what every image taken by it shares."""

    index: int                    # 0-based
    backgrounds: tuple[str, ...]  # main, then other scenes (BACKGROUND_STYLES): crops from different spots
    wall_colour: RGB
    ground_colour: RGB
    accent_colour: RGB
    horizon: float                # ground line, as a fraction of the image height
    gain: float                   # overall brightness
    cast: tuple[float, float, float]  # per-channel colour multipliers
    saturation: float
    blur: float                   # Gaussian blur radius (output pixels)
    noise: float                  # noise standard deviation (0-255 scale)
    resolution: float             # < 1: the camera is low resolution (down- then up-sampled)
    view_weights: tuple[float, float, float]  # front, back, side
    scale: float                  # person height / image height
    jitter: float                 # bounding-box jitter (fraction of the image width)


def _pick(rng: np.random.Generator, weights: dict[str, float], exclude: Sequence[str] = ()) -> str:
    names = [n for n in weights if n not in exclude]
    p = np.array([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def sample_identity(rng: np.random.Generator) -> Identity:
    """Draw one identity. Genders are balanced; hair, skirts and bags follow loose real-world skews."""
    gender = "woman" if rng.random() < 0.5 else "man"
    woman = gender == "woman"
    hair_length = _pick(rng, {"short": 15, "medium": 30, "long": 55} if woman else {"short": 76, "medium": 20, "long": 4})
    bottom_type = _pick(rng, {"trousers": 50, "shorts": 18, "skirt": 32} if woman else {"trousers": 72, "shorts": 28})
    bags = dict(BAGS, handbag=26) if woman else dict(BAGS, handbag=5)
    top_colour = _pick(rng, TOP_WEIGHTS)
    return Identity(
        gender=gender,
        skin_tone=_pick(rng, {k: 1.0 for k in SKIN_TONES}),
        hair_colour=_pick(rng, HAIR_WEIGHTS),
        hair_length=hair_length,
        hat=_pick(rng, HATS),
        hat_colour=_pick(rng, ACCESSORY_WEIGHTS),
        top_colour=top_colour,
        top_pattern=_pick(rng, PATTERNS),
        top_second_colour=_pick(rng, TOP_WEIGHTS, exclude=(top_colour,)),
        logo_shape=LOGO_SHAPES[int(rng.integers(len(LOGO_SHAPES)))],
        sleeves="short" if rng.random() < 0.5 else "long",
        bottom_colour=_pick(rng, BOTTOM_WEIGHTS),
        bottom_type=bottom_type,
        shoes_colour=_pick(rng, SHOE_WEIGHTS),
        bag=_pick(rng, bags),
        bag_colour=_pick(rng, ACCESSORY_WEIGHTS),
        build=_pick(rng, {"slim": 30, "average": 50, "heavy": 20}),
        shade=tuple(int(v) for v in rng.integers(-14, 15, size=4)),
        leg_ratio=float(rng.uniform(0.47, 0.53)),
        stripe_period=float(rng.uniform(0.045, 0.075)),
    )


def _muted(rng: np.random.Generator, low: int, high: int) -> RGB:
    colour = rng.integers(low, high, size=3)
    return tuple(int(v) for v in colour * 0.35 + colour.mean() * 0.65)  # type: ignore[return-value]


def sample_camera(rng: np.random.Generator, index: int, background: str) -> CameraStyle:
    """Draw camera ``index`` (0-based) whose main scene is ``background``."""
    dominant = int(rng.integers(3))
    view_weights = rng.dirichlet([1.2, 1.2, 1.2]) * 0.6
    view_weights[dominant] += 0.4
    tint = rng.normal(0.0, 0.03, size=3)
    return CameraStyle(
        index=index,
        backgrounds=(background, *(str(b) for b in rng.choice([b for b in BACKGROUND_STYLES if b != background], 2, replace=False))),
        wall_colour=_muted(rng, 60, 215),
        ground_colour=tuple(int(v) for v in np.clip(rng.integers(70, 170) + rng.integers(-14, 15, size=3), 0, 255)),
        accent_colour=_muted(rng, 20, 235),
        horizon=float(rng.uniform(0.38, 0.62)),
        gain=float(rng.uniform(0.9, 1.1)),
        cast=tuple(float(v) for v in np.clip(1.0 + tint, 0.93, 1.07)),
        saturation=float(rng.uniform(0.85, 1.08)),
        blur=float(rng.choice([0.0, 0.3, 0.5, 0.8, 1.1])),
        noise=float(rng.uniform(1.5, 7.0)),
        resolution=float(rng.choice([1.0, 1.0, 0.8, 0.62])),
        view_weights=tuple(float(v) for v in view_weights),
        scale=float(rng.uniform(0.9, 0.97)),
        jitter=float(rng.uniform(0.03, 0.08)),
    )


def sample_cameras(seed: int, count: int) -> list[CameraStyle]:
    """``count`` cameras for ``seed``; background styles cycle so neighbouring cameras differ."""
    order = np.random.default_rng([seed, 7]).permutation(len(BACKGROUND_STYLES))
    return [
        sample_camera(np.random.default_rng([seed, 8, c]), c, BACKGROUND_STYLES[int(order[c % len(order)])])
        for c in range(count)
    ]


def shaded(name: str, shade: int, palette: dict[str, RGB] = PALETTE) -> RGB:
    """The palette colour ``name`` moved by ``shade`` (a small brightness jitter)."""
    return tuple(int(min(255, max(0, v + shade))) for v in palette[name])  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------- captions

def visible_attributes(identity: Identity, view: str, visible: dict[str, bool]) -> dict:
    """The attributes a viewer can see in one image.

    ``visible`` says whether the head, torso, legs, feet and bag regions are (mostly) unoccluded. A logo
    shows only from the front, a backpack from the back or the side (from the front only its straps).
    """
    attrs: dict = {"view": view}
    if visible.get("head", True):
        attrs.update(gender=identity.gender, hair_colour=identity.hair_colour, hair_length=identity.hair_length)
        if identity.hat != "none":
            attrs.update(hat=identity.hat, hat_colour=identity.hat_colour)
    if visible.get("torso", True):
        pattern = identity.top_pattern
        if pattern == "logo" and view != "front":
            pattern = "plain"
        attrs.update(top_colour=identity.top_colour, top_pattern=pattern, sleeves=identity.sleeves, build=identity.build)
        if pattern != "plain":
            attrs["top_second_colour"] = identity.top_second_colour
    bag_seen = identity.bag != "none" and not (identity.bag == "backpack" and view == "front")
    if bag_seen and visible.get("bag", True):
        attrs.update(bag=identity.bag, bag_colour=identity.bag_colour)
    if visible.get("legs", True):
        attrs.update(bottom_colour=identity.bottom_colour, bottom_type=identity.bottom_type)
    if visible.get("feet", True):
        attrs["shoes_colour"] = identity.shoes_colour
    return attrs


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def caption(attrs: dict) -> str:
    """Words for the visible attributes, e.g. "a woman with long black hair wearing a red striped
    short-sleeved top, blue trousers and white shoes, carrying a black backpack"."""
    text = _article(attrs.get("gender", "person")) + " " + attrs.get("gender", "person")
    if "hair_colour" in attrs:
        text += f" with {attrs['hair_length']} {attrs['hair_colour']} hair"
    worn = []
    if "hat" in attrs:
        worn.append(f"a {attrs['hat_colour']} {attrs['hat']}")
    if "top_colour" in attrs:
        pattern = {"plain": "", "stripes": " striped", "checks": " checked", "logo": ""}[attrs["top_pattern"]]
        colours = attrs["top_colour"]
        if attrs["top_pattern"] in ("stripes", "checks"):
            colours += f" and {attrs['top_second_colour']}"
        top = f"{colours}{pattern} {attrs['sleeves']}-sleeved top"
        if attrs["top_pattern"] == "logo":
            top += f" with {_article(attrs['top_second_colour'])} {attrs['top_second_colour']} logo"
        worn.append(f"{_article(top)} {top}")
    if "bottom_type" in attrs:
        kind = attrs["bottom_type"]
        worn.append(f"a {attrs['bottom_colour']} skirt" if kind == "skirt" else f"{attrs['bottom_colour']} {kind}")
    if "shoes_colour" in attrs:
        worn.append(f"{attrs['shoes_colour']} shoes")
    if worn:
        text += " wearing " + _join(worn)
    if "bag" in attrs:
        text += f", carrying {_article(attrs['bag_colour'])} {attrs['bag_colour']} {attrs['bag']}"
    return text
