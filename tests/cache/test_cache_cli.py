"""``raadata --cache get`` and ``raadata cache info|prune|clear`` in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from raadata.sandbox import serve


def test_cache_commands(tmp_path: Path) -> None:
    with serve() as sandbox:
        env = {**os.environ, "RAADATA_CLIENT_ID": sandbox.client_id,
               "RAADATA_CLIENT_SECRET": sandbox.client_secret,
               "RAADATA_ENVIRONMENT": sandbox.environment, "RAADATA_API_URL": sandbox.api_url,
               "RAADATA_TOKEN_URL": sandbox.token_url, "RAADATA_CACHE_DIR": str(tmp_path)}

        def raadata(*args: str) -> str:
            run = subprocess.run([sys.executable, "-m", "raadata", *args], env=env,
                                 capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
            return run.stdout

        get = ("--cache", "--no-progress", "get", "raalabs/IMO1000001/ME ShaftPower",
               "--start", "2025-01-01", "--end", "2025-01-01T06:00", "--format", "csv")
        first = raadata(*get)
        requests = sandbox.stats.requests["measurements"]
        assert raadata(*get) == first
        assert sandbox.stats.requests["measurements"] == requests  # served from the cache
        info = raadata("cache", "info")
        assert str(tmp_path) in info
        assert "series:     1," in info
        assert "2025-01-01 00:00:00+00:00 to 2025-01-01 06:00:00+00:00" in info
        assert "freed 0 bytes" in raadata("cache", "prune", "--older-than", "30days")
        assert "bytes left" in raadata("cache", "prune", "--max-bytes", "0")
        assert "cleared" in raadata("cache", "clear")
        assert "size:       0 bytes" in raadata("cache", "info")
