"""Exceptions whose message is written for the person using the app.

Everything a user can cause (a bad file, a missing model, a wrong mask) raises a subclass of
:class:`InpaintStudioError`; the command line prints its message on one line and the app shows it in a
dialog. Anything else reaching the top is a bug and is reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DOWNLOAD, IMPORT, TRAIN = "download", "import", "train"


@dataclass(frozen=True)
class Remedy:
    """What the user can do about a problem, named but not worded: get weights for ``model`` by downloading
    them, importing a checkpoint, or training. The command line words it as a command, the app as a menu
    or a button; the engine's message says only what is wrong."""

    kind: str  # DOWNLOAD, IMPORT or TRAIN
    model: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "model": self.model}


def with_remedy(message: str, remedy: Remedy | None, words: Callable[[Remedy], str]) -> str:
    """``message`` followed by the remedy as ``words`` puts it: a missing download is advice of its own, an
    import or training an alternative to a classical fill ("...; use a classical fill, or import ...")."""
    if remedy is None:
        return message
    return f"{message}{'; ' if remedy.kind == DOWNLOAD else ', or '}{words(remedy)}"


class InpaintStudioError(Exception):
    """An error with a message meant for the user, and what to do about it when there is a remedy."""

    def __init__(self, *args: object, remedy: Remedy | None = None) -> None:
        super().__init__(*args)
        self.remedy = remedy


class ImageLoadError(InpaintStudioError):
    """An image (photo, mask or sketch) could not be read."""


class ImageSaveError(InpaintStudioError):
    """An image could not be written; nothing was left behind at the destination."""


class InputError(InpaintStudioError):
    """The inputs do not fit together (mask size, extent, option values)."""


class UnknownModelError(InpaintStudioError):
    """No model is registered under the given name."""


class ModelUnavailableError(InpaintStudioError):
    """The model exists but cannot run here (weights missing or damaged, library not installed)."""


class WeightsError(ModelUnavailableError):
    """A weights file is missing, truncated, tampered with or does not fit the network."""


class CapabilityError(InpaintStudioError):
    """The model cannot do what was asked (for example extending borders)."""


class DownloadError(InpaintStudioError):
    """A model download failed (server error, lost connection, wrong size or sha256); nothing was installed."""


class FillCancelled(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised inside a job when its cancellation was requested; never shown as an error."""


class DownloadCancelled(FillCancelled):
    """A download was cancelled; its partial ``.part`` file is kept so that the next attempt resumes."""


class TrainingDivergedError(InpaintStudioError):
    """A training run's loss became NaN or infinite; its last good checkpoint was kept."""


class Terminated(KeyboardInterrupt):
    """SIGTERM reached a command-line command. Raised in the main thread like Ctrl-C, so that a file being
    written is removed and the command can say where it stopped; the exit status is 128 + 15."""

    exit_status = 143
