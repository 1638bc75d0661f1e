"""The compare view: the results of several models side by side, with synchronised zoom and pan.

It renders a :class:`~inpaintstudio.document.compare.Comparison` (plain state) and never runs
anything itself: every pane shares one :class:`ViewTransform`, so panning or zooming one pans and
zooms all. "Before" shows the input in every pane; "Apply" asks the controller to apply that slot.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QMouseEvent, QPainter, QPaintEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from inpaintstudio.document.compare import DONE, Comparison
from inpaintstudio.engine.request import FillResult
from inpaintstudio.geometry import Rect
from inpaintstudio.ui.canvas import rendering
from inpaintstudio.ui.canvas.transform import ZOOM_STEP, ViewTransform
from inpaintstudio.ui.icons import icon


class ImagePane(QWidget):
    """Draws one photo layer through a (shared) transform; drag pans, Ctrl + wheel zooms."""

    def __init__(self, transform: ViewTransform, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(160, 120)
        self.transform = transform
        # A bound method, not a lambda: Qt drops the connection when the pane is deleted, and detach()
        # drops it as soon as a new comparison replaces the pane.
        transform.changed.connect(self._on_transform_changed)
        self.layer: rendering.PhotoLayer | rendering.PatchedPhoto | None = None
        self.origin = (0, 0)
        self.content = Rect(0, 0, 0, 0)
        self.placeholder = ""
        self._drag: QPointF | None = None
        self.resized: Callable[[], None] | None = None

    def _on_transform_changed(self, _delta: object) -> None:
        self.update()

    def detach(self) -> None:
        """Stop following the shared transform (the pane is about to be deleted)."""
        self.transform.changed.disconnect(self._on_transform_changed)

    def show_layer(
        self,
        layer: rendering.PhotoLayer | rendering.PatchedPhoto | None,
        content: Rect,
        origin: tuple[int, int] = (0, 0),
    ) -> None:
        self.layer, self.content, self.origin = layer, content, origin
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(30, 32, 36))
        if self.layer is None:
            painter.setPen(QColor(160, 164, 172))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
        else:
            t = self.transform
            layer_rect = Rect(self.origin[0], self.origin[1], self.layer.width, self.layer.height)
            if self.content != layer_rect:
                area = t.rect_to_view(self.content).intersected(event.rect().toRectF())
                rendering.draw_checkerboard(painter, area, t.to_view(self.content.x, self.content.y))
            self.layer.draw(painter, t, event.rect(), self.origin)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._drag = event.position()
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.transform.pan(delta.x(), delta.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._drag = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.transform.fit(self.content, self.size(), margin=4)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.transform.zoom_at(ZOOM_STEP ** (event.angleDelta().y() / 120.0), event.position())
        else:
            delta = event.pixelDelta() if not event.pixelDelta().isNull() else event.angleDelta() / 2
            self.transform.pan(delta.x(), delta.y())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.resized is not None:
            self.resized()


class ComparePane(QFrame):
    """One slot: its caption (model and time, or status), the image, and an Apply button."""

    def __init__(self, index: int, transform: ViewTransform, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName("comparePane")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel()
        self.caption.setObjectName("compareCaption")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.image = ImagePane(transform)
        self.apply = QPushButton(icon("apply"), "Apply")
        self.apply.setToolTip("Use this result in the photo (one undoable step)")
        self.apply.setEnabled(False)
        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 2)
        top.addWidget(self.caption, 1)
        top.addWidget(self.apply)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.image, 1)


class CompareView(QWidget):
    apply_requested = Signal(int)
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transform = ViewTransform(self)
        self.comparison: Comparison | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.panes: list[ComparePane] = []
        self.before_pane: ComparePane | None = None
        self._layers: dict[int, rendering.PhotoLayer | rendering.PatchedPhoto] = {}
        self._before_layer = rendering.PhotoLayer()
        self.title = QLabel()
        self.title.setObjectName("compareTitle")
        self.before = QAction(icon("before"), "Before / after", self)
        self.before.setCheckable(True)
        self.before.setShortcut("O")
        self.before.setToolTip("Show the photo before the fill in every pane (O)")
        self.before.toggled.connect(lambda _on: self._refresh_all())
        before_button = QToolButton()
        before_button.setDefaultAction(self.before)
        before_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        fit = QPushButton(icon("fit"), "Fit")
        fit.clicked.connect(self.fit)
        back = QPushButton(icon("cancel"), "Back to editing")
        back.setToolTip("Close the comparison without applying anything (Esc)")
        back.clicked.connect(self.close_requested)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        for widget in (before_button, fit, back):
            bar.addWidget(widget)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(self.grid, 1)

    # -- the comparison --------------------------------------------------------------------------------
    def set_comparison(self, comparison: Comparison | None, input_layer: rendering.PhotoLayer | None = None) -> None:
        """Show ``comparison``; ``input_layer`` (the canvas's layer of the same photo) saves converting the
        input again on the GUI thread: about 0.1 s for a 24-megapixel photo."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for pane in [*self.panes, *([self.before_pane] if self.before_pane else [])]:
            self.grid.removeWidget(pane)
            pane.image.detach()
            pane.deleteLater()
        self.panes, self.before_pane, self._layers = [], None, {}
        self.comparison = comparison
        self.before.setChecked(False)
        if comparison is None:
            self._before_layer.clear()
            return
        request = comparison.request
        rect = request.image_rect
        if (
            input_layer is not None
            and (input_layer.width, input_layer.height) == (rect.w, rect.h)
            and not input_layer.has_alpha
        ):
            self._before_layer = input_layer.shared_copy()
        else:
            self._before_layer = rendering.PhotoLayer()
            self._before_layer.set_image(request.image)
        count = len(comparison.slots)
        columns = 2 if count in (2, 3, 4) else count
        for index in range(count):
            pane = ComparePane(index, self.transform)
            pane.apply.clicked.connect(lambda _checked=False, i=index: self.apply_requested.emit(i))
            self.grid.addWidget(pane, index // columns, index % columns)
            self.panes.append(pane)
        if count == 3:  # the free cell shows the input
            self.before_pane = ComparePane(-1, self.transform)
            self.before_pane.apply.hide()
            self.before_pane.caption.setText("Before (input)")
            self.grid.addWidget(self.before_pane, 1, 1)
        self.panes[0].image.resized = self._fit_if_fitted
        self._unsubscribe = comparison.subscribe(self._refresh)
        self.title.setText(f"Comparing {count} models on the same input")
        self._refresh_all()
        self.transform.fitted = True
        self.fit()

    def content(self) -> Rect:
        if self.comparison is None:
            return Rect(0, 0, 0, 0)
        canvas = self.comparison.request.canvas
        return Rect(0, 0, canvas.w, canvas.h)

    def _before_origin(self) -> tuple[int, int]:
        assert self.comparison is not None
        canvas = self.comparison.request.canvas
        return (-canvas.x, -canvas.y)

    def fit(self) -> None:
        if self.panes:
            self.transform.fit(self.content(), self.panes[0].image.size(), margin=4)

    def _fit_if_fitted(self) -> None:
        if self.transform.fitted:
            self.fit()

    def _refresh_all(self) -> None:
        if self.comparison is not None:
            for index in range(len(self.panes)):
                self._refresh(index)
            if self.before_pane is not None:
                self.before_pane.image.show_layer(self._before_layer, self.content(), self._before_origin())

    def _result_layer(self, result: FillResult) -> rendering.PhotoLayer | rendering.PatchedPhoto:
        """The input's layer with the result's patches over it; a whole new layer only when the result is
        larger than the input (extended borders)."""
        if result.size == (self._before_layer.width, self._before_layer.height):
            return rendering.PatchedPhoto(self._before_layer, [(p.rect, p.pixels) for p in result.patches])
        layer = rendering.PhotoLayer()
        layer.set_image(result.image)
        return layer

    def _refresh(self, index: int) -> None:
        comparison = self.comparison
        if comparison is None or index >= len(self.panes):
            return
        slot, pane = comparison.slots[index], self.panes[index]
        caption = slot.caption() + (" (showing the input)" if self.before.isChecked() else "")
        pane.caption.setText(caption)
        pane.caption.setToolTip(caption)
        pane.apply.setEnabled(slot.status == DONE)
        if self.before.isChecked():
            pane.image.show_layer(self._before_layer, self.content(), self._before_origin())
            return
        if slot.status == DONE and slot.result is not None:
            if index not in self._layers:
                self._layers[index] = self._result_layer(slot.result)
            pane.image.show_layer(self._layers[index], self.content())
        else:
            pane.image.placeholder = slot.caption()
            pane.image.show_layer(None, self.content())
