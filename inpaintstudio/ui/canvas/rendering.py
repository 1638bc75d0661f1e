"""What the canvas draws: the photo, the mask and sketch overlay, the checkerboard, the brush outline.

Everything here is built once per image (or canvas size) and then updated one changed rectangle at a
time, through numpy views onto the QImages' own pixel memory:

- :class:`PhotoLayer`: the photo as 32-bit QImages at full size plus a mipmap pyramid (1/2, 1/4, ...),
  so a zoomed-out 24-megapixel photo is drawn from a level close to the screen size (sharp and cheap);
- :class:`PatchedPhoto`: a photo layer with a fill result's patches drawn over it (compare panes);
- :class:`OverlayLayer`: one premultiplied ARGB32 QImage for the tinted mask and the sketch strokes,
  filled from the uint8 layers through a 256 x 256 lookup table (mask coverage x sketch coverage), so a
  brush segment costs a table lookup over its own rectangle, never a full-size image;
- :class:`ExclusionLayer`: the sampling exclusion as amber diagonal hatching, drawn under the mask
  overlay; its image is only made once something is excluded.

Only the part of a layer inside the region being repainted is drawn (source sub-rectangles), so
repainting the few pixels under a brush segment does not depend on the photo's size. 32-bit QImage
pixels are native-endian ``0xAARRGGBB`` words; the uint32 views below rely on that.
"""

from __future__ import annotations

import math
import sys

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap

from inpaintstudio.document.io import imageio
from inpaintstudio.geometry import Rect, mask_bbox
from inpaintstudio.ui.canvas.transform import ViewTransform

MASK_COLOUR = (255, 40, 80)  # a strong pinkish red: visible on skies, foliage and skin alike
SKETCH_COLOUR = (0, 230, 255)  # cyan: distinct from the mask tint and from most photo content
# Amber hatching: neither the mask's flat red nor the sketch's cyan, and readable where it overlaps the
# mask or lies on a red photo, because its stripes alternate strong and faint.
EXCLUDE_COLOUR = (255, 176, 0)
EXCLUDE_FAINT = 0.3  # the faint stripes' alpha relative to the strong ones
SMALLEST_LEVEL = 256  # stop the pyramid once the longer side is this small


def qimage_view(image: QImage) -> np.ndarray:
    """A writable H x W uint32 numpy view onto a 32-bit QImage's pixels (no copy)."""
    words = image.bytesPerLine() // 4
    array = np.frombuffer(image.bits(), np.uint32).reshape(image.height(), words)
    return array[:, : image.width()]


