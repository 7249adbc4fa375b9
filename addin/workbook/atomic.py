"""Atomic file writes: the target is either the old file or the complete new one, never half of each.

Every file the product writes goes through :func:`atomic_write`, which also keeps what the user had:

* a symlink is written through to its target (atomically, in the target's folder), never replaced;
* an existing file keeps its permissions, and its owner and group where the OS permits;
* a folder, device, FIFO or socket is refused, never replaced (``cdm recalc -o /dev/null``);
* an output that is one of the inputs (the same file, a hard link to it) is refused (:func:`refuse_input_as_output`);
* a failure (read-only folder, full disk, file too large) is a :class:`WriteError` naming the target, never the
  temp file, with nothing changed;
* ``guard`` runs just before the rename, so a check (Excel opened the file meanwhile) can still stop it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.errors import CdmError


class WriteError(CdmError):
    """An output cannot be written where asked; the message names the target and says nothing was written."""


_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the folder is on a read-only disk",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is too large for this disk",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "the name is too long",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc) or type(exc).__name__


def resolve_output(target: Path) -> Path:
    """Where a write to ``target`` lands: symlinks followed; WriteError when it exists but is not a regular file."""
    target = Path(target)
    real = Path(os.path.realpath(target)) if target.is_symlink() else target
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise WriteError(f"{target}: cannot be written ({_reason(exc)}); nothing was written") from None
    if stat.S_ISDIR(mode):
        raise WriteError(f"{target} is a folder: give a file name for the output; nothing was written")
    if not stat.S_ISREG(mode):
        raise WriteError(f"{target} is not a regular file (a device, pipe or socket): give a file name; nothing was written")
    return real


def refuse_input_as_output(output: Path, *inputs: Path) -> None:
    """WriteError when ``output`` is one of ``inputs`` (same path, a symlink to it or a hard link: the same inode)."""
    try:
        out = os.stat(output)
    except OSError:
        return  # a new file cannot be an input
    for source in inputs:
        with contextlib.suppress(OSError):
            src = os.stat(source)
            if (src.st_dev, src.st_ino) == (out.st_dev, out.st_ino):
                raise WriteError(f"{output} is the input file {source} (the same file on disk): choose another output name; "
                                 "nothing was written")  # fmt: skip


def _mode_for(target: Path) -> int:
    """The existing file's permissions, or what a new file gets under the current umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _keep_owner(tmp: Path, target: Path) -> None:
    """Give the new file the old one's owner and group where the OS lets us (root may; others keep their own)."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            os.chown(tmp, st.st_uid, st.st_gid)


@contextlib.contextmanager
def atomic_write(target: Path, guard: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a temp path beside the (resolved) target; on success fsync it and rename it over the target.

    On any error (or Ctrl-C) the temp file is removed and the target is untouched; OS errors become a
    WriteError naming ``target``.
    """
    shown = Path(target)
    real = resolve_output(shown)
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise WriteError(f"{shown}: cannot be written in {real.parent} ({_reason(exc)}); nothing was written") from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            yield tmp  # the block only writes the temp file: its OS errors are the output's
        except OSError as exc:
            raise WriteError(f"{shown}: cannot be written ({_reason(exc)}); nothing was written") from None
        try:
            os.chmod(tmp, _mode_for(real))
            _keep_owner(tmp, real)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if guard is not None:
                guard()  # the last moment a check can stop the replace
            os.replace(tmp, real)
        except OSError as exc:
            raise WriteError(f"{shown}: cannot be written ({_reason(exc)}); nothing was written") from None
        with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
            dir_fd = os.open(real.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
