"""The Store contract, the same for a local folder and an fsspec file system (fsspec's
in-memory one here; S3 through moto in test_lake.py): reads of what is not there, writes that
appear whole or not at all, the one-writer lock, and clear errors for what cannot be done."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from raadata import ExportConflictError, StorageError
from raadata._objectstore import FsspecStore, open_store
from raadata._store import LOCK, TMP_SUFFIX, WRITER, LocalStore, Store


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "local":
        yield open_store(tmp_path / "out")
        return
    url = f"memory://raadata-tests/{uuid.uuid4().hex}"
    made = open_store(url)
    assert isinstance(made, FsspecStore)
    yield made
    if made.fs.exists(made.root):
        made.fs.rm(made.root, recursive=True)


def test_what_is_not_there_reads_as_nothing(store: Store) -> None:
    assert store.list() == []
    assert store.read_bytes("a/b.json") is None
    assert store.size("a/b.json") is None
    store.delete("a/b.json")  # deleting nothing is fine
    assert store.clear_temporary() == 0


def test_writes_read_back_and_deletes_go(store: Store) -> None:
    store.write_bytes("vessel=A/date=2025-01-01/part.parquet", b"0123456789")
    store.write_bytes("_raadata/units/u.json", b"{}")
    assert store.exists()
    assert store.list() == ["_raadata/units/u.json", "vessel=A/date=2025-01-01/part.parquet"]
    assert store.read_bytes("_raadata/units/u.json") == b"{}"
    assert store.size("vessel=A/date=2025-01-01/part.parquet") == 10
    with store.open("vessel=A/date=2025-01-01/part.parquet") as handle:
        assert handle.read() == b"0123456789"
    store.delete("vessel=A/date=2025-01-01/part.parquet")
    store.prune_dirs(["vessel=A/date=2025-01-01/part.parquet"])
    assert store.list() == ["_raadata/units/u.json"]


def test_a_pending_file_appears_whole_on_commit_and_never_on_abort(store: Store) -> None:
    kept = store.create("kept.bin")
    kept.write(b"abc")
    kept.write(b"def")
    assert store.read_bytes("kept.bin") is None  # nothing visible before the commit
    kept.commit()
    assert store.read_bytes("kept.bin") == b"abcdef"
    dropped = store.create("dropped.bin")
    dropped.write(b"half")
    dropped.abort()
    assert store.list() == ["kept.bin"]


def test_one_writer_at_a_time(store: Store) -> None:
    with store.lock():
        assert any(path in store.list() for path in (LOCK, WRITER))
        with pytest.raises(ExportConflictError, match="is being written by") as caught, \
                store.lock():
            pass  # pragma: no cover - refused before
        assert str(os.getpid()) in str(caught.value)  # names the writer
    assert WRITER not in store.list()  # (a local lock file stays: flock's, empty, harmless)
    with store.lock():  # free again
        pass


def test_a_local_lock_in_a_file_or_unwritable_place_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create"), LocalStore(tmp_path / "file").lock():
        pass  # pragma: no cover
    nested = LocalStore(tmp_path / "file" / "below")
    with pytest.raises(StorageError, match="cannot write"):
        nested.write_bytes("x.json", b"{}")
    with pytest.raises(StorageError, match="cannot read"):
        nested.open("missing.parquet")


def test_local_reads_and_deletes_of_a_folder_are_storage_errors(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(StorageError, match="cannot read"):
        store.read_bytes("folder")
    with pytest.raises(StorageError, match="cannot delete"):
        store.delete("folder")


def test_local_leftovers_are_cleared_and_empty_folders_pruned(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "vessel=A" / "date=2025-01-01").mkdir(parents=True)
    (tmp_path / "vessel=A" / "date=2025-01-01" / ("part.parquet" + TMP_SUFFIX)).write_bytes(b"x")
    (tmp_path / "vessel=B").mkdir()
    (tmp_path / "vessel=B" / "mine.txt").write_text("a user's file")
    assert store.clear_temporary() == 1
    store.prune_dirs(["vessel=A/date=2025-01-01/part.parquet", "vessel=B/gone.parquet"])
    assert not (tmp_path / "vessel=A").exists()
    assert (tmp_path / "vessel=B" / "mine.txt").exists()  # a folder with anything in it stays


def memory_store() -> FsspecStore:
    made = open_store(f"memory://raadata-tests/{uuid.uuid4().hex}")
    assert isinstance(made, FsspecStore)
    return made


def lock_body(**fields: object) -> bytes:
    body = {"holder": "pid 1 on elsewhere", "expires": time.time() + 600, "pid": 1,
            "host": "elsewhere.example", **fields}
    return json.dumps(body).encode()


HERE, GONE_PID = socket.gethostname(), 2**22 + 12345  # above Linux's largest pid


@pytest.mark.parametrize(("fields", "taken"), [
    pytest.param({}, False, id="live writer elsewhere: trusted until it expires"),
    pytest.param({"expires": -1}, True, id="expired: its heartbeat stopped"),
    pytest.param({"host": HERE, "pid": GONE_PID}, True, id="dead pid on this host"),
    pytest.param({"host": HERE, "pid": "self"}, False, id="live pid on this host"),
    pytest.param(None, True, id="unreadable: nobody to wait for"),
    pytest.param({"pid": "1"}, False, id="pid not a number: trusted until it expires"),
])
def test_an_object_store_lock_is_taken_over_only_from_a_writer_that_is_gone(
    fields: dict[str, object] | None, taken: bool
) -> None:
    if fields is None:
        body = b"not json"
    else:
        changes = {**fields, "pid": os.getpid()} if fields.get("pid") == "self" else fields
        if changes.get("expires") == -1:
            changes = {**changes, "expires": time.time() - 1}
        body = lock_body(**changes)
    store = memory_store()
    store.write_bytes(LOCK, body)
    if taken:
        with store.lock():
            holder = json.loads(store.read_bytes(LOCK) or b"{}")
            assert holder["pid"] == os.getpid()
        assert store.read_bytes(LOCK) is None
    else:
        with pytest.raises(ExportConflictError, match="expires 10 minutes after"), store.lock():
            pass  # pragma: no cover
        assert store.read_bytes(LOCK) == body  # left as it was


def test_object_store_urls_that_cannot_work_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nosuchscheme"):
        open_store("nosuchscheme://bucket/prefix")
    with pytest.raises(ValueError, match="storage_options apply to object store URLs"):
        open_store(tmp_path, {"key": "x"})
    local = open_store(f"file://{tmp_path}/out")
    assert isinstance(local, LocalStore)
    assert local.root == tmp_path / "out"


def test_a_failing_file_system_is_a_storage_error_naming_the_place() -> None:
    store = memory_store()

    class Broken:
        def __getattr__(self, name: str) -> object:
            def fail(*args: object, **kwargs: object) -> object:
                raise ConnectionError("endpoint went away")
            return fail

    store.fs = Broken()
    for action, call in [("reach", store.exists), ("list", store.list),
                         ("read", lambda: store.read_bytes("a")),
                         ("read", lambda: store.size("a")),
                         ("read", lambda: store.open("a")),
                         ("write", lambda: store.write_bytes("a", b"")),
                         ("delete", lambda: store.delete("a"))]:
        with pytest.raises(StorageError, match=f"cannot {action} memory://.*endpoint went away"):
            call()


def test_store_credentials_are_masked_in_logs_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from raadata._redaction import redact

    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-from-the-env-123")
    open_store(f"memory://raadata-tests/{uuid.uuid4().hex}",
               {"key": "AKIAEXAMPLE", "secret": "store-secret-456",
                "client_kwargs": {"aws_secret_access_key": "nested-secret-789"}})
    shown = redact("store-secret-456 nested-secret-789 session-token-from-the-env-123")
    for secret in ("store-secret-456", "nested-secret-789", "session-token-from-the-env-123"):
        assert secret not in shown


def test_the_lock_heartbeat_keeps_a_long_export_locked(monkeypatch: pytest.MonkeyPatch) -> None:
    import raadata._objectstore as objectstore

    monkeypatch.setattr(objectstore, "LOCK_TTL", 0.4)  # a beat every 0.1 s
    store = memory_store()
    with store.lock():
        first = json.loads(store.read_bytes(LOCK) or b"{}")["expires"]
        deadline = time.monotonic() + 60
        while json.loads(store.read_bytes(LOCK) or b"{}")["expires"] == first:
            assert time.monotonic() < deadline, "no heartbeat renewed the lock"
            time.sleep(0.05)
