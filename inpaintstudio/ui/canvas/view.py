"""The canvas widget: observes the document, keeps the rendering layers current, paints dirty regions.

Why a plain QWidget with its own transform rather than QGraphicsView: the canvas shows one huge
raster plus overlays, never many items. Owning the transform lets a change of a few image pixels be
mapped to exactly the view pixels to repaint, lets paintEvent draw only source sub-rectangles of the
layers (cost independent of the photo's size), lets a pan scroll the already-painted pixels
(``QWidget.scroll``) instead of repainting the window, and lets several views share one transform (the
compare grid). A scene graph would add item bookkeeping, scene-rect/scroll-bar coupling and
full-item repaint paths without giving anything this canvas needs.

Mouse and keyboard handling lives in :mod:`.interaction`; this module only renders.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from inpaintstudio.document.document import Change, Document
from inpaintstudio.document.tools import ExtendTool, Tool, padding_text
from inpaintstudio.geometry import Rect
from inpaintstudio.ui.canvas import rendering
from inpaintstudio.ui.canvas.interaction import CanvasInteraction
from inpaintstudio.ui.canvas.transform import ViewTransform

BACKGROUND = QColor(38, 40, 44)
HANDLE = 9  # side of an extent handle in view pixels


class CanvasView(QWidget):
    zoom_changed = Signal(float)
    cursor_moved = Signal(object)  # (x, y) in image pixels, or None when the cursor left the image
    extent_dragged = Signal()  # the extend tool's frame moved or went away: content_rect() changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # the main window takes drops
        self.setMinimumSize(200, 150)
        self.transform = ViewTransform(self)
        self.transform.changed.connect(self._on_transform)
        self.photo = rendering.PhotoLayer()
        self.overlay = rendering.OverlayLayer()
        self.exclusion = rendering.ExclusionLayer()
        self.doc: Document | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._shown_extent = Rect(0, 0, 0, 0)
        self.hint = "Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)"
        self.interaction = CanvasInteraction(self)

    def viewport(self) -> QWidget:
        """The widget that receives mouse events (the canvas itself)."""
        return self

    @property
    def tool(self) -> Tool | None:
        return self.interaction.tool

    # -- the document --------------------------------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        self.interaction.cancel_drag()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.doc = doc
        if doc is None:
            self.photo.clear()
            self.overlay.clear()
            self.exclusion.clear()
        else:
            self._rebuild()
            self._unsubscribe = doc.subscribe(self._on_change)
            self.transform.fitted = True
            self.fit()
        self.update()

    def _rebuild(self) -> None:
        assert self.doc is not None
        self.photo.set_image(self.doc.image, self.doc.alpha)
        self.overlay.reset(self.doc.mask, self.doc.sketch)
        self.exclusion.reset(self.doc.exclude)
        self._shown_extent = self.doc.extent

    def _on_change(self, change: Change) -> None:
        doc = self.doc
        if doc is None:
            return
        if change.kind == "image" or change.kind == "alpha":
            rect = change.rect or doc.rect
            self.photo.update_rect(doc.image, doc.alpha, rect)
            self.update(self.transform.rect_to_view_aligned(rect))
        elif change.kind in ("mask", "sketch"):
            rect = change.rect or doc.rect
            self.overlay.update_rect(doc.mask, doc.sketch, rect)
            self.update(self.transform.rect_to_view_aligned(rect))
        elif change.kind == "exclude":
            rect = change.rect or doc.rect
            self.exclusion.update_rect(doc.exclude, rect)
            self.update(self.transform.rect_to_view_aligned(rect))
        elif change.kind == "canvas":
            old = self._shown_extent
            self._rebuild()
            if self.transform.fitted:
                self.fit()
            else:  # keep the same scene region where it was on screen (the origin moved by the growth)
                new = doc.extent
                shift = self.transform.to_view(old.x, old.y) - self.transform.to_view(new.x, new.y)
                self.transform.set(self.transform.scale, self.transform.offset + shift)
            self.update()
        elif change.kind == "extent":
            self._shown_extent = doc.extent
            if self.transform.fitted:
                self.fit()
            self.update()

    def show_extent_drag(self) -> None:
        """The extend tool's frame changed: repaint it and say so (the status bar shows its size)."""
        self.update()
        self.extent_dragged.emit()

    def set_mask_opacity(self, opacity: float) -> None:
        doc = self.doc
        self.overlay.set_opacity(opacity, doc.mask if doc else None, doc.sketch if doc else None)
        self.exclusion.set_opacity(opacity, doc.exclude if doc else None)
        self.update()

    # -- zoom ------------------------------------------------------------------------------------------
    def content_rect(self) -> Rect:
        if self.doc is None:
            return Rect(0, 0, 0, 0)
        preview = getattr(self.tool, "preview", None)
        return self.doc.extent.union(preview) if preview is not None else self.doc.extent

    def fit(self) -> None:
        self.transform.fit(self.content_rect(), self.size())

    def actual_size(self) -> None:
        self.transform.set_scale_at(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.transform.zoom_at(factor, anchor or QPointF(self.width() / 2, self.height() / 2))

    def _on_transform(self, delta: QPointF | None) -> None:
        # Only a rigid picture can be scrolled: no on-screen label, no brush outline at the cursor.
        rigid = self.doc is not None and self.content_rect() == self.doc.rect and self.interaction.outline() is None
        if rigid and delta is not None and abs(delta.x()) < self.width() and abs(delta.y()) < self.height():
            self.scroll(int(delta.x()), int(delta.y()))  # reuse painted pixels; only the exposed strips repaint
        else:
            self.update()
        self.interaction.view_changed()
        self.zoom_changed.emit(self.transform.scale)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        if self.transform.fitted:
            self.fit()
        super().resizeEvent(event)

    # -- painting --------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        region = event.rect()
        painter = QPainter(self)
        painter.fillRect(region, BACKGROUND)
        doc = self.doc
        if doc is None:
            self._paint_hint(painter)
            painter.end()
            return
        t = self.transform
        content = self.content_rect()
        if content != doc.rect or self.photo.has_alpha:
            area = t.rect_to_view(content).intersected(QRectF(region))
            rendering.draw_checkerboard(painter, area, t.to_view(content.x, content.y))
        self.photo.draw(painter, t, region)
        if self.interaction.show_overlay:  # the exclusion under the mask: the hole is what is filled
            self.exclusion.draw(painter, t, region)
            self.overlay.draw(painter, t, region)
        if content != doc.rect or isinstance(self.tool, ExtendTool):
            self._paint_extent(painter, content)
        outline = self.interaction.outline()
        if outline is not None:
            rendering.draw_brush_outline(painter, *outline)
        painter.end()

    def _paint_hint(self, painter: QPainter) -> None:
        painter.setPen(QColor(170, 174, 182))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        painter.setFont(font)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.hint)

    def handle_rects(self, extent: Rect) -> dict[str, QRectF]:
        """The grab handles of the extend tool: edge midpoints and corners, in view coordinates."""
        r = self.transform.rect_to_view(extent)
        xs = {"left": r.left(), "right": r.right()}
        ys = {"top": r.top(), "bottom": r.bottom()}
        mid_x, mid_y = r.center().x(), r.center().y()
        points = {name: QPointF(x, mid_y) for name, x in xs.items()}
        points.update({name: QPointF(mid_x, y) for name, y in ys.items()})
        for vy, y in ys.items():
            for hx, x in xs.items():
                points[f"{vy}-{hx}"] = QPointF(x, y)
        half = HANDLE / 2
        return {name: QRectF(p.x() - half, p.y() - half, HANDLE, HANDLE) for name, p in points.items()}

    def _paint_extent(self, painter: QPainter, content: Rect) -> None:
        doc = self.doc
        assert doc is not None
        t = self.transform
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        frame = t.rect_to_view(content)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(255, 255, 255, 220), 1, Qt.PenStyle.DashLine))
        painter.drawRect(frame)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1, Qt.PenStyle.DotLine))
        painter.drawRect(t.rect_to_view(doc.rect))
        if isinstance(self.tool, ExtendTool):
            painter.setPen(QPen(QColor(20, 20, 20), 1))
            painter.setBrush(QColor(255, 255, 255))
            for rect in self.handle_rects(content).values():
                painter.drawRect(rect)
        if content != doc.rect:
            self._paint_size_label(painter, frame, padding_text(content, doc.rect))
        painter.restore()

    def _paint_size_label(self, painter: QPainter, frame: QRectF, text: str) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(metrics.boundingRect(text)).adjusted(-8, -4, 8, 4)
        box.moveCenter(QPointF(frame.center().x(), frame.top() + box.height() / 2 + 8))
        box.moveTop(max(box.top(), 4.0))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 22, 26, 210))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(235, 238, 242))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
