"""A throw-away PostgreSQL server for the SQL-source tests (``postgres`` marker).

The session-scoped :func:`postgres_url` fixture

1. finds the PostgreSQL server binaries (``initdb``, ``pg_ctl``; Debian puts
   them in ``/usr/lib/postgresql/<version>/bin``, other systems on ``PATH``);
   where they are missing and we run as root with ``apt-get``, it installs
   Debian's ``postgresql`` package (``apt-get update`` only if a first install
   attempt fails); otherwise the tests skip, saying why;
2. creates a cluster in a fresh directory under the system temp dir with
   ``initdb`` -- as the ``postgres`` user when running as root, since the
   server refuses to run as root -- with a random superuser password
   (scram-sha-256 over TCP), starts it with ``pg_ctl`` on ``127.0.0.1`` and a
   free port (Unix socket in that directory, ``fsync=off``), creates a
   database ``crm_test``, and yields its URL (with the password: the tests
   check that the password never shows up in messages);
3. stops the server and removes the directory at the end, also when a test
   or the set-up fails.

Every external command has a timeout. The server is started once per pytest
process (with ``-n 2 --dist loadfile``, once per worker that runs a test file
using it); an install is serialised across workers by a file lock.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Seconds allowed for initdb, server start/stop, createdb.
PG_TIMEOUT = 60
DB_NAME = "crm_test"
SUPERUSER = "postgres"


def _find_bin_dir() -> Path | None:
    """Directory holding ``initdb`` and ``pg_ctl`` (newest Debian version first)."""
    def version(p: str) -> float:
        try:
            return float(Path(p).parts[-3])
        except ValueError:
            return 0.0

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True):
        d = Path(initdb).parent
        if (d / "pg_ctl").is_file():
            return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # cwd: the server user may not be allowed into the project directory
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False,
                          cwd=tempfile.gettempdir())


def _apt_install() -> str | None:
    """Install Debian's postgresql; return None on success, else the reason."""
    from system_packages import ensure_package

    reason = ensure_package("postgresql", lambda: _find_bin_dir() is not None)
    if reason is None and _find_bin_dir() is None:
        return "postgresql installed but initdb/pg_ctl not found"
    return reason


def _postgres_binaries() -> Path:
    """The bin directory, installing PostgreSQL if possible; skips otherwise."""
    found = _find_bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found and not root, so cannot "
                    "apt-get install postgresql; install it to run the 'postgres' tests")
    if shutil.which("apt-get") is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found and apt-get is not available")
    reason = _apt_install()
    if reason is not None:
        pytest.skip(f"could not install PostgreSQL: {reason}")
    return _find_bin_dir()  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    """Run ``cmd`` as ``user`` (root only); as ourselves when ``user`` is None."""
    if user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *cmd]
    import shlex

    return ["su", user, "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _server_user() -> str | None:
    """User to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root but there is no 'postgres' user to run the server as")
    return "postgres"


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a temporary PostgreSQL server; yield the SQLAlchemy URL of a fresh database.

    The URL carries a random password. On exit (normal or not) the server is
    stopped and its directory removed.
    """
    bindir = _postgres_binaries()
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="crm_pg_"))
    data, log = base / "data", base / "server.log"
    password = "pw-" + secrets.token_hex(8)
    started = False
    try:
        (base / "pwfile").write_text(password + "\n")
        if user is not None:
            info = pwd.getpwnam(user)
            for p in (base, base / "pwfile"):
                os.chown(p, info.pw_uid, info.pw_gid)
        os.chmod(base, 0o700)

        def check(res: subprocess.CompletedProcess, what: str) -> None:
            if res.returncode != 0:
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"{what} failed ({res.returncode}): {res.stderr.strip()}\n{tail}")

        res = _run(_as_user([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                             "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                             f"--pwfile={base / 'pwfile'}", "--no-sync"], user), timeout=PG_TIMEOUT)
        check(res, "initdb")
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            port = _free_port()
            opts = f"-k {base} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            res = _run(_as_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                                 "-w", "-t", str(PG_TIMEOUT), "start"], user), timeout=PG_TIMEOUT + 10)
            started = res.returncode == 0
            if started or attempt == 2:
                break
        check(res, "pg_ctl start")
        createdb = bindir / "createdb" if (bindir / "createdb").exists() else Path(shutil.which("createdb") or "createdb")
        res = _run(_as_user([str(createdb), "-h", str(base), "-p", str(port), "-U", SUPERUSER, DB_NAME], user),
                   timeout=PG_TIMEOUT)
        check(res, "createdb")
        yield f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if started:
            stop = [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", str(PG_TIMEOUT // 2)]
            try:
                res = _run(_as_user([*stop, "-m", "fast", "stop"], user), timeout=PG_TIMEOUT)
                if res.returncode != 0:
                    _run(_as_user([*stop, "-m", "immediate", "stop"], user), timeout=PG_TIMEOUT)
            except subprocess.TimeoutExpired:
                _run(_as_user([*stop, "-m", "immediate", "stop"], user), timeout=PG_TIMEOUT)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (with password) of a database on a temporary PostgreSQL server."""
    t0 = time.perf_counter()
    with postgres_server() as url:
        print(f"\n[postgres fixture] server up in {time.perf_counter() - t0:.1f} s")
        yield url