def pack_argb(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """uint8 RGB (+ alpha, premultiplied here) -> uint32 0xAARRGGBB words."""
    if alpha is None and sys.byteorder == "little":  # BGRA bytes are those words; OpenCV does it fastest
        bgra = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA)
        return bgra.view(np.uint32).reshape(rgb.shape[:2])
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    if alpha is None:
        return np.uint32(0xFF000000) | (r << 16) | (g << 8) | b
    a = alpha.astype(np.uint32)
    r, g, b = ((c * a + 127) // 255 for c in (r, g, b))
    return (a << 24) | (r << 16) | (g << 8) | b


class PhotoLayer:
    """The photo at full size and as a pyramid of halved levels, updatable by rectangle."""

    def __init__(self) -> None:
        self.levels: list[QImage] = []
        self.width = self.height = 0
        self.has_alpha = False

    def set_image(self, pixels: np.ndarray, alpha: np.ndarray | None = None) -> None:
        self.height, self.width = pixels.shape[:2]
        self.has_alpha = alpha is not None
        fmt = QImage.Format.Format_ARGB32_Premultiplied if self.has_alpha else QImage.Format.Format_RGB32
        self.levels = []
        w, h = self.width, self.height
        while True:
            self.levels.append(QImage(w, h, fmt))
            if max(w, h) <= SMALLEST_LEVEL:
                break
            w, h = (w + 1) // 2, (h + 1) // 2
        self.update_rect(pixels, alpha, Rect(0, 0, self.width, self.height))

    def clear(self) -> None:
        self.levels, self.width, self.height = [], 0, 0

    def shared_copy(self) -> PhotoLayer:
        """A layer with the same pixels, at no cost: Qt shares a QImage's data between copies until one of
        them is written to, and the writer then copies its own (so later edits here never show there)."""
        other = PhotoLayer()
        other.levels = [QImage(level) for level in self.levels]
        other.width, other.height, other.has_alpha = self.width, self.height, self.has_alpha
        return other

    def update_rect(self, pixels: np.ndarray, alpha: np.ndarray | None, rect: Rect) -> None:
        rect = rect.intersect(Rect(0, 0, self.width, self.height))
        if rect.is_empty() or not self.levels:
            return
        rgb = imageio.to_uint8(pixels[rect.slices()])
        a = None if alpha is None else imageio.to_uint8(alpha[rect.slices()])
        qimage_view(self.levels[0])[rect.slices()] = pack_argb(rgb, a)
        for k in range(1, len(self.levels)):
            prev, cur = qimage_view(self.levels[k - 1]), qimage_view(self.levels[k])
            x0, y0 = rect.x >> k, rect.y >> k
            x1, y1 = -(-rect.right >> k), -(-rect.bottom >> k)
            src = prev[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
            block = src.view(np.uint8).reshape(src.shape[0], src.shape[1], 4)
            small = cv2.resize(block, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
            cur[y0:y1, x0:x1] = np.ascontiguousarray(small).view(np.uint32).reshape(y1 - y0, x1 - x0)

    def draw(
        self, painter: QPainter, transform: ViewTransform, region: QRect, origin: tuple[int, int] = (0, 0)
    ) -> None:
        """Draw the part of the photo inside the view rectangle ``region``; the photo's top-left corner
        sits at image point ``origin``."""
        if not self.levels:
            return
        k = 0 if transform.scale >= 1 else min(len(self.levels) - 1, int(math.floor(math.log2(1 / transform.scale))))
        level = self.levels[k]
        visible = transform.view_rect_to_image(region, margin=2 << k).translated(-origin[0], -origin[1])
        visible = visible.intersect(Rect(0, 0, self.width, self.height))
        if visible.is_empty():
            return
        fx, fy = level.width() / self.width, level.height() / self.height
        source = QRectF(visible.x * fx, visible.y * fy, visible.w * fx, visible.h * fy)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, transform.scale < 2)
        painter.drawImage(transform.rect_to_view(visible.translated(*origin)), level, source)


class PatchedPhoto:
    """Another photo layer with a few rectangles drawn over it: how a compare pane shows a fill result.

    A fill changes only the regions around its holes, so a pane reuses the input's layer (shared, never
    written) and keeps a small pyramid per patch, instead of converting a whole copy of a large photo on
    the GUI thread for every model compared.
    """

    def __init__(self, base: PhotoLayer, patches: list[tuple[Rect, np.ndarray]]) -> None:
        self.base = base
        self.patches: list[tuple[Rect, PhotoLayer]] = []
        for rect, pixels in patches:
            layer = PhotoLayer()
            layer.set_image(pixels)
            self.patches.append((rect, layer))

    @property
    def width(self) -> int:
        return self.base.width

    @property
    def height(self) -> int:
        return self.base.height

    @property
    def has_alpha(self) -> bool:
        return self.base.has_alpha

    def draw(
        self, painter: QPainter, transform: ViewTransform, region: QRect, origin: tuple[int, int] = (0, 0)
    ) -> None:
        self.base.draw(painter, transform, region, origin)
        for rect, layer in self.patches:
            layer.draw(painter, transform, region, (origin[0] + rect.x, origin[1] + rect.y))


def overlay_lut(opacity: float) -> np.ndarray:
    """256 x 256 premultiplied ARGB words: mask coverage (rows) x sketch coverage (columns)."""
    m = np.arange(256, dtype=np.float32)[:, None] / 255.0 * float(opacity)
    s = np.arange(256, dtype=np.float32)[None, :] / 255.0
    under = m * (1.0 - s)  # the mask tint shows where the (opaque) sketch does not
    alpha = s + under
    channels = [
        np.round((sc / 255.0 * s + mc / 255.0 * under) * 255.0)
        for sc, mc in zip(SKETCH_COLOUR, MASK_COLOUR, strict=True)
    ]
    a = np.round(alpha * 255.0).astype(np.uint32)
    r, g, b = (c.astype(np.uint32) for c in channels)
    return (a << 24) | (r << 16) | (g << 8) | b


class OverlayLayer:
    """The tinted mask and the sketch strokes in one persistent premultiplied ARGB32 image."""

    def __init__(self, opacity: float = 0.5) -> None:
        self.image: QImage | None = None
        self._view: np.ndarray | None = None
        self.content = Rect(0, 0, 0, 0)  # where non-transparent pixels may be
        self._set_lut(opacity)

    def _set_lut(self, opacity: float) -> None:
        self.opacity = opacity
        lut = overlay_lut(opacity)
        self._lut_flat = lut.ravel()  # index: mask * 256 + sketch
        self._lut_mask = np.ascontiguousarray(lut[:, 0])  # no sketch in the rectangle: mask alone

    def reset(self, mask: np.ndarray, sketch: np.ndarray) -> None:
        h, w = mask.shape
        self.image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        self.image.fill(0)
        self._view = qimage_view(self.image)
        self.content = Rect(0, 0, 0, 0)
        self.update_rect(mask, sketch, mask_bbox(mask).union(mask_bbox(sketch)))

    def clear(self) -> None:
        self.image, self._view, self.content = None, None, Rect(0, 0, 0, 0)

    def update_rect(self, mask: np.ndarray, sketch: np.ndarray, rect: Rect) -> None:
        if self._view is None:
            return
        rect = rect.intersect(Rect.of_array(mask))
        if rect.is_empty():
            return
        rows, cols = rect.slices()
        m, s = mask[rows, cols], sketch[rows, cols]
        if s.any():
            index = np.left_shift(m, 8, dtype=np.uint16)
            index |= s
            self._view[rows, cols] = np.take(self._lut_flat, index)
        else:  # the common case (painting the mask): a 1-D lookup is several times faster
            self._view[rows, cols] = np.take(self._lut_mask, m)
        self.content = self.content.union(rect)

    def set_opacity(self, opacity: float, mask: np.ndarray | None, sketch: np.ndarray | None) -> None:
        self._set_lut(opacity)
        if mask is not None and sketch is not None:
            self.update_rect(mask, sketch, self.content)

    def draw(self, painter: QPainter, transform: ViewTransform, region: QRect) -> None:
        if self.image is None or self.content.is_empty():
            return
        visible = transform.view_rect_to_image(region).intersect(self.content)
        if visible.is_empty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, transform.scale < 1)
        painter.drawImage(
            transform.rect_to_view(visible), self.image, QRectF(visible.x, visible.y, visible.w, visible.h)
        )


def exclusion_luts(opacity: float) -> tuple[np.ndarray, np.ndarray]:
    """Two 256-entry tables of premultiplied ARGB words by coverage: the strong and the faint stripes."""
    coverage = np.arange(256, dtype=np.float32) / 255.0

    def table(strength: float) -> np.ndarray:
        alpha = coverage * min(1.0, strength)
        a = np.round(alpha * 255.0).astype(np.uint32)
        r, g, b = (np.round(alpha * c).astype(np.uint32) for c in EXCLUDE_COLOUR)
        return (a << 24) | (r << 16) | (g << 8) | b

    return table(opacity * 1.4), table(opacity * 1.4 * EXCLUDE_FAINT)


class ExclusionLayer:
    """The sampling exclusion as hatching in one premultiplied ARGB32 image, updated by rectangle.

    The stripes run diagonally in image coordinates, about 150 across the photo whatever its size, so they
    show at the zoom that fits the photo and grow with it when zooming in. Most photos are never given an
    exclusion: the image (4 bytes a pixel) is only made when the first excluded pixel appears.
    """

    def __init__(self, opacity: float = 0.5) -> None:
        self.image: QImage | None = None
        self._view: np.ndarray | None = None
        self.size = (0, 0)
        self.period = 16
        self.content = Rect(0, 0, 0, 0)
        self.set_opacity(opacity, None)

    def reset(self, layer: np.ndarray) -> None:
        h, w = layer.shape
        self.image, self._view, self.content, self.size = None, None, Rect(0, 0, 0, 0), (w, h)
        self.period = max(8, 2 * round(max(w, h) / 300))
        self.update_rect(layer, mask_bbox(layer))

    def clear(self) -> None:
        self.image, self._view, self.content, self.size = None, None, Rect(0, 0, 0, 0), (0, 0)

    def update_rect(self, layer: np.ndarray, rect: Rect) -> None:
        rect = rect.intersect(Rect.of_array(layer))
        if rect.is_empty():
            return
        values = layer[rect.slices()]
        if self._view is None:
            if not values.any():
                return
            self.image = QImage(*self.size, QImage.Format.Format_ARGB32_Premultiplied)
            self.image.fill(0)
            self._view = qimage_view(self.image)
        ys, xs = np.ogrid[rect.y : rect.bottom, rect.x : rect.right]
        strong = (xs + ys) % self.period < self.period // 2
        self._view[rect.slices()] = np.where(strong, self._strong[values], self._faint[values])
        self.content = self.content.union(rect)

    def set_opacity(self, opacity: float, layer: np.ndarray | None) -> None:
        self.opacity = opacity
        self._strong, self._faint = exclusion_luts(opacity)
        if layer is not None and self._view is not None:
            self.update_rect(layer, self.content)

    def draw(self, painter: QPainter, transform: ViewTransform, region: QRect) -> None:
        if self.image is None or self.content.is_empty():
            return
        visible = transform.view_rect_to_image(region).intersect(self.content)
        if visible.is_empty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, transform.scale < 1)
        painter.drawImage(
            transform.rect_to_view(visible), self.image, QRectF(visible.x, visible.y, visible.w, visible.h)
        )


