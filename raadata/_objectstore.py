"""Export destinations by URL: object stores through fsspec (``s3://``, ``gs://``, ``az://``).

:func:`open_store` picks :class:`~raadata._store.LocalStore` for plain paths and
``file://``, else :class:`FsspecStore`. An object store has no rename and no append, so:

- a file is uploaded whole when committed (s3fs completes a multipart upload only on
  close; an aborted or killed upload never becomes a visible object);
- the sidecar and the unit markers are single small PUTs, each atomic;
- the lock is an object created with a conditional put (``If-None-Match: *``) that holds
  the writer's pid, host, start time and an expiry, refreshed by a heartbeat; a lock past
  its expiry, or left by a process of this machine that is gone, is taken over. Where the
  store has no conditional put, the lock is checked then written (best effort).

Store credentials (``storage_options`` such as ``key``/``secret``/``token``, or the
store's own environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``,
``AWS_ENDPOINT_URL`` ...) are registered for redaction and never written anywhere. Errors
of the store are :class:`~raadata.StorageError` naming the URL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import IO, Any

from raadata._errors import ExportConflictError, StorageError
from raadata._redaction import remember_secret
from raadata._store import LOCK, LocalStore, Store

__all__ = ["FsspecStore", "open_store"]

LOCK_TTL = 600.0
"""Seconds a lock object stays valid without a heartbeat (a killed writer's expires)."""

_SECRET_OPTIONS = ("key", "secret", "token", "password", "sas_token", "account_key",
                   "client_secret", "aws_secret_access_key", "aws_session_token")
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY",
               "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET")


def open_store(
    destination: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None
) -> Store:
    """The store for ``destination``: a local folder, or an object store URL."""
    text = os.fspath(destination)
    if "://" not in text or text.startswith("file://"):
        if storage_options:
            raise ValueError("storage_options apply to object store URLs (s3://, gs://, ...)")
        return LocalStore(text.removeprefix("file://"))
    return FsspecStore(text, storage_options or {})


def _secret_values(options: Mapping[str, Any]) -> Iterator[str]:
    for name, value in options.items():
        if isinstance(value, Mapping):
            yield from _secret_values(value)
        elif isinstance(value, str) and name.lower() in _SECRET_OPTIONS:
            yield value
    for name in _SECRET_ENV:
        if os.environ.get(name):
            yield os.environ[name]


