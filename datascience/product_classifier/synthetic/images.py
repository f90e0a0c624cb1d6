"""Synthetic 500x500 product photos whose shape, palette and texture depend on the category.

Every category has a style: which objects it shows (a book cover, a game case, a pool...), the
colours they take and how they are filled. Related categories share object kinds and some
colours, a share of images borrows the style of a related (or any) category, colours are jittered
and noise is added, so the images carry signal without being trivially separable. The object is
drawn on white with white margins of random width; some photos are grayscale.
"""

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from product_classifier.synthetic.text import family_of

SAMPLE_IMAGE_SIZE: Final = 500
GRAYSCALE_SHARE: Final = 0.08
RELATED_STYLE_SHARE: Final = 0.15
"""Share of images drawn in the style of another category of the same family."""
RANDOM_STYLE_SHARE: Final = 0.05
"""Share of images drawn in the style of any category (label noise)."""
NO_MARGIN_SHARE: Final = 0.15

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]
WHITE: Final[RGB] = (255, 255, 255)


class Painter:
    """Draws filled shapes with a category's palette and textures onto an image."""

    def __init__(
        self,
        image: Image.Image,
        rng: np.random.Generator,
        palette: Sequence[RGB],
        textures: Sequence[str],
    ) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.rng = rng
        self.palette = palette
        self.textures = textures

    def colour(self, base: RGB | None = None, jitter: float = 22.0) -> RGB:
        """Return a palette colour (or ``base``) with a random jitter."""
        chosen = base or self.palette[int(self.rng.integers(len(self.palette)))]
        noise = self.rng.normal(0.0, jitter, size=3)
        red, green, blue = (int(np.clip(c + n, 0, 235)) for c, n in zip(chosen, noise, strict=True))
        return (red, green, blue)

    def shape(
        self,
        kind: str,
        xy: Sequence[float],
        colour: RGB | None = None,
        *,
        textured: bool = False,
    ) -> None:
        """Fill a ``rectangle``, ``rounded``, ``ellipse`` or ``polygon`` (points) shape."""
        fill = colour or self.colour()
        if not textured:
            self._on(self.draw, kind, xy, fill)
            return
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        left, top = np.floor(points.min(axis=0)).astype(int)
        right, bottom = np.ceil(points.max(axis=0)).astype(int)
        width, height = max(1, right - left), max(1, bottom - top)
        mask = Image.new("L", (width, height), 0)
        local = (points - (left, top)).ravel().tolist()
        self._on(ImageDraw.Draw(mask), kind, local, 255)
        texture = make_texture(self.rng, (width, height), fill, self.colour(), self._texture())
        self.image.paste(texture, (int(left), int(top)), mask)

    def _texture(self) -> str:
        return self.textures[int(self.rng.integers(len(self.textures)))]

    @staticmethod
    def _on(draw: ImageDraw.ImageDraw, kind: str, xy: Sequence[float], fill: RGB | int) -> None:
        if kind == "rectangle":
            draw.rectangle(_box(xy), fill=fill)
        elif kind == "rounded":
            left, top, right, bottom = _box(xy)
            radius = max(1, int(min(right - left, bottom - top) * 0.25))
            draw.rounded_rectangle((left, top, right, bottom), radius=radius, fill=fill)
        elif kind == "ellipse":
            draw.ellipse(_box(xy), fill=fill)
        else:
            draw.polygon(list(zip(xy[0::2], xy[1::2], strict=True)), fill=fill)


def _box(xy: Sequence[float]) -> tuple[float, float, float, float]:
    left, top, right, bottom = xy
    return (min(left, right), min(top, bottom), max(left, right), max(top, bottom))


def _stripes(draw: ImageDraw.ImageDraw, rng: np.random.Generator, step: int, fill: RGB) -> None:
    width, height = draw.im.size
    vertical = rng.random() < 0.5
    for offset in range(0, width if vertical else height, step):
        end = offset + step // 2
        draw.rectangle((offset, 0, end, height) if vertical else (0, offset, width, end), fill=fill)


