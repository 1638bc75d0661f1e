"""Questions about operating-system processes, asked without psutil and without signalling anyone.

- :func:`process_alive`: whether a pid exists (a zombie counts as gone);
- :func:`process_start`: an identifier of when it started, so that a reused pid can be told from the
  process that had it before (Linux: the start tick in ``/proc/<pid>/stat`` with the boot id; Windows:
  ``GetProcessTimes``; elsewhere: ``ps -o lstart=``); None when it cannot be read here.

The crash-recovery store (:mod:`inpaintstudio.document.io.recovery`) uses them to tell a snapshot whose
app is still open from one that a crashed or killed app left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _linux_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()  # fields from the state (field 3) on; the name may hold spaces


def _windows_handle(pid: int):  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    return kernel32, handle


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (zombies count as gone). Never signals it."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would terminate it on Windows
        import ctypes

        kernel32, handle = _windows_handle(pid)
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    fields = _linux_stat(pid) if sys.platform.startswith("linux") else None
    return not (fields and fields[0] in ("Z", "X"))


def process_start(pid: int) -> str | None:
    """An identifier of when process ``pid`` started, or None when it cannot be read here."""
    if sys.platform.startswith("linux"):
        fields = _linux_stat(pid)
        if not fields or len(fields) < 20:
            return None
        try:
            boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except OSError:
            boot = ""
        return f"linux:{boot}:{fields[19]}"  # field 22, starttime in clock ticks after boot
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        kernel32, handle = _windows_handle(pid)
        if not handle:
            return None
        try:
            times = [ctypes.c_ulonglong() for _ in range(4)]
            if not kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times)):
                return None
            return f"win:{times[0].value}"
        finally:
            kernel32.CloseHandle(handle)
    try:  # macOS and other POSIX systems
        out = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return f"ps:{text}" if out.returncode == 0 and text else None