class FsspecStore:
    """A prefix of an object store (or any fsspec file system)."""

    def __init__(self, url: str, storage_options: Mapping[str, Any]) -> None:
        for value in _secret_values(storage_options):
            remember_secret(value)
        try:
            import fsspec  # type: ignore[import-untyped]

            self.fs, root = fsspec.core.url_to_fs(url, **storage_options)
        except ImportError as exc:
            scheme = url.split("://", 1)[0]
            extra = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
                     "abfss": "azure"}.get(scheme, "cloud")
            raise StorageError(f"{url}: writing to {scheme}:// needs `pip install "
                               f"\"raadata[{extra}]\"` ({exc})") from None
        except (ValueError, OSError) as exc:
            raise StorageError(f"{url}: {exc}") from None
        self.root = root.rstrip("/")
        self.url = url.rstrip("/")

    def _path(self, path: str) -> str:
        return f"{self.root}/{path}"

    @contextmanager
    def _errors(self, action: str, path: str = "") -> Iterator[None]:
        try:
            yield
        except (StorageError, ExportConflictError):
            raise
        except Exception as exc:  # botocore, aiohttp, fsspec: one error for the user
            where = f"{self.url}/{path}" if path else self.url
            raise StorageError(f"cannot {action} {where}: {type(exc).__name__}: {exc}") from None

    def exists(self) -> bool:
        with self._errors("reach"):
            return bool(self.fs.exists(self.root))

    def list(self) -> list[str]:
        with self._errors("list"):
            try:
                found = self.fs.find(self.root)
            except FileNotFoundError:
                return []
        prefix = self.root + "/"
        return sorted(path[len(prefix):] for path in found if path.startswith(prefix))

    def read_bytes(self, path: str) -> bytes | None:
        with self._errors("read", path):
            try:
                return bytes(self.fs.cat_file(self._path(path)))
            except FileNotFoundError:
                return None

    def size(self, path: str) -> int | None:
        with self._errors("read", path):
            try:
                return int(self.fs.size(self._path(path)))
            except FileNotFoundError:
                return None

    def write_bytes(self, path: str, data: bytes) -> None:
        with self._errors("write", path):
            self.fs.pipe_file(self._path(path), data)

    def create(self, path: str) -> _UploadOnCommit:
        return _UploadOnCommit(self, path)

    def open(self, path: str) -> IO[bytes]:
        with self._errors("read", path):
            return self.fs.open(self._path(path), "rb")  # type: ignore[no-any-return]

    def delete(self, path: str) -> None:
        with self._errors("delete", path), suppress(FileNotFoundError):
            self.fs.rm_file(self._path(path))

    def prune_dirs(self, paths: Iterable[str]) -> None:
        """Object stores have no folders to prune."""

    def clear_temporary(self) -> int:
        """Nothing half-written is ever visible in an object store."""
        return 0

    @contextmanager
    def lock(self) -> Iterator[None]:
        holder = (f"pid {os.getpid()} on {socket.gethostname()}, started "
                  f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        self._take_lock(holder)
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(LOCK_TTL / 4):
                with suppress(StorageError):  # the next beat tries again
                    self.write_bytes(LOCK, _lock_body(holder))

        beat = threading.Thread(target=heartbeat, name="raadata-lock", daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            self.delete(LOCK)

    def _take_lock(self, holder: str) -> None:
        for _ in range(2):
            if self._put_if_absent(LOCK, _lock_body(holder)):
                return
            current = self.read_bytes(LOCK)
            try:
                data = json.loads(current or b"{}")
                expires, who = float(data["expires"]), str(data["holder"])
                gone = data.get("host") == socket.gethostname() and not _alive(data.get("pid"))
            except (ValueError, KeyError, TypeError):
                expires, who, gone = 0.0, "an unknown writer", True
            if expires > time.time() and not gone:
                raise ExportConflictError(
                    f"{self.url} is being written by {who}: wait for it to finish (or stop "
                    f"it), then run again to resume. A killed writer's lock expires "
                    f"{LOCK_TTL / 60:.0f} minutes after its last heartbeat")
            self.delete(LOCK)  # a stale lock: its writer is gone
        raise ExportConflictError(f"{self.url}: another writer took the lock just now")

    def _put_if_absent(self, path: str, data: bytes) -> bool:
        """Create ``path`` only if there is none (conditional put where the store has it)."""
        with self._errors("lock", path):
            if hasattr(self.fs, "call_s3"):
                bucket, key, _ = self.fs.split_path(self._path(path))
                try:
                    self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data,
                                    IfNoneMatch="*")
                except FileExistsError:
                    return False
                return True
            if self.fs.exists(self._path(path)):
                return False
            self.fs.pipe_file(self._path(path), data)
            return True


def _lock_body(holder: str) -> bytes:
    return json.dumps({"holder": holder, "expires": time.time() + LOCK_TTL,
                       "pid": os.getpid(), "host": socket.gethostname()}).encode()


def _alive(pid: object) -> bool:
    """Whether process ``pid`` runs on this machine (a writer on another one is trusted
    until its lock expires)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class _UploadOnCommit:
    """A file spooled locally and uploaded whole on commit (a multipart upload completes
    only on close, so nothing partial is ever visible)."""

    def __init__(self, store: FsspecStore, path: str) -> None:
        self.store, self.path = store, path
        self.spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115

    def write(self, data: bytes) -> int:
        return self.spool.write(data)

    def commit(self) -> None:
        self.spool.seek(0)
        with self.store._errors("write", self.path):
            upload = self.store.fs.open(self.store._path(self.path), "wb")
            try:
                shutil.copyfileobj(self.spool, upload, 8 << 20)
            except BaseException:
                discard = getattr(upload, "discard", None)
                if discard is not None:
                    discard()  # abort the multipart upload: nothing becomes visible
                raise
            upload.close()
        self.spool.close()

    def abort(self) -> None:
        self.spool.close()