def _diagonal(draw: ImageDraw.ImageDraw, rng: np.random.Generator, step: int, fill: RGB) -> None:
    width, height = draw.im.size
    for offset in range(-height, width, step):
        draw.line((offset, 0, offset + height, height), fill=fill, width=max(1, step // 3))


def _dots(draw: ImageDraw.ImageDraw, rng: np.random.Generator, step: int, fill: RGB) -> None:
    width, height = draw.im.size
    diameter = 2 * max(1, step // 4)
    for top in range(0, height, step):
        for left in range((top // step % 2) * step // 2, width, step):
            draw.ellipse((left, top, left + diameter, top + diameter), fill=fill)


def _checks(draw: ImageDraw.ImageDraw, rng: np.random.Generator, step: int, fill: RGB) -> None:
    width, height = draw.im.size
    for top in range(0, height, step):
        for left in range((top // step % 2) * step, width, 2 * step):
            draw.rectangle((left, top, left + step - 1, top + step - 1), fill=fill)


def _waves(draw: ImageDraw.ImageDraw, rng: np.random.Generator, step: int, fill: RGB) -> None:
    width, height = draw.im.size
    amplitude, period = step / 3, float(rng.uniform(30, 90))
    xs = np.arange(0, width + 8, 8, dtype=np.float64)
    for top in range(step // 2, height, step):
        ys = top + amplitude * np.sin(xs / period * 2 * math.pi + top)
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=fill, width=3)


_PATTERNS: Final[
    dict[str, Callable[[ImageDraw.ImageDraw, np.random.Generator, int, RGB], None]]
] = {
    "stripes": _stripes,
    "diagonal": _diagonal,
    "dots": _dots,
    "checks": _checks,
    "waves": _waves,
}


def make_texture(
    rng: np.random.Generator, size: tuple[int, int], first: RGB, second: RGB, kind: str
) -> Image.Image:
    """Return a ``size`` RGB texture of two colours: plain, stripes, dots, checks, noise...

    Args:
        rng: Random generator (the only source of randomness).
        size: ``(width, height)``.
        first: Main colour.
        second: Pattern colour.
        kind: ``plain``, ``noise``, ``gradient`` or one of :data:`_PATTERNS`.

    Returns:
        The texture.
    """
    if kind == "noise":
        width, height = size
        cells = rng.integers(0, 256, size=(max(1, height // 6), max(1, width // 6)))
        levels = Image.fromarray(cells.astype(np.uint8), mode="L")
        return ImageOps.colorize(levels.resize(size, Image.Resampling.BILINEAR), first, second)
    if kind == "gradient":
        levels = Image.linear_gradient("L").rotate(float(rng.uniform(0, 360)), fillcolor=128)
        return ImageOps.colorize(levels.resize(size, Image.Resampling.BILINEAR), first, second)
    texture = Image.new("RGB", size, first)
    if kind in _PATTERNS:
        _PATTERNS[kind](ImageDraw.Draw(texture), rng, int(rng.integers(8, 28)), second)
    return texture


def _at(box: Box, x: float, y: float) -> tuple[float, float]:
    """Point at fractions ``(x, y)`` of a box."""
    left, top, right, bottom = box
    return (left + x * (right - left), top + y * (bottom - top))


def _sub(box: Box, x0: float, y0: float, x1: float, y1: float) -> Box:
    """Sub-box at fractions of a box."""
    return (*_at(box, x0, y0), *_at(box, x1, y1))


# --- Object drawers: each draws one kind of object inside a box. ---


def _book(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.2, 0.02, 0.8, 0.98), textured=True)
    p.shape("rectangle", _sub(box, 0.2, 0.02, 0.26, 0.98), p.colour(jitter=40))
    p.shape("rectangle", _sub(box, 0.3, 0.12, 0.74, 0.22), p.colour())
    for row in range(int(p.rng.integers(1, 4))):
        top = 0.6 + 0.08 * row
        p.shape("rectangle", _sub(box, 0.32, top, 0.72, top + 0.03), (30, 30, 30))


def _old_books(p: Painter, box: Box) -> None:
    count = int(p.rng.integers(2, 5))
    for index in range(count):
        top = 0.1 + index * 0.8 / count
        p.shape("rounded", _sub(box, 0.05, top, 0.95, top + 0.7 / count), textured=True)
        p.shape("rectangle", _sub(box, 0.45, top + 0.2 / count, 0.55, top + 0.5 / count))


def _comic(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.15, 0.0, 0.85, 1.0), p.colour())
    for row in range(3):
        for column in range(2):
            x0, y0 = 0.18 + column * 0.33, 0.2 + row * 0.26
            p.shape("rectangle", _sub(box, x0, y0, x0 + 0.3, y0 + 0.23), textured=True)
    p.shape("rectangle", _sub(box, 0.18, 0.03, 0.82, 0.16), p.colour(jitter=50))


def _case(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.22, 0.0, 0.78, 1.0), p.colour(jitter=10))
    p.shape("rectangle", _sub(box, 0.22, 0.0, 0.78, 0.12), p.colour())
    p.shape("rectangle", _sub(box, 0.26, 0.16, 0.74, 0.9), textured=True)


def _pc_box(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.05, 0.1, 0.65, 0.95), textured=True)
    p.shape("ellipse", _sub(box, 0.5, 0.35, 0.98, 0.83), (200, 200, 210))
    p.shape("ellipse", _sub(box, 0.7, 0.55, 0.78, 0.63), WHITE)


def _controller(p: Painter, box: Box) -> None:
    body = p.colour()
    p.shape("ellipse", _sub(box, 0.0, 0.3, 0.4, 0.9), body)
    p.shape("ellipse", _sub(box, 0.6, 0.3, 1.0, 0.9), body)
    p.shape("rounded", _sub(box, 0.15, 0.25, 0.85, 0.7), body)
    p.shape("ellipse", _sub(box, 0.3, 0.45, 0.42, 0.6), (40, 40, 40))
    p.shape("ellipse", _sub(box, 0.58, 0.45, 0.7, 0.6), (40, 40, 40))
    for x, y in ((0.78, 0.35), (0.72, 0.42), (0.84, 0.42)):
        p.shape("ellipse", _sub(box, x - 0.03, y - 0.03, x + 0.03, y + 0.03), p.colour(jitter=60))


def _console(p: Painter, box: Box) -> None:
    p.shape("rounded", _sub(box, 0.0, 0.3, 1.0, 0.72), textured=True)
    p.shape("rectangle", _sub(box, 0.1, 0.45, 0.6, 0.48), (20, 20, 20))
    p.shape("ellipse", _sub(box, 0.8, 0.42, 0.88, 0.54), (60, 150, 230))


def _bundle(p: Painter, box: Box) -> None:
    _console(p, _sub(box, 0.0, 0.35, 0.7, 1.0))
    for index in range(int(p.rng.integers(2, 4))):
        x = 0.45 + index * 0.15
        _case(p, _sub(box, x, 0.0 + index * 0.05, x + 0.35, 0.6 + index * 0.05))


def _blobs(p: Painter, box: Box) -> None:
    p.shape("ellipse", _sub(box, 0.2, 0.35, 0.8, 1.0), textured=True)
    head = p.colour()
    p.shape("ellipse", _sub(box, 0.28, 0.0, 0.72, 0.45), head)
    p.shape("ellipse", _sub(box, 0.22, 0.0, 0.36, 0.14), head)
    p.shape("ellipse", _sub(box, 0.64, 0.0, 0.78, 0.14), head)
    p.shape("ellipse", _sub(box, 0.4, 0.18, 0.46, 0.24), (20, 20, 20))
    p.shape("ellipse", _sub(box, 0.54, 0.18, 0.6, 0.24), (20, 20, 20))


def _board_game(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.05, 0.05, 0.95, 0.95), textured=True)
    p.shape("rectangle", _sub(box, 0.15, 0.08, 0.85, 0.25), p.colour())
    for x in (0.2, 0.55):
        p.shape("rounded", _sub(box, x, 0.6, x + 0.2, 0.8), WHITE)
        p.shape("ellipse", _sub(box, x + 0.08, 0.68, x + 0.12, 0.72), (20, 20, 20))


def _vehicle(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.3:  # a drone
        p.shape(
            "polygon",
            (*_at(box, 0.1, 0.45), *_at(box, 0.9, 0.5), *_at(box, 0.9, 0.55), *_at(box, 0.1, 0.5)),
            (40, 40, 40),
        )
        p.shape("rounded", _sub(box, 0.35, 0.38, 0.65, 0.62), textured=True)
        for x in (0.05, 0.75):
            p.shape("ellipse", _sub(box, x, 0.3, x + 0.2, 0.4), p.colour())
        return
    p.shape("rounded", _sub(box, 0.0, 0.35, 1.0, 0.75), textured=True)
    p.shape("rounded", _sub(box, 0.22, 0.15, 0.75, 0.45), p.colour())
    p.shape("rectangle", _sub(box, 0.3, 0.2, 0.68, 0.38), (170, 210, 230))
    for x in (0.12, 0.7):
        p.shape("ellipse", _sub(box, x, 0.6, x + 0.2, 0.9), (25, 25, 25))


def _figure(p: Painter, box: Box) -> None:
    p.shape(
        "polygon",
        (*_at(box, 0.3, 0.45), *_at(box, 0.7, 0.45), *_at(box, 0.8, 0.95), *_at(box, 0.2, 0.95)),
        textured=True,
    )
    p.shape("ellipse", _sub(box, 0.2, 0.0, 0.8, 0.5), p.colour(jitter=30))
    p.shape("ellipse", _sub(box, 0.35, 0.2, 0.43, 0.3), (15, 15, 15))
    p.shape("ellipse", _sub(box, 0.57, 0.2, 0.65, 0.3), (15, 15, 15))
    p.shape("rectangle", _sub(box, 0.15, 0.93, 0.85, 1.0), (40, 40, 40))


def _army(p: Painter, box: Box) -> None:
    count = int(p.rng.integers(2, 5))
    for index in range(count):
        x = index / count
        _figure(p, _sub(box, x + 0.02, 0.3, x + 1 / count - 0.02, 0.95))


def _cards(p: Painter, box: Box) -> None:
    count = int(p.rng.integers(1, 4))
    for index in range(count):
        x = 0.1 + index * 0.2
        p.shape("rounded", _sub(box, x, 0.05 + 0.03 * index, x + 0.55, 0.95), (225, 190, 40))
        p.shape("rectangle", _sub(box, x + 0.05, 0.12 + 0.03 * index, x + 0.5, 0.5), textured=True)


def _furniture(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.05, 0.1, 0.95, 0.85), textured=True)
    for row in range(int(p.rng.integers(1, 4))):
        top = 0.2 + row * 0.2
        p.shape("rectangle", _sub(box, 0.42, top, 0.58, top + 0.04), (60, 60, 60))
    for x in (0.08, 0.86):
        p.shape("rectangle", _sub(box, x, 0.85, x + 0.06, 1.0), (50, 40, 30))


def _vase(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.4:  # a frame
        p.shape("rectangle", _sub(box, 0.1, 0.05, 0.9, 0.95), p.colour())
        p.shape("rectangle", _sub(box, 0.2, 0.15, 0.8, 0.85), textured=True)
        return
    p.shape("ellipse", _sub(box, 0.2, 0.3, 0.8, 1.0), textured=True)
    p.shape("rectangle", _sub(box, 0.4, 0.05, 0.6, 0.4), p.colour())


def _textile(p: Painter, box: Box) -> None:
    p.shape("rectangle", _sub(box, 0.0, 0.1, 1.0, 0.9), textured=True)
    fold = p.colour(jitter=15)
    for y in (0.35, 0.6):
        p.shape("rectangle", _sub(box, 0.0, y, 1.0, y + 0.02), fold)


def _garden_furniture(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.5:
        p.shape("polygon", (*_at(box, 0.5, 0.0), *_at(box, 1.0, 0.3), *_at(box, 0.0, 0.3)))
        p.shape("rectangle", _sub(box, 0.48, 0.3, 0.52, 0.6), (60, 60, 60))
    _furniture(p, _sub(box, 0.1, 0.55, 0.9, 1.0))


def _pool(p: Painter, box: Box) -> None:
    kind = "ellipse" if p.rng.random() < 0.5 else "rounded"
    p.shape(kind, _sub(box, 0.0, 0.3, 1.0, 1.0), p.colour())
    p.shape(kind, _sub(box, 0.05, 0.36, 0.95, 0.94), textured=True)


def _tool(p: Painter, box: Box) -> None:
    p.shape("rounded", _sub(box, 0.05, 0.2, 0.7, 0.55), textured=True)
    p.shape("rectangle", _sub(box, 0.7, 0.32, 1.0, 0.42), (150, 150, 155))
    p.shape(
        "polygon",
        (*_at(box, 0.3, 0.55), *_at(box, 0.5, 0.55), *_at(box, 0.45, 1.0), *_at(box, 0.25, 1.0)),
        (30, 30, 30),
    )


def _tent(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.5:  # a trampoline
        p.shape("ellipse", _sub(box, 0.0, 0.2, 1.0, 0.6), p.colour())
        p.shape("ellipse", _sub(box, 0.08, 0.25, 0.92, 0.55), (30, 30, 30))
        for x in (0.1, 0.45, 0.85):
            p.shape("rectangle", _sub(box, x, 0.5, x + 0.04, 1.0), (90, 90, 90))
        return
    p.shape(
        "polygon", (*_at(box, 0.5, 0.05), *_at(box, 1.0, 1.0), *_at(box, 0.0, 1.0)), textured=True
    )
    p.shape(
        "polygon", (*_at(box, 0.5, 0.4), *_at(box, 0.65, 1.0), *_at(box, 0.35, 1.0)), (30, 30, 30)
    )


def _target(p: Painter, box: Box) -> None:
    colours = [p.colour(), p.colour(), p.colour()]
    for ring in range(5):
        inset = ring * 0.09
        p.shape("ellipse", _sub(box, inset, inset, 1 - inset, 1 - inset), colours[ring % 3])


def _jar(p: Painter, box: Box) -> None:
    p.shape("rounded", _sub(box, 0.2, 0.15, 0.8, 1.0), textured=True)
    p.shape("rectangle", _sub(box, 0.25, 0.0, 0.75, 0.15), p.colour())
    p.shape("rectangle", _sub(box, 0.2, 0.45, 0.8, 0.7), (240, 235, 220))


def _bowl(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.5:  # a collar
        p.shape("ellipse", _sub(box, 0.05, 0.1, 0.95, 0.9), textured=True)
        p.shape("ellipse", _sub(box, 0.2, 0.25, 0.8, 0.75), WHITE)
        return
    p.shape(
        "polygon",
        (*_at(box, 0.0, 0.4), *_at(box, 1.0, 0.4), *_at(box, 0.8, 0.9), *_at(box, 0.2, 0.9)),
        textured=True,
    )
    p.shape("ellipse", _sub(box, 0.0, 0.3, 1.0, 0.5), p.colour())


def _pens(p: Painter, box: Box) -> None:
    if p.rng.random() < 0.5:  # a notebook
        p.shape("rectangle", _sub(box, 0.15, 0.0, 0.85, 1.0), p.colour())
        p.shape("rectangle", _sub(box, 0.2, 0.05, 0.85, 0.95), (245, 245, 240))
        for row in range(8):
            y = 0.12 + row * 0.1
            p.shape("rectangle", _sub(box, 0.22, y, 0.82, y + 0.008), (120, 140, 200))
        return
    for index in range(int(p.rng.integers(2, 6))):
        x = 0.1 + index * 0.16
        p.shape("rectangle", _sub(box, x, 0.1, x + 0.08, 0.85), textured=True)
        p.shape(
            "polygon",
            (*_at(box, x, 0.85), *_at(box, x + 0.08, 0.85), *_at(box, x + 0.04, 0.98)),
            (30, 30, 30),
        )


def _stroller(p: Painter, box: Box) -> None:
    p.shape("ellipse", _sub(box, 0.1, 0.1, 0.9, 0.7), textured=True)
    p.shape("rectangle", _sub(box, 0.1, 0.4, 0.9, 0.7), WHITE)
    p.shape("rounded", _sub(box, 0.1, 0.35, 0.9, 0.7), p.colour())
    for x in (0.15, 0.65):
        p.shape("ellipse", _sub(box, x, 0.75, x + 0.2, 0.98), (40, 40, 40))


Drawer = Callable[[Painter, Box], None]


@dataclass(frozen=True)
class Style:
    """How a category's photos look.

    Attributes:
        drawers: The objects it shows (one is drawn per photo).
        palette: Base colours of the objects.
        textures: How the main parts are filled (see :func:`make_texture`).
        backgrounds: Scene colours behind the object (on white when empty or not drawn).
    """

    drawers: tuple[Drawer, ...]
    palette: tuple[RGB, ...]
    textures: tuple[str, ...] = ("plain",)
    backgrounds: tuple[RGB, ...] = ()


_BOOK_COLOURS: Final[tuple[RGB, ...]] = ((30, 60, 120), (200, 80, 40), (40, 120, 110))
_CONSOLE_COLOURS: Final[tuple[RGB, ...]] = ((25, 25, 30), (220, 220, 225), (110, 110, 120))
_WOOD: Final[tuple[RGB, ...]] = ((150, 100, 60), (190, 150, 100), (110, 70, 40))
_GARDEN: Final[tuple[RGB, ...]] = ((120, 170, 90), (90, 140, 70))
_PASTELS: Final[tuple[RGB, ...]] = ((235, 180, 200), (170, 205, 235), (180, 225, 200))

STYLES: Final[dict[int, Style]] = {
    10: Style((_book,), (*_BOOK_COLOURS, (230, 120, 30)), ("plain", "gradient")),
    2705: Style((_book,), ((225, 215, 190), (180, 30, 40), _BOOK_COLOURS[0]), ("plain",)),
    2403: Style((_old_books, _book), ((120, 80, 45), (90, 55, 30), (160, 120, 70)), ("noise",)),
    2280: Style(
        (_comic, _book),
        ((220, 40, 40), (240, 200, 30), (30, 90, 200)),
        ("plain", "dots", "gradient"),
    ),
    40: Style((_case,), ((20, 70, 180), (30, 140, 50), (210, 30, 40)), ("gradient", "noise")),
    2905: Style(
        (_pc_box, _case), ((20, 40, 90), (30, 30, 35), (60, 110, 200)), ("gradient", "noise")
    ),
    2462: Style((_bundle, _case, _console), (*_CONSOLE_COLOURS, (20, 70, 180)), ("gradient",)),
    50: Style((_controller, _console), (*_CONSOLE_COLOURS, (200, 40, 40)), ("plain",)),
    60: Style((_console, _controller), _CONSOLE_COLOURS, ("plain", "stripes")),
    1280: Style(
        (_blobs, _vehicle),
        ((230, 60, 60), (250, 200, 40), (60, 160, 230), *_PASTELS),
        ("dots", "plain", "checks"),
    ),
    1281: Style(
        (_board_game, _cards), ((150, 40, 40), (40, 100, 60), (230, 180, 60)), ("checks", "plain")
    ),
    1300: Style(
        (_vehicle,), ((200, 20, 20), (190, 190, 200), (30, 30, 30), (240, 200, 0)), ("gradient",)
    ),
    1140: Style(
        (_figure, _blobs),
        ((240, 190, 150), (60, 60, 200), (220, 40, 60), (40, 40, 40)),
        ("plain", "gradient"),
    ),
    1180: Style((_army, _figure), ((80, 90, 70), (120, 30, 30), (100, 100, 110)), ("noise",)),
    1160: Style(
        (_cards,), ((230, 200, 40), (50, 90, 200), (200, 60, 160)), ("gradient", "diagonal")
    ),
    1560: Style((_furniture,), (*_WOOD, (235, 235, 235), (100, 100, 100)), ("stripes", "plain")),
    2060: Style(
        (_vase, _textile),
        ((200, 170, 90), (170, 205, 235), (220, 120, 90), _WOOD[1]),
        ("gradient", "plain", "dots"),
    ),
    1920: Style(
        (_textile,), ((235, 230, 220), *_PASTELS, (160, 160, 170)), ("stripes", "checks", "plain")
    ),
    2582: Style(
        (_garden_furniture, _furniture),
        ((70, 70, 75), (120, 90, 60), (40, 120, 60)),
        ("stripes", "plain"),
        _GARDEN,
    ),
    2583: Style(
        (_pool,),
        ((40, 120, 200), (60, 170, 210), (30, 80, 160), (90, 200, 220)),
        ("waves", "plain"),
        (*_GARDEN, (200, 220, 235)),
    ),
    2585: Style(
        (_tool,),
        ((40, 140, 60), (30, 90, 180), (230, 120, 20), (230, 200, 30)),
        ("plain", "stripes"),
    ),
    1302: Style(
        (_tent, _pool),
        ((40, 130, 60), (230, 110, 30), (40, 90, 180)),
        ("plain", "stripes"),
        _GARDEN,
    ),
    1301: Style(
        (_target, _furniture),
        ((30, 30, 30), (200, 30, 30), (30, 120, 60), (235, 220, 180)),
        ("plain",),
    ),
    1320: Style((_stroller, _blobs), _PASTELS, ("dots", "plain")),
    1940: Style(
        (_jar,), ((110, 60, 30), (200, 40, 40), (220, 180, 60), (70, 120, 40)), ("plain", "noise")
    ),
    2220: Style(
        (_bowl,), ((200, 40, 40), (40, 80, 170), (120, 80, 50), (30, 30, 30)), ("plain", "dots")
    ),
    2522: Style(
        (_pens,), ((20, 40, 160), (30, 30, 30), (200, 30, 30), (30, 140, 60)), ("plain", "stripes")
    ),
}
"""The look of each category's photos."""


def _style_for(rng: np.random.Generator, code: int) -> Style:
    draw = rng.random()
    if draw < RANDOM_STYLE_SHARE:
        codes = tuple(STYLES)
        return STYLES[codes[int(rng.integers(len(codes)))]]
    if draw < RANDOM_STYLE_SHARE + RELATED_STYLE_SHARE:
        related = family_of(code).codes
        return STYLES[related[int(rng.integers(len(related)))]]
    return STYLES[code]


def _content_box(rng: np.random.Generator, size: int) -> tuple[int, int, int, int]:
    """Where the photo content goes: white margins of random (often uneven) width."""
    if rng.random() < NO_MARGIN_SHARE:
        return (0, 0, size, size)
    left, top, right, bottom = (int(v) for v in rng.integers(0, size // 4, size=4))
    if rng.random() < 0.4:  # a wide or tall product photo with large bands
        band = int(rng.integers(size // 8, size // 3))
        if rng.random() < 0.5:
            top, bottom = band, band + int(rng.integers(-10, 10))
        else:
            left, right = band, band + int(rng.integers(-10, 10))
    return (left, top, size - max(0, right), size - max(0, bottom))


def draw_product_image(
    code: int, rng: np.random.Generator, size: int = SAMPLE_IMAGE_SIZE
) -> Image.Image:
    """Draw a synthetic photo of a product of a category.

    Args:
        code: Category code.
        rng: Random generator (the only source of randomness).
        size: Side of the square image.

    Returns:
        A ``size`` x ``size`` RGB image on white.
    """
    style = _style_for(rng, code)
    image = Image.new("RGB", (size, size), WHITE)
    content = _content_box(rng, size)
    left, top, right, bottom = content
    if style.backgrounds and rng.random() < 0.6:
        scene = Painter(image, rng, style.backgrounds, ("plain", "noise"))
        scene.shape("rectangle", (left, top, right - 1, bottom - 1), textured=True)
    width, height = right - left, bottom - top
    scale = float(rng.uniform(0.7, 0.98))
    object_width, object_height = width * scale, height * scale * float(rng.uniform(0.8, 1.0))
    x0 = left + float(rng.uniform(0, width - object_width))
    y0 = top + float(rng.uniform(0, height - object_height))
    painter = Painter(image, rng, style.palette, style.textures)
    drawer = style.drawers[0 if rng.random() < 0.7 else int(rng.integers(len(style.drawers)))]
    drawer(painter, (x0, y0, x0 + object_width, y0 + object_height))
    _add_noise(image, rng, content)
    if rng.random() < GRAYSCALE_SHARE:
        image = image.convert("L").convert("RGB")
    return image


def _add_noise(
    image: Image.Image, rng: np.random.Generator, box: tuple[int, int, int, int]
) -> None:
    """Blend coarse random noise into the content box only (the margins stay white)."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    if width < 2 or height < 2:
        return
    cells = rng.integers(0, 256, size=(max(1, height // 3), max(1, width // 3), 3), dtype=np.uint8)
    noise = Image.fromarray(cells, mode="RGB").resize((width, height), Image.Resampling.NEAREST)
    region = image.crop(box)
    image.paste(Image.blend(region, noise, float(rng.uniform(0.02, 0.1))), box)


def product_image_bytes(code: int, seed: int, index: int, size: int = SAMPLE_IMAGE_SIZE) -> bytes:
    """Draw the photo of product ``index`` of a sample and encode it as JPEG.

    The result only depends on ``(code, seed, index, size)``, so images can be drawn in any
    order by any number of processes.

    Args:
        code: Category code.
        seed: Seed of the sample.
        index: Position of the product in the sample.
        size: Side of the square image.

    Returns:
        The JPEG file content.
    """
    rng = np.random.default_rng([seed, index, 1])
    image = draw_product_image(code, rng, size)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(75, 96)))
    return buffer.getvalue()


@dataclass(frozen=True)
class SampleImageTask:
    """One photo to draw and where to write it (see :func:`write_sample_image`)."""

    code: int
    seed: int
    index: int
    path: str


def write_sample_image(task: SampleImageTask) -> None:
    """Draw a product photo and write it as a JPEG file (runs in worker processes)."""
    Path(task.path).write_bytes(product_image_bytes(task.code, task.seed, task.index))
