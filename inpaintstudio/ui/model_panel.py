"""The model panel: every registered model with its capabilities and status, the device, Fill and Compare.

Models that cannot run here (weights missing, library absent) are listed but disabled, with the reason
as tooltip; the classical fills need nothing and are always there.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inpaintstudio.ui.icons import ACCENT, DISABLED, icon
from inpaintstudio.ui.models import ModelInfo, available_models

DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)", "mps": "GPU (Apple MPS)"}
NAME_ROLE = Qt.ItemDataRole.UserRole


class ModelPanel(QWidget):
    model_changed = Signal(str)
    device_changed = Signal(str)

    def __init__(self, actions: dict[str, QAction], devices: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Model", "Sketch", "Extend"])
        self.tree.headerItem().setToolTip(1, "Uses sketch strokes to guide where edges run")
        self.tree.headerItem().setToolTip(2, "Can extend the photo's borders (outpainting)")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_current)

        self.device = QComboBox()
        for device in devices:
            self.device.addItem(DEVICE_LABELS.get(device, device), device)
        self.device.setToolTip("Where learned models run (classical fills always use the CPU)")
        self.device.currentIndexChanged.connect(lambda _i: self.device_changed.emit(self.device.currentData()))

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("modelSummary")
        # the layout does not ask a word-wrapped label for its height: reserve the four lines it can take
        # (summary, recommendation, greyed-out note), or the dock squeezes it over the model list
        self.summary.setMinimumHeight(4 * self.summary.fontMetrics().lineSpacing() + 4)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        buttons = QHBoxLayout()
        for name in ("fill", "compare"):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setObjectName(f"{name}Button")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        if "manage_models" in actions:  # weights: check, import, download, remove
            manage = QToolButton()
            manage.setDefaultAction(actions["manage_models"])
            manage.setObjectName("manageModelsButton")
            buttons.addWidget(manage)
        form = QFormLayout()
        form.addRow("Device", self.device)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.infos: list[ModelInfo] = []

    # -- contents --------------------------------------------------------------------------------------
    def reload(self, selected: str | None = None) -> None:
        selected = selected or self.current_model()
        self.infos = available_models()
        self.tree.blockSignals(True)
        self.tree.clear()
        for info in self.infos:
            item = QTreeWidgetItem([info.shown_label, "", ""])
            item.setData(0, NAME_ROLE, info.name)
            item.setIcon(0, icon("ready", ACCENT) if info.ready else icon("missing", DISABLED))
            for column, capable in ((1, info.sketch), (2, info.outpaint)):
                if capable:
                    item.setIcon(column, icon("capable"))
            for column in range(3):
                item.setToolTip(column, info.tooltip())
            if not info.ready:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled & ~Qt.ItemFlag.ItemIsSelectable)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        rows = max(3, len(self.infos))
        row_height = self.tree.sizeHintForRow(0) if self.infos else 24
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + rows * row_height + 6)
        self.select(selected)

    def select(self, name: str | None) -> None:
        """Select ``name``; with no name (a first start), the model recommended for filling holes."""
        if not name:
            name = next((i.name for i in self.infos if any(job == "filling holes" for job, _ in i.recommended)), None)
        ready = [i for i in range(self.tree.topLevelItemCount()) if self._info(i).ready]
        index = next((i for i in ready if self._info(i).name == name), ready[0] if ready else None)
        if index is not None:
            self.tree.setCurrentItem(self.tree.topLevelItem(index))

    def _info(self, index: int) -> ModelInfo:
        return self.infos[index]

    def current_model(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, NAME_ROLE)

    def info(self, name: str) -> ModelInfo | None:
        return next((i for i in self.infos if i.name == name), None)

    def set_device(self, device: str) -> None:
        index = self.device.findData(device)
        self.device.setCurrentIndex(max(0, index))

    def _recommendation(self, current: ModelInfo | None) -> str:
        """A short line naming the recommended model when another is chosen; the reason (its recorded
        validation scores) is the summary's tooltip, so the panel does not grow taller."""
        for info in self.infos:
            for job, reason in info.recommended:
                if job == "filling holes" and (current is None or info.name != current.name):
                    self.summary.setToolTip(f"Recommended for {job}: {info.label}, {reason}")
                    return f"<br>\u2605 Recommended for {job}: <b>{info.label}</b>"
        self.summary.setToolTip("")
        return ""

    def _on_current(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is not None:
            info = self.info(current.data(0, NAME_ROLE))
            missing = sum(not i.ready for i in self.infos)
            note = f"<br><i>{missing} greyed out: cannot run here (hover for why).</i>" if missing else ""
            self.summary.setText(f"{info.summary if info else ''}{self._recommendation(info)}{note}")
            self.model_changed.emit(current.data(0, NAME_ROLE))
