"""Where an export's files live: a local directory today, behind a small storage protocol.

Everything the export writes goes through a :class:`Store`, so that the commit protocol in
:mod:`raadata._dataset` needs no rename and no append: a file appears whole under its final
name or not at all (:meth:`Store.create`), small JSON objects are replaced whole
(:meth:`Store.write_bytes`), and one writer at a time holds :meth:`Store.lock`.

:class:`LocalStore` writes under a temporary name (``*.raadata-tmp``), fsyncs the file,
renames it and fsyncs the directory, so a power cut cannot lose a file that a later
marker calls done. Paths are ``/``-separated and relative to the store's root.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Protocol

import filelock

from raadata._errors import ExportConflictError, StorageError

__all__ = ["LOCK", "TMP_SUFFIX", "WRITER", "LocalStore", "PendingFile", "Store", "WriterInfo"]

TMP_SUFFIX = ".raadata-tmp"
LOCK = ".raadata.lock"
WRITER = ".raadata.writer"


class WriterInfo:
    """Who holds the lock: process id, host and start time, as one line of text."""

    @staticmethod
    def current() -> str:
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return f"pid {os.getpid()} on {socket.gethostname()}, started {started}"


class PendingFile(Protocol):
    """A file being written: invisible under its final name until committed."""

    def write(self, data: bytes) -> int: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class Store(Protocol):
    """The operations an export needs from its destination."""

    url: str

    def exists(self) -> bool:
        """True if the root exists."""
        ...

    def list(self) -> list[str]:
        """Every file under the root (recursive), as relative paths."""
        ...

    def read_bytes(self, path: str) -> bytes | None:
        """The file's content, or ``None`` if there is none."""
        ...

    def size(self, path: str) -> int | None:
        """The file's size in bytes, or ``None`` if there is none."""
        ...

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace ``path`` with ``data``, whole and durable."""
        ...

    def create(self, path: str) -> PendingFile:
        """A file being written to ``path``: it appears there whole and durable on
        :meth:`PendingFile.commit`, and not at all before or after :meth:`PendingFile.abort`."""
        ...

    def open(self, path: str) -> IO[bytes]:
        """The file, open for binary reading (seekable)."""
        ...

    def delete(self, path: str) -> None:
        """Remove a file; no error if it is gone."""
        ...

    def prune_dirs(self, paths: Iterable[str]) -> None:
        """Remove the folders of deleted ``paths`` that are now empty (object stores have
        none), up to the root."""
        ...

    def clear_temporary(self) -> int:
        """Remove what a crash left half-written; how many."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """A context manager: hold the destination for one writer, or raise
        :class:`ExportConflictError` naming the holder."""
        ...


class LocalStore:
    """A directory on a local file system."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def _path(self, path: str) -> Path:
        return self.root.joinpath(*path.split("/"))

    def exists(self) -> bool:
        return self.root.exists()

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix()
                      for p in self.root.rglob("*") if p.is_file() or p.is_symlink())

    def read_bytes(self, path: str) -> bytes | None:
        try:
            return self._path(path).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _storage_error("read", self._path(path), exc) from exc

    def size(self, path: str) -> int | None:
        try:
            return self._path(path).stat().st_size
        except FileNotFoundError:
            return None

    def write_bytes(self, path: str, data: bytes) -> None:
        pending = self.create(path)
        try:
            pending.write(data)
        except BaseException:
            pending.abort()
            raise
        pending.commit()

    def create(self, path: str) -> PendingFile:
        return _LocalPendingFile(self._path(path))

    def open(self, path: str) -> IO[bytes]:
        try:
            return open(self._path(path), "rb")
        except OSError as exc:
            raise _storage_error("read", self._path(path), exc) from exc

    def delete(self, path: str) -> None:
        try:
            self._path(path).unlink(missing_ok=True)
        except OSError as exc:
            raise _storage_error("delete", self._path(path), exc) from exc

    def prune_dirs(self, paths: Iterable[str]) -> None:
        folders = {self._path(path).parent for path in paths}
        for folder in sorted(folders, key=lambda p: -len(p.parts)):
            while folder != self.root and self.root in folder.parents:
                try:
                    folder.rmdir()  # only if empty
                except OSError:
                    break
                folder = folder.parent

    def clear_temporary(self) -> int:
        leftovers = list(self.root.rglob("*" + TMP_SUFFIX)) if self.root.is_dir() else []
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        return len(leftovers)

    @contextmanager
    def lock(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error("create", self.root, exc) from exc
        if not self.root.is_dir():
            raise StorageError(f"{self.root} is not a directory")
        holder = filelock.FileLock(self.root / LOCK, timeout=0)
        try:
            holder.acquire()
        except filelock.Timeout:
            who = self.read_bytes(WRITER) or b"another process"
            raise ExportConflictError(
                f"{self.root} is being written by {who.decode(errors='replace').strip()}: "
                "wait for it to finish (or stop it), then run again to resume"
            ) from None
        try:
            self.write_bytes(WRITER, WriterInfo.current().encode() + b"\n")
            yield
        finally:
            self.delete(WRITER)
            holder.release()


class _LocalPendingFile:
    """Written under ``<name>.raadata-tmp``; fsynced, renamed and the folder fsynced on commit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(target.name + TMP_SUFFIX)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.tmp, "wb")  # noqa: SIM115  (closed by commit or abort)
        except OSError as exc:
            raise _storage_error("write", target, exc) from exc

    def write(self, data: bytes) -> int:
        try:
            return self.handle.write(data)
        except OSError as exc:
            self.abort()
            raise _storage_error("write", self.target, exc) from exc

    def commit(self) -> None:
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.abort()
            raise _storage_error("write", self.target, exc) from exc
        _fsync_dir(self.target.parent)

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # a full disk: the buffered bytes go with the file
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    return StorageError(f"cannot {action} {path}: {exc.strerror or exc}")
