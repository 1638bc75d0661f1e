"""Which document the window shows: one holder the controllers share instead of the window itself."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from inpaintstudio.document.document import Document


class CurrentDocument(QObject):
    """The open document (None when there is none). :meth:`set` replaces it and emits ``replaced``, which
    the window answers by showing the new one everywhere; controllers read :attr:`doc` when they act."""

    replaced = Signal(object)  # the new Document, or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc: Document | None = None

    @property
    def doc(self) -> Document | None:
        return self._doc

    def set(self, doc: Document | None) -> None:
        self._doc = doc
        self.replaced.emit(doc)
