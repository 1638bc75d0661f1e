"""The mapping between image coordinates and widget (view) coordinates: a scale and an offset.

One :class:`ViewTransform` can be shared by several widgets; the compare grid does that to keep zoom
and pan synchronised. ``changed`` carries the pan delta in view pixels when only the offset moved (so a
widget can scroll what it already painted) and ``None`` when the scale changed.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QPointF, QRect, QRectF, QSize, Signal

from inpaintstudio.geometry import Rect

MIN_SCALE, MAX_SCALE = 1 / 64, 32.0
ZOOM_STEP = 1.25


class ViewTransform(QObject):
    changed = Signal(object)  # QPointF pan delta, or None when the scale changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scale = 1.0
        self.offset = QPointF(0.0, 0.0)  # where image point (0, 0) lands in the view
        self.fitted = True  # follow the window size until the user zooms or pans

    # -- mapping -------------------------------------------------------------------------------------
    def to_image(self, point: QPointF) -> tuple[float, float]:
        return ((point.x() - self.offset.x()) / self.scale, (point.y() - self.offset.y()) / self.scale)

    def to_view(self, x: float, y: float) -> QPointF:
        return QPointF(x * self.scale + self.offset.x(), y * self.scale + self.offset.y())

    def rect_to_view(self, rect: Rect) -> QRectF:
        return QRectF(self.to_view(rect.x, rect.y), self.to_view(rect.right, rect.bottom))

    def rect_to_view_aligned(self, rect: Rect, margin: int = 2) -> QRect:
        """The view pixels ``rect`` covers, rounded outwards (what to repaint when ``rect`` changes)."""
        r = self.rect_to_view(rect)
        left, top = math.floor(r.left()) - margin, math.floor(r.top()) - margin
        right, bottom = math.ceil(r.right()) + margin, math.ceil(r.bottom()) + margin
        return QRect(left, top, right - left, bottom - top)

    def view_rect_to_image(self, rect: QRect | QRectF, margin: int = 2) -> Rect:
        """The image pixels that show inside a view rectangle, rounded outwards."""
        x0, y0 = self.to_image(QPointF(rect.left(), rect.top()))
        x1, y1 = self.to_image(QPointF(rect.left() + rect.width(), rect.top() + rect.height()))
        return Rect.from_edges(
            math.floor(x0) - margin, math.floor(y0) - margin, math.ceil(x1) + margin, math.ceil(y1) + margin
        )

    # -- changing ------------------------------------------------------------------------------------
    def set(self, scale: float, offset: QPointF) -> None:
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        if math.isclose(scale, self.scale) and offset == self.offset:
            return
        delta = offset - self.offset if math.isclose(scale, self.scale) else None
        self.scale, self.offset = scale, QPointF(offset)
        self.changed.emit(delta)

    def pan(self, dx: float, dy: float) -> None:
        self.fitted = False
        self.set(self.scale, self.offset + QPointF(round(dx), round(dy)))

    def zoom_at(self, factor: float, anchor: QPointF) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (view coordinates) in place."""
        self.fitted = False
        x, y = self.to_image(anchor)
        scale = min(MAX_SCALE, max(MIN_SCALE, self.scale * factor))
        self.set(scale, QPointF(round(anchor.x() - x * scale), round(anchor.y() - y * scale)))

    def set_scale_at(self, scale: float, anchor: QPointF) -> None:
        self.zoom_at(scale / self.scale, anchor)

    def fit(self, content: Rect, viewport: QSize, margin: int = 16) -> None:
        """Show all of ``content`` centred in the viewport (never magnified beyond 100 %)."""
        if content.is_empty() or viewport.width() <= 0 or viewport.height() <= 0:
            return
        avail_w, avail_h = max(1, viewport.width() - 2 * margin), max(1, viewport.height() - 2 * margin)
        scale = min(1.0, avail_w / content.w, avail_h / content.h)
        ox = (viewport.width() - content.w * scale) / 2 - content.x * scale
        oy = (viewport.height() - content.h * scale) / 2 - content.y * scale
        self.set(scale, QPointF(round(ox), round(oy)))
        self.fitted = True