_checker: QPixmap | None = None


def checker_brush() -> QBrush:
    global _checker
    if _checker is None:
        _checker = QPixmap(16, 16)
        _checker.fill(QColor(200, 200, 200))
        p = QPainter(_checker)
        p.fillRect(0, 0, 8, 8, QColor(150, 150, 150))
        p.fillRect(8, 8, 8, 8, QColor(150, 150, 150))
        p.end()
    return QBrush(_checker)


def draw_checkerboard(painter: QPainter, area: QRectF, anchor: QPointF) -> None:
    """A checkerboard (transparent / new area) over ``area``, its squares anchored at ``anchor`` so it
    moves with the image when the view pans."""
    painter.save()
    painter.setBrushOrigin(anchor)
    painter.fillRect(area, checker_brush())
    painter.restore()


def draw_brush_outline(painter: QPainter, centre: QPointF, radius: float) -> None:
    """A black-and-white circle readable on any photo, with a dot at the centre when it is tiny."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    radius = max(radius, 1.5)
    painter.setPen(QPen(QColor(0, 0, 0, 200), 3.0))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1.2))
    painter.drawEllipse(centre, radius, radius)
    if radius < 6:
        painter.drawLine(centre - QPointF(9, 0), centre - QPointF(radius + 2, 0))
        painter.drawLine(centre + QPointF(radius + 2, 0), centre + QPointF(9, 0))
    painter.restore()


def outline_rect(centre: QPointF, radius: float) -> QRect:
    """The view pixels the brush outline covers (for repainting)."""
    reach = int(math.ceil(max(radius, 10.0))) + 4
    return QRect(int(centre.x()) - reach, int(centre.y()) - reach, 2 * reach + 1, 2 * reach + 1)
