"""Fill: check the request, run it on the worker, show progress, apply the result on the GUI thread.

A fill is a frozen snapshot of the document, so painting, zooming and panning go on while it runs;
pressing Fill again replaces a stale request (the job key is "fill"). The result lands as one
undoable step; a failure leaves the document exactly as it was and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from inpaintstudio.document.document import Document
from inpaintstudio.engine.request import FillResult
from inpaintstudio.errors import InpaintStudioError
from inpaintstudio.ui import messages
from inpaintstudio.ui.worker_bridge import FillBridge

if TYPE_CHECKING:
    from inpaintstudio.ui.main_window import MainWindow

FILL_KEY = "fill"


class FillController(QObject):
    busy_changed = Signal(bool)
    applied = Signal(object)  # the FillResult that became a history step

    def __init__(self, window: MainWindow, bridge: FillBridge) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = bridge
        self.job: int | None = None
        self._doc: Document | None = None
        self._label = ""
        self._model = ""
        bridge.progress.connect(self._on_progress)
        bridge.finished.connect(self._on_finished)
        bridge.failed.connect(self._on_failed)
        bridge.cancelled.connect(self._on_cancelled)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # -- starting ------------------------------------------------------------------------------------
    def fill(self, model: str | None = None) -> int | None:
        """Start a fill with ``model`` (default: the one chosen in the panel); returns the job id."""
        window, doc = self.window, self.window.doc
        if doc is None:
            return None
        model = model or window.model_panel.current_model()
        info = window.model_panel.info(model) if model else None
        if info is None or not info.ready:
            reason = info.message if info else "no model is selected"
            messages.error(window, "Model not available", f"{info.label if info else model} cannot run: {reason}")
            return None
        extends = doc.extent != doc.rect
        if extends and not info.outpaint:
            model = self._pick_outpaint_model(info.label)
            if model is None:
                return None
            info = window.model_panel.info(model)
            assert info is not None
        if not extends and not doc.hole().any():
            messages.info(
                window,
                "Nothing to fill",
                "Paint over what should be removed with the mask brush (B), or extend the borders (X), then Fill.",
            )
            return None
        try:
            request = doc.fill_request(model, device=window.settings.device)
        except (InpaintStudioError, ValueError) as exc:
            messages.error(window, "Cannot fill", str(exc))
            return None
        self.job = self.bridge.submit(request, key=FILL_KEY)
        self._doc, self._label, self._model = doc, info.label, info.name
        # A learned model's first fill spends seconds loading the network (and torch) before any progress;
        # once it is loaded, saying so would only flash for a few milliseconds.
        # (resolving "auto" to a device would import torch on the GUI thread, so the device is not compared)
        loading = info.learned and not self.bridge.cache.holds(info.name)
        first_step = "loading the model" if loading else "starting"
        window.status.set_busy(True, f"Filling with {info.label}: {first_step}...")
        self.busy_changed.emit(True)
        return self.job

    def _pick_outpaint_model(self, label: str) -> str | None:
        capable = [m for m in self.window.model_panel.infos if m.outpaint and m.ready]
        if not capable:
            messages.error(self.window, "Cannot extend borders", "No installed model can extend borders.")
            return None
        choice = messages.choose(
            self.window,
            "Extend borders",
            f"{label} cannot extend borders. Fill the new area with a model that can?",
            {m.name: f"Use {m.label}" for m in capable},
        )
        if choice is not None:
            self.window.model_panel.select(choice)
        return choice

    def cancel(self) -> None:
        if self.job is not None:
            self.bridge.cancel(self.job)

    # -- results (GUI thread) ------------------------------------------------------------------------
    def _finish(self) -> Document | None:
        doc, self.job, self._doc = self._doc, None, None
        self.window.status.set_busy(False)
        self.busy_changed.emit(False)
        return doc if doc is self.window.doc else None  # a result for a closed document is dropped

    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        # Nothing is counted before the model runs: the text set at the start says what happens until then.
        if job_id == self.job and fraction > 0:
            # The engine names the model ("patchmatch: searching patches"); the label says it already.
            step = message.removeprefix(f"{self._model}: ")
            self.window.status.set_progress(fraction, f"{self._label}: {step}" if step else "")

    def _on_finished(self, job_id: int, result: FillResult) -> None:
        if job_id != self.job:
            return
        label = self._label
        doc = self._finish()
        if doc is None:
            return
        try:
            changed = doc.apply_fill(result)
        except InpaintStudioError as exc:
            messages.error(self.window, "Fill not applied", str(exc))
            return
        notes = "; ".join(result.notices)
        text = f"Filled with {label} in {result.seconds:.2f} s" if changed else "The fill changed nothing"
        self.window.show_message(f"{text}. {notes}" if notes else text)
        if changed:
            self.applied.emit(result)

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id != self.job:
            return
        self._finish()
        messages.error(self.window, "Fill failed", f"The fill with {self._label} failed: {message}")

    def _on_cancelled(self, job_id: int) -> None:
        if job_id != self.job:
            return
        self._finish()
        self.window.show_message("Fill cancelled; the photo is unchanged")
