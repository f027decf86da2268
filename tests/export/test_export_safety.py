"""An export never destroys what it did not write, never reports complete over a gap, and
never has two writers: against the sandbox, with real subprocesses and signals."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from raadata import Client, ExportConflictError, StorageError
from raadata._dataset import UnitKey, is_ours, partition_value
from raadata._store import LocalStore
from raadata.sandbox import Sandbox

ALL = "raalabs/*/*"
RANGE = ("2025-01-01T00:00", "2025-01-02T06:00")


def read_back(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path).drop(columns=["vessel", "date"], errors="ignore")
    return frame.sort_values(["series", "timestamp"]).reset_index(drop=True)


def parts(out: Path) -> list[Path]:
    return sorted(out.rglob("part-*.parquet"))


def cli_env(sandbox: Sandbox) -> dict[str, str]:
    return {
        **os.environ,
        "RAADATA_CLIENT_ID": sandbox.client_id,
        "RAADATA_CLIENT_SECRET": sandbox.client_secret,
        "RAADATA_ENVIRONMENT": sandbox.environment,
        "RAADATA_API_URL": sandbox.api_url,
        "RAADATA_TOKEN_URL": sandbox.token_url,
    }


def export_args(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "raadata", "--workers", "2", "--no-progress", "export", ALL,
            "--start", RANGE[0], "--end", RANGE[1], "--out", str(out), *extra]


def wait_for(condition: object, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, f"the export ended before {what}"
        assert time.monotonic() < deadline, f"no {what} after 120 s"
        time.sleep(0.02)


# -- 1. overwrite deletes only what raadata wrote ------------------------------------------------


def test_a_folder_of_user_files_is_never_touched(client: Client, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.parquet").write_bytes(b"mine too")
    for overwrite in (False, True):
        with pytest.raises(ExportConflictError, match="never deletes files it did not write"):
            client.export(ALL, *RANGE, tmp_path, overwrite=overwrite)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data.parquet", "notes.txt", "sub"]
    assert "--overwrite" not in str(_conflict(client, tmp_path))


def _conflict(client: Client, path: Path) -> ExportConflictError:
    with pytest.raises(ExportConflictError) as info:
        client.export(ALL, *RANGE, path)
    return info.value


def test_overwrite_replaces_only_raadata_files(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.export(ALL, *RANGE, out)
    mine = out / "vessel=IMO1000001" / "README.txt"
    mine.write_text("my notes about this vessel")
    (out / "extra.csv").write_text("a,b\n")
    replaced = client.export("raalabs/IMO1000002/*", *RANGE, out, overwrite=True)
    assert sorted(replaced.kept) == ["extra.csv", "vessel=IMO1000001/README.txt"]
    assert mine.read_text() == "my notes about this vessel"
    assert not list((out / "vessel=IMO1000001").rglob("*.parquet"))
    assert not (out / "vessel=IMO1000003").exists()  # its emptied folders went too
    got = ds.dataset(out, format="parquet", partitioning="hive",
                     exclude_invalid_files=True).to_table().to_pandas()
    assert set(got["vessel"]) == {"IMO1000002"}
    assert "2 files raadata did not write were left alone" in str(replaced)


def test_the_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("years of work")
    process = subprocess.run([sys.executable, "-m", "raadata", "demo", "--hours", "1",
                              "--out", str(tmp_path)], capture_output=True, text=True)
    assert process.returncode == 1
    assert "holds no raadata export" in process.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.docx"]


# -- 2. one writer at a time ---------------------------------------------------------------------


def test_a_second_writer_is_refused_and_changes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    out, clean = tmp_path / "out", tmp_path / "clean"
    sandbox.faults.latency = 0.1
    first = subprocess.Popen(export_args(out), env=cli_env(sandbox),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: (out / ".raadata.writer").exists(), first, "the lock was taken")
    with sandbox.client(progress=False) as second:
        for overwrite in (False, True):
            with pytest.raises(ExportConflictError, match=rf"pid {first.pid} on .*started"):
                second.export(ALL, *RANGE, out, overwrite=overwrite)
    _stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    sandbox.faults.latency = 0
    with sandbox.client(progress=False) as client:
        client.export(ALL, *RANGE, clean)
    pd.testing.assert_frame_equal(read_back(out), read_back(clean))
    assert not (out / ".raadata.writer").exists()


def test_a_killed_writer_does_not_block_the_next(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sandbox.faults.latency = 0.1
    process = subprocess.Popen(export_args(out), env=cli_env(sandbox),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: (out / ".raadata.writer").exists(), process, "the lock was taken")
    process.kill()
    process.wait()
    assert (out / ".raadata.writer").exists()  # left behind by the kill: the lock is the OS's
    sandbox.faults.latency = 0
    with sandbox.client(progress=False) as client:
        result = client.export(ALL, *RANGE, out)
    assert result.complete


# -- 3. resume verifies before it skips ----------------------------------------------------------


def test_a_deleted_or_truncated_part_is_repaired(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.export(ALL, *RANGE, out)
    expected = read_back(out)
    files = parts(out)
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes()[:-100])
    result = client.export(ALL, *RANGE, out)
    assert (result.units_repaired, result.units_written, result.units_skipped) == (2, 2, 4)
    pd.testing.assert_frame_equal(read_back(out), expected)
    assert client.export(ALL, *RANGE, out).units_written == 0


def test_verify_finds_an_altered_byte_and_the_next_run_repairs_it(
    sandbox: Sandbox, client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    client.export(ALL, *RANGE, out)
    expected = read_back(out)
    victim = parts(out)[2]
    data = bytearray(victim.read_bytes())
    data[len(data) // 3] ^= 0xFF  # same size, same footer: only a checksum sees it
    victim.write_bytes(bytes(data))
    data_requests = sandbox.stats.requests["measurements"]
    checked = client.export(ALL, *RANGE, out, verify_only=True)
    assert sandbox.stats.requests["measurements"] == data_requests  # no data fetched
    assert not checked.complete
    assert len(checked.damaged) == 1
    assert "altered" in checked.damaged[0]
    assert checked.units_skipped == 5
    repaired = client.export(ALL, *RANGE, out)
    assert repaired.units_written == 1
    pd.testing.assert_frame_equal(read_back(out), expected)
    assert client.export(ALL, *RANGE, out, verify_only=True).complete


def test_cli_verify_exit_codes(sandbox: Sandbox, client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    client.export(ALL, *RANGE, out)
    ok = subprocess.run(export_args(out, "--verify"), env=cli_env(sandbox),
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "verified: every file intact" in ok.stdout
    parts(out)[0].unlink()
    bad = subprocess.run(export_args(out, "--verify"), env=cli_env(sandbox),
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert "is missing" in bad.stdout
    assert "damaged or missing: 1 units" in bad.stdout


# -- 4. the series set is part of the spec -------------------------------------------------------


def test_series_that_appear_are_fetched_for_the_days_done(sandbox: Sandbox, tmp_path: Path) -> None:
    out, clean = tmp_path / "out", tmp_path / "clean"
    with sandbox.client(client_id="sandbox-vessel", progress=False) as narrow:
        first = narrow.export(ALL, *RANGE, out)
    assert first.units_written == 2  # the one vessel its scopes cover
    with sandbox.client(progress=False) as client:
        with pytest.raises(ExportConflictError, match="series changed"):
            client.export(ALL, *RANGE, out, on_series_change="refuse")
        grown = client.export(ALL, *RANGE, out)
        client.export(ALL, *RANGE, clean)
    assert len(grown.series_added) > 0
    assert not grown.series_removed
    assert (grown.units_skipped, grown.units_written) == (2, 4)  # vessel 1's days were kept
    pd.testing.assert_frame_equal(read_back(out), read_back(clean))
    sidecar = json.loads((out / "_raadata.json").read_text())
    assert sidecar["complete"]
    assert len(sidecar["series"]) == len(read_back(clean)["id"].unique())


def test_series_that_vanish_leave_no_stale_days(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with sandbox.client(progress=False) as client:
        client.export(ALL, *RANGE, out)
    with sandbox.client(client_id="sandbox-vessel", progress=False) as narrow:
        shrunk = narrow.export(ALL, *RANGE, out)
        expected = narrow.measurements(ALL, *RANGE, shape="long")
    assert shrunk.series_removed
    assert not shrunk.series_added
    pd.testing.assert_frame_equal(read_back(out), expected, check_dtype=False)


# -- 5. crash-safe state -------------------------------------------------------------------------


def test_leftover_temporary_files_do_not_block_a_fresh_export(
    client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "_raadata.json.raadata-tmp").write_text("{")  # killed while writing the sidecar
    (out / ".raadata.lock").write_text("")
    assert client.export(ALL, *RANGE, out).complete
    assert not list(out.rglob("*.raadata-tmp"))


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '{"spec": null}'])
def test_an_unreadable_sidecar_is_a_conflict_that_says_how_to_recover(
    client: Client, tmp_path: Path, content: str
) -> None:
    out = tmp_path / "out"
    client.export("raalabs/IMO1000001/*", *RANGE, out)
    (out / "_raadata.json").write_text(content)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for overwrite in (False, True):
        with pytest.raises(ExportConflictError, match=r"cannot be read.*Restore the file"):
            client.export("raalabs/IMO1000001/*", *RANGE, out, overwrite=overwrite)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_kill_drill_ends_equal_to_a_clean_export(sandbox: Sandbox, tmp_path: Path) -> None:
    """kill -9 at random moments, re-run each time: the end is a clean export's rows."""
    out, clean = tmp_path / "drill", tmp_path / "clean"
    with sandbox.client(progress=False) as client:
        client.export(ALL, *RANGE, clean)
    sandbox.faults.latency = 0.05
    args = export_args(out)
    rng = __import__("random").Random(20261203)

    def units() -> int:
        return len(list(out.glob("_raadata/units/*.json")))

    def pending() -> set[tuple[str, int]]:  # files being written (by inode: names repeat)
        found = set()
        for path in out.rglob("*.raadata-tmp"):
            with contextlib.suppress(FileNotFoundError):  # renamed meanwhile
                found.add((str(path), path.stat().st_ino))
        return found

    mid_export = 0
    for _ in range(20):
        before, old = units(), pending()
        process = subprocess.Popen(args, env=cli_env(sandbox),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill while a unit is being written, or just after one was committed (no timing
        # assumption: wait for the export to get there, then a random moment more)
        deadline = time.monotonic() + 120
        while not (units() > before or pending() - old):
            assert process.poll() is None, "the export ended before it could be killed"
            assert time.monotonic() < deadline, "no progress in 120 s"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        process.kill()
        process.wait()
        mid_export += units() < 6
        if units() == 6:  # done: start again, so that every kill lands mid-export
            shutil.rmtree(out)
    assert mid_export >= 10
    sandbox.faults.latency = 0
    final = subprocess.run(args, env=cli_env(sandbox), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    pd.testing.assert_frame_equal(read_back(out), read_back(clean))
    assert not list(out.rglob("*.raadata-tmp"))
    assert all(is_ours(p.relative_to(out).as_posix()) for p in out.rglob("*") if p.is_file())


# -- 6. safe partition values --------------------------------------------------------------------

ODD_VALUES = ["IMO1000001", "a/b", "..", ".", "C:", "x\\y", "100%2F", "ø næs", "a=b", "nul\x00x",
              "../../etc"]


def test_partition_values_are_safe_and_read_back_unchanged(tmp_path: Path) -> None:
    for i, value in enumerate(ODD_VALUES):
        path = UnitKey(value, "0" * 12, "2025-01-01").part_path(("vessel", "date"))
        folder = path.split("/")[0]
        assert "/" not in folder.removeprefix("vessel=")
        assert "\\" not in folder
        assert folder.removeprefix("vessel=") not in (".", "..")
        assert ":" not in folder
        assert is_ours(path)
        LocalStore(tmp_path).write_bytes(path, _parquet_bytes(i))
    assert sorted(p.parent.parent.parent for p in tmp_path.rglob("*.parquet")) == (
        [tmp_path] * len(ODD_VALUES))  # nothing escaped the root
    expected = ODD_VALUES
    by_pyarrow = ds.dataset(tmp_path, partitioning="hive").to_table().to_pandas()
    assert by_pyarrow.sort_values("i")["vessel"].tolist() == expected
    assert pd.read_parquet(tmp_path).sort_values("i")["vessel"].astype(str).tolist() == expected
    rows = duckdb.sql(f"select vessel from read_parquet('{tmp_path}/**/*.parquet', "
                      "hive_partitioning=true) order by i").fetchall()
    assert [row[0] for row in rows] == expected
    frame = polars.scan_parquet(f"{tmp_path}/**/*.parquet", hive_partitioning=True).collect()
    assert frame.sort("i")["vessel"].to_list() == expected
    with pytest.raises(ValueError, match="empty"):
        partition_value("")


def _parquet_bytes(i: int) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"i": [i]}), sink)
    return bytes(sink.getvalue().to_pybytes())


def test_a_full_disk_is_a_storage_error_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    pending = store.create("x.parquet")
    pending.handle.close()  # type: ignore[attr-defined]
    pending.handle = open("/dev/full", "wb")  # type: ignore[attr-defined]  # noqa: SIM115
    pending.write(b"0" * 100)  # buffered: the full disk shows on commit
    with pytest.raises(StorageError, match=r"x\.parquet"):
        pending.commit()
    assert list(tmp_path.iterdir()) == []


# -- 7. prompt interrupt -------------------------------------------------------------------------


def test_ctrl_c_exits_at_once_and_says_how_to_resume(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sandbox.compat.update(hang=600.0)  # every data request waits 10 minutes
    process = subprocess.Popen(export_args(out), env=cli_env(sandbox),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: (out / ".raadata.writer").exists(), process, "the lock was taken")
    time.sleep(1.0)  # the first requests are in flight, hanging
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)  # a second Ctrl-C: still no traceback
    _, stderr = process.communicate(timeout=300)  # far less than a hanging request takes
    assert process.returncode == 130
    text = stderr.decode()
    assert "interrupted: run the same command again to resume" in text
    assert "Traceback" not in text
