"""Install Debian packages a test needs (PostgreSQL, Chromium), once, as root.

CI runs on a fresh machine: a test that needs a real component installs it
where it can rather than skipping, or the check would never run. Installs are
serialised across pytest-xdist workers with a file lock; ``apt-get update``
runs only when a first install attempt fails. Where we are not root or there
is no ``apt-get``, :func:`ensure_package` returns the reason and the caller
skips with it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

#: Seconds allowed for an ``apt-get install`` / ``apt-get update``.
APT_TIMEOUT = 900


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=APT_TIMEOUT, env=env, check=False,
                          cwd=tempfile.gettempdir())


def ensure_package(package: str, present: Callable[[], bool]) -> str | None:
    """Make sure Debian package ``package`` is installed.

    Parameters
    ----------
    package : str
        Debian package name, e.g. ``"chromium"``.
    present : callable
        Returns whether what the test needs is already there.

    Returns
    -------
    str or None
        None when present (after installing if needed), else why it is not.
    """
    if present():
        return None
    if os.geteuid() != 0:
        return f"{package} is not installed and we are not root (apt-get install {package})"
    if shutil.which("apt-get") is None:
        return f"{package} is not installed and apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    lock = Path(tempfile.gettempdir()) / f"crm_analysis_{package}_install.lock"
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another pytest worker may be installing
        try:
            if present():
                return None
            try:
                res = _run(cmd, env)
                if res.returncode != 0:
                    upd = _run(["apt-get", "update", "-q"], env)
                    if upd.returncode != 0:
                        return f"apt-get update failed: {upd.stderr.strip()[-500:]}"
                    res = _run(cmd, env)
            except subprocess.TimeoutExpired as exc:
                return f"{' '.join(exc.cmd)} did not finish within {exc.timeout:.0f} s"
            if res.returncode != 0:
                return f"apt-get install {package} failed: {res.stderr.strip()[-500:]}"
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return None if present() else f"{package} installed but still not found"
