"""The brush & layers panel: brush size and hardness, sketch width, overlay opacity, and the mask, sketch and
sampling exclusion's commands and files."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inpaintstudio.document.brush import MAX_SIZE, MIN_SIZE

SLIDER_STEPS = 1000


def size_to_slider(size: float) -> int:
    return round(math.log(size / MIN_SIZE) / math.log(MAX_SIZE / MIN_SIZE) * SLIDER_STEPS)


def slider_to_size(value: int) -> float:
    return round(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** (value / SLIDER_STEPS))


class SizeControl(QWidget):
    """A logarithmic slider with a spin box in pixels (fine control for small brushes, reach for big)."""

    changed = Signal(float)

    def __init__(self, value: float, maximum: float = MAX_SIZE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, size_to_slider(maximum))
        self.spin = QSpinBox()
        self.spin.setRange(int(MIN_SIZE), int(maximum))
        self.spin.setSuffix(" px")
        self.spin.setKeyboardTracking(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(lambda v: self.set_value(slider_to_size(v)))
        self.spin.valueChanged.connect(lambda v: self.set_value(float(v)))
        self._value = -1.0
        self.set_value(value, notify=False)

    def value(self) -> float:
        return self._value

    def set_value(self, value: float, notify: bool = True) -> None:
        value = float(max(self.spin.minimum(), min(self.spin.maximum(), round(value))))
        if value == self._value:
            return
        self._value = value
        for widget, v in ((self.slider, size_to_slider(value)), (self.spin, int(value))):
            widget.blockSignals(True)
            widget.setValue(v)
            widget.blockSignals(False)
        if notify:
            self.changed.emit(value)


def percent_slider(value: float) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(round(value * 100))
    return slider


def action_button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


class BrushPanel(QWidget):
    size_changed = Signal(float)
    hardness_changed = Signal(float)
    sketch_size_changed = Signal(float)
    opacity_changed = Signal(float)

    def __init__(
        self,
        size: float,
        hardness: float,
        sketch_size: float,
        opacity: float,
        actions: dict[str, QAction],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.size = SizeControl(size)
        self.sketch_size = SizeControl(sketch_size, maximum=200)
        self.hardness = percent_slider(hardness)
        self.opacity = percent_slider(opacity)
        self.size.setToolTip(
            "Diameter of the mask brush, eraser and exclusion brush in image pixels ( [ smaller, ] larger )"
        )
        self.sketch_size.setToolTip("Width of sketch strokes in image pixels")
        self.hardness.setToolTip("100 %: hard edge; lower: the brush fades towards its rim")
        self.opacity.setToolTip("How strongly the mask and the exclusion are tinted over the photo")

        brush = QGroupBox("Brush")
        form = QFormLayout(brush)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("Sketch", self.sketch_size)

        mask = QGroupBox("Mask, sketch && exclusion")
        grid = QGridLayout(mask)
        grid.setHorizontalSpacing(2)
        grid.addWidget(self._row("Opacity", self.opacity), 0, 0, 1, 5)
        rows = (("Mask", ("clear_mask", "invert_mask", "load_mask", "save_mask")),
                ("Sketch", ("clear_sketch", None, "load_sketch", "save_sketch")),
                ("Exclusion", ("clear_exclude", None, "load_exclude", "save_exclude")))  # fmt: skip
        for row, (title, names) in enumerate(rows, start=1):
            grid.addWidget(QLabel(title), row, 0)
            for column, name in enumerate(names, start=1):
                if name in actions:
                    grid.addWidget(action_button(actions[name]), row, column)
        grid.setColumnStretch(0, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(brush)
        layout.addWidget(mask)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self.size.changed.connect(self.size_changed)
        self.sketch_size.changed.connect(self.sketch_size_changed)
        self.hardness.valueChanged.connect(lambda v: self.hardness_changed.emit(v / 100))
        self.opacity.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100))

    @staticmethod
    def _row(label: str, widget: QWidget) -> QWidget:
        row = QWidget()
        form = QFormLayout(row)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(label, widget)
        return row
