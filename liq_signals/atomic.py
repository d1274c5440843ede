"""Replace a file so that a reader sees the old content or the new one, never a mix.

Used by every writer whose file another process may read while it is rewritten (model
parameters, metrics sidecar, import manifest and open-interest files, dry-run state).
"""

from __future__ import annotations

import contextlib
import glob
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def temp_path_for(path: Path) -> Path:
    """A unique hidden sibling of ``path`` (``.NAME.<12 hex>.tmp``).

    Same folder, so ``os.replace`` stays on one file system; unique, so two writers never
    share a temporary; normal permissions (``tempfile.mkstemp`` would make it 0600).
    Interrupted runs leave ``.*.tmp`` files that their owner may sweep
    (:func:`remove_stale_temps`).
    """
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it replaces ``path``.

    For writers that need a file name (``DataFrame.to_feather``, freqtrade's handlers).
    After the body: the temporary is fsynced, ``os.replace``\\ d over ``path`` and the
    folder fsynced, so the new name survives a crash too.  On any error (or Ctrl-C) the
    temporary is removed and ``path`` is untouched.  The parent folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # never through a link
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:
        fh.write(data)
        fh.flush()
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    """Persist a rename.  Best effort: some file systems (and Windows) refuse to open or
    fsync a directory, and the file itself is already complete and in place."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(path: str | Path) -> int:
    """Remove the temporaries :func:`temp_path_for` made for ``path`` and that a killed
    writer left behind.  Only for a caller that knows no other writer of ``path`` is
    running (e.g. it holds the file's lock): a live writer's temporary would go too.

    :return: how many were removed.
    """
    path = Path(path)
    removed = 0
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed
