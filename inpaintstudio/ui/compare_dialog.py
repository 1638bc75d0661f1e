"""Choosing the models to compare: 2 to 4 of those that can run on this request."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from inpaintstudio.document.compare import MAX_MODELS, MIN_MODELS
from inpaintstudio.ui.models import ModelInfo

SHORT_STATES = {"missing": "no weights installed", "damaged": "weights damaged"}


class CompareDialog(QDialog):
    def __init__(
        self, infos: list[ModelInfo], previous: list[str], extends: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"Run {MIN_MODELS} to {MAX_MODELS} models on the same input and see them side by side:")
        )
        self.boxes: dict[str, QCheckBox] = {}
        usable = [i for i in infos if i.ready and (i.outpaint or not extends)]
        chosen = [m for m in previous if any(i.name == m for i in usable)] or [i.name for i in usable[:3]]
        for info in infos:
            box = QCheckBox(info.label)
            box.setToolTip(info.tooltip().replace("<br>", "\n").replace("<b>", "").replace("</b>", ""))
            if not info.ready:
                box.setEnabled(False)
                box.setText(f"{info.label} ({SHORT_STATES.get(info.state, 'unavailable')}; hover for details)")
            elif extends and not info.outpaint:
                box.setEnabled(False)
                box.setText(f"{info.label} (cannot extend borders)")
            box.setChecked(box.isEnabled() and info.name in chosen[:MAX_MODELS])
            box.toggled.connect(self._update)
            self.boxes[info.name] = box
            layout.addWidget(box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.note = QLabel()
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self._update()

    def selected(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def _update(self) -> None:
        count = len(self.selected())
        ok = MIN_MODELS <= count <= MAX_MODELS
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.note.setText("" if ok else f"{count} chosen; choose {MIN_MODELS} to {MAX_MODELS}.")
