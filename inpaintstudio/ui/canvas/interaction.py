"""Mouse and keyboard on the canvas: events -> image coordinates -> the active tool, plus pan and zoom.

- left drag: the active tool (Alt swaps painting and erasing); with the hand tool, or while Space is
  held, or with the middle button: pan;
- Ctrl + wheel (or a pinch): zoom around the cursor; wheel: scroll (Shift: sideways);
- the brush outline follows the cursor at the current zoom (the view draws it, we say where).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt, SignalInstance
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QNativeGestureEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

from inpaintstudio.document.document import Document
from inpaintstudio.document.tools import ExtendTool, StrokeTool, Tool
from inpaintstudio.ui.canvas.rendering import outline_rect
from inpaintstudio.ui.canvas.transform import ZOOM_STEP, ViewTransform

GRAB_PIXELS = 10  # how close (in screen pixels) to an extent edge a press grabs it

_EDGE_CURSORS = {
    frozenset({"left"}): Qt.CursorShape.SizeHorCursor,
    frozenset({"right"}): Qt.CursorShape.SizeHorCursor,
    frozenset({"top"}): Qt.CursorShape.SizeVerCursor,
    frozenset({"bottom"}): Qt.CursorShape.SizeVerCursor,
    frozenset({"top", "left"}): Qt.CursorShape.SizeFDiagCursor,
    frozenset({"bottom", "right"}): Qt.CursorShape.SizeFDiagCursor,
    frozenset({"top", "right"}): Qt.CursorShape.SizeBDiagCursor,
    frozenset({"bottom", "left"}): Qt.CursorShape.SizeBDiagCursor,
}


class Surface(Protocol):
    """What the interaction needs of the widget it drives (:class:`~.view.CanvasView` is one): the
    document and transform it shows, two of its own operations, and a few plain QWidget calls."""

    doc: Document | None
    transform: ViewTransform
    cursor_moved: SignalInstance

    def show_extent_drag(self) -> None: ...
    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None: ...
    def update(self, rect: QRect | None = None) -> None: ...
    def setFocus(self, reason: Qt.FocusReason) -> None: ...  # noqa: N802 - Qt API
    def setCursor(self, shape: Qt.CursorShape) -> None: ...  # noqa: N802 - Qt API
    def cursor(self) -> QCursor: ...
    def mapFromGlobal(self, pos: QPoint) -> QPoint: ...  # noqa: N802 - Qt API
    def installEventFilter(self, filter_: QObject) -> None: ...  # noqa: N802 - Qt API


class CanvasInteraction(QObject):
    def __init__(self, view: Surface) -> None:
        super().__init__(view)
        self.view = view
        self.tool: Tool | None = None
        self.show_overlay = True
        self._cursor: QPointF | None = None  # last cursor position in the view, None when outside
        self._pan_from: QPointF | None = None
        self._space = False
        self._tool_button: Qt.MouseButton | None = None
        view.installEventFilter(self)

    # -- state -----------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool | None) -> None:
        self.cancel_drag()
        self._refresh_outline(lambda: setattr(self, "tool", tool))
        self._update_cursor()
        self.view.update()

    def cancel_drag(self) -> None:
        if self.tool is not None and self.tool.active:
            self.tool.cancel()
            if isinstance(self.tool, ExtendTool):
                self.view.show_extent_drag()
            else:
                self.view.update()
        self._tool_button = None
        self._pan_from = None

    @property
    def panning(self) -> bool:
        return self._pan_from is not None

    def outline(self) -> tuple[QPointF, float] | None:
        """(centre, radius) of the brush outline in view coordinates, or None."""
        tool = self.tool
        if not isinstance(tool, StrokeTool) or self._cursor is None or self.panning or self._space:
            return None
        if self.view.doc is None:
            return None
        return self._cursor, tool.size / 2 * self.view.transform.scale

    def refresh_outline(self) -> None:
        """The brush size changed: repaint the outline."""
        self._refresh_outline(lambda: None)

    def _refresh_outline(self, change: Callable[[], object]) -> None:
        """Apply ``change`` (to the cursor, tool or pan state) and repaint the outline before and after."""
        before = self.outline()
        change()
        after = self.outline()
        for shape in (before, after):
            if shape is not None:
                self.view.update(outline_rect(*shape))

    def view_changed(self) -> None:
        self._update_cursor()

    def _image_point(self, pos: QPointF) -> tuple[float, float]:
        return self.view.transform.to_image(pos)

    # -- events ----------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if kind == QEvent.Type.MouseMove:
            return self._move(event)
        if kind == QEvent.Type.MouseButtonRelease:
            return self._release(event)
        if kind == QEvent.Type.Wheel:
            return self._wheel(event)
        if kind == QEvent.Type.NativeGesture:
            return self._gesture(event)
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return self._key(event)
        if kind == QEvent.Type.Enter:
            focus = QApplication.focusWidget()
            if not isinstance(focus, (QLineEdit, QAbstractSpinBox)):
                self.view.setFocus(Qt.FocusReason.MouseFocusReason)
        if kind == QEvent.Type.Leave:
            self._refresh_outline(lambda: setattr(self, "_cursor", None))
            self.view.cursor_moved.emit(None)
        if kind == QEvent.Type.FocusOut and self._space:
            self._space = False
            self._update_cursor()
        return False

    def _press(self, event: QMouseEvent) -> bool:
        pos = event.position()
        self.view.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        doc = self.view.doc
        if self._tool_button is not None or self.panning:
            return True
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._pans()):
            self._start_pan(pos)
            return True
        if button != Qt.MouseButton.LeftButton or doc is None or self.tool is None:
            return False
        x, y = self._image_point(pos)
        if isinstance(self.tool, ExtendTool):
            self.tool.tolerance = GRAB_PIXELS / self.view.transform.scale
        alternate = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        self.tool.press(doc, x, y, alternate=alternate)
        if self.tool.active:
            self._tool_button = button
            if isinstance(self.tool, ExtendTool):
                self.view.update()
        elif isinstance(self.tool, ExtendTool):  # not on an edge: drag the view instead
            self._start_pan(pos)
        return True

    def _move(self, event: QMouseEvent) -> bool:
        pos = event.position()
        if self.panning:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.view.transform.pan(delta.x(), delta.y())
            return True
        self._refresh_outline(lambda: setattr(self, "_cursor", QPointF(pos)))
        x, y = self._image_point(pos)
        doc = self.view.doc
        self.view.cursor_moved.emit((x, y) if doc is not None and 0 <= x < doc.width and 0 <= y < doc.height else None)
        if self._tool_button is not None and self.tool is not None and self.tool.active:
            changed = self.tool.move(x, y)
            if isinstance(self.tool, ExtendTool) and changed is not None:
                self.view.show_extent_drag()  # the frame, the handles and the size labels move
        elif isinstance(self.tool, ExtendTool):
            self._update_cursor(pos)
        return True

    def _release(self, event: QMouseEvent) -> bool:
        if self.panning and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self._update_cursor()
            self._refresh_outline(lambda: None)
            return True
        if self._tool_button is not None and event.button() == self._tool_button and self.tool is not None:
            self._tool_button = None
            x, y = self._image_point(event.position())
            self.tool.release(x, y)
            if isinstance(self.tool, ExtendTool):
                self.view.show_extent_drag()
            return True
        return False

    def _wheel(self, event: QWheelEvent) -> bool:
        if self.view.doc is None:
            return False
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.view.zoom_by(ZOOM_STEP**steps, event.position())
            return True
        delta = event.pixelDelta() if not event.pixelDelta().isNull() else event.angleDelta() / 2
        dx, dy = delta.x(), delta.y()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and not dx:
            dx, dy = dy, 0
        self.view.transform.pan(dx, dy)
        return True

    def _gesture(self, event: QNativeGestureEvent) -> bool:
        if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture and self.view.doc is not None:
            self.view.zoom_by(1.0 + event.value(), event.position())
            return True
        return False

    def _key(self, event: QKeyEvent) -> bool:
        if event.key() != Qt.Key.Key_Space or event.isAutoRepeat():
            return event.key() == Qt.Key.Key_Space
        held = event.type() == QEvent.Type.KeyPress
        self._refresh_outline(lambda: setattr(self, "_space", held))
        self._update_cursor()
        return True

    # -- helpers ---------------------------------------------------------------------------------------
    def _pans(self) -> bool:
        return self._space or (self.tool is not None and self.tool.view_only)

    def _start_pan(self, pos: QPointF) -> None:
        self._refresh_outline(lambda: setattr(self, "_pan_from", QPointF(pos)))
        self.view.setCursor(Qt.CursorShape.ClosedHandCursor)

    def _update_cursor(self, pos: QPointF | None = None) -> None:
        view = self.view
        if self.panning:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._pans():
            shape = Qt.CursorShape.OpenHandCursor
        elif isinstance(self.tool, StrokeTool):
            shape = Qt.CursorShape.CrossCursor
        elif isinstance(self.tool, ExtendTool) and view.doc is not None:
            pos = pos if pos is not None else QPointF(view.mapFromGlobal(QCursor.pos()))
            self.tool.tolerance = GRAB_PIXELS / view.transform.scale
            edges = self.tool.edges_at(view.doc, *self._image_point(pos))
            shape = _EDGE_CURSORS.get(edges, Qt.CursorShape.ArrowCursor)
        else:
            shape = Qt.CursorShape.ArrowCursor
        if view.cursor().shape() != shape:
            view.setCursor(shape)
