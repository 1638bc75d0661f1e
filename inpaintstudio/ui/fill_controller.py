"""Fill: check the request, run it on the worker, show progress, apply the result on the GUI thread.

A fill is a frozen snapshot of the document, so painting, zooming and panning go on while it runs;
pressing Fill again replaces a stale request (the job key is "fill"). The result lands as one
undoable step; a failure leaves the document exactly as it was and says why.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from inpaintstudio.document.document import Document
from inpaintstudio.engine import registry
from inpaintstudio.engine.request import FillResult
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.current_document import CurrentDocument
from inpaintstudio.ui.model_panel import ModelPanel
from inpaintstudio.ui.settings import AppSettings
from inpaintstudio.ui.status_bar import StatusBar
from inpaintstudio.ui.worker_bridge import FillBridge, JobHandle

FILL_KEY = "fill"


class FillController(QObject):
    busy_changed = Signal(bool)
    applied = Signal(object)  # the FillResult that became a history step

    def __init__(
        self,
        current: CurrentDocument,
        bridge: FillBridge,
        model_panel: ModelPanel,
        settings: AppSettings,
        status: StatusBar,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.current = current
        self.bridge = bridge
        self.model_panel = model_panel
        self.settings = settings
        self.status = status
        self.parent_widget = parent  # for the dialogs
        self.job: JobHandle | None = None
        self._doc: Document | None = None
        self._label = ""
        self._model = ""

    @property
    def busy(self) -> bool:
        return self.job is not None

    # -- starting ------------------------------------------------------------------------------------
    def fill(self, model: str | None = None) -> int | None:
        """Start a fill with ``model`` (default: the one chosen in the panel); returns the job id."""
        window, doc, panel = self.parent_widget, self.current.doc, self.model_panel
        if doc is None:
            return None
        model = model or panel.current_model()
        info = panel.info(model) if model else None
        if info is None or not info.ready:
            reason = info.message if info else "no model is selected"
            messages.error(window, "Model not available", f"{info.label if info else model} cannot run: {reason}")
            return None
        extends = doc.extent != doc.rect
        if extends and not info.outpaint:
            model = self._pick_outpaint_model(info.label)
            if model is None:
                return None
            info = panel.info(model)
            assert info is not None
        if not extends and not doc.hole().any():
            messages.info(
                window,
                "Nothing to fill",
                "Paint over what should be removed with the mask brush (B), or extend the borders (X), then Fill.",
            )
            return None
        try:
            request = doc.fill_request(model, device=self.settings.device)
        except (InpaintStudioError, ValueError) as exc:
            messages.error(window, "Cannot fill", str(exc))
            return None
        job = self.job = self.bridge.fill(request, key=FILL_KEY)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self._doc, self._label, self._model = doc, info.label, info.name
        # A learned model's first fill spends seconds loading the network (and torch) before any progress;
        # once it is loaded, saying so would only flash for a few milliseconds.
        # (resolving "auto" to a device would import torch on the GUI thread, so the device is not compared)
        loading = info.learned and not self.bridge.cache.holds(info.name)
        first_step = "loading the model" if loading else "starting"
        self.status.set_busy(True, f"Filling with {info.label}: {first_step}...")
        self.busy_changed.emit(True)
        return job.job_id

    def _pick_outpaint_model(self, label: str) -> str | None:
        can_extend = registry.list_models(outpaint=True, ready=True)
        capable = [m for m in self.model_panel.infos if m.name in can_extend]
        if not capable:
            messages.error(self.parent_widget, "Cannot extend borders", "No installed model can extend borders.")
            return None
        choice = messages.choose(
            self.parent_widget,
            "Extend borders",
            f"{label} cannot extend borders. Fill the new area with a model that can?",
            {m.name: f"Use {m.label}" for m in capable},
        )
        if choice is not None:
            self.model_panel.select(choice)
        return choice

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # -- results (GUI thread; only the running job's handle is heard) -------------------------------
    def _current(self) -> bool:
        """Whether the signal comes from the fill in progress (a replaced one's outcome is not ours)."""
        return self.job is not None and self.sender() is self.job

    def _finish(self) -> Document | None:
        doc, self.job, self._doc = self._doc, None, None
        self.status.set_busy(False)
        self.busy_changed.emit(False)
        return doc if doc is self.current.doc else None  # a result for a closed document is dropped

    def _on_progress(self, fraction: float, message: str) -> None:
        # Nothing is counted before the model runs: the text set at the start says what happens until then.
        if self._current() and fraction > 0:
            # The engine names the model ("patchmatch: searching patches"); the label says it already.
            step = message.removeprefix(f"{self._model}: ")
            self.status.set_progress(fraction, f"{self._label}: {step}" if step else "")

    def _on_finished(self, result: FillResult) -> None:
        if not self._current():
            return
        label = self._label
        doc = self._finish()
        if doc is None:
            return
        try:
            changed = doc.apply_fill(result)
        except InpaintStudioError as exc:
            messages.error(self.parent_widget, "Fill not applied", str(exc))
            return
        notes = "; ".join(result.notices)
        text = f"Filled with {label} in {result.seconds:.2f} s" if changed else "The fill changed nothing"
        self.status.showMessage(f"{text}. {notes}" if notes else text, 6000)
        if changed:
            self.applied.emit(result)

    def _on_failed(self, message: str) -> None:
        if not self._current():
            return
        self._finish()
        messages.error(self.parent_widget, "Fill failed", f"The fill with {self._label} failed: {message}")

    def _on_cancelled(self) -> None:
        if not self._current():
            return
        self._finish()
        self.status.showMessage("Fill cancelled; the photo is unchanged", 6000)
