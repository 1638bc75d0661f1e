"""The desktop app (PySide6). It observes the document and drives the engine through a Qt bridge."""
