"""What benchmarks/cli.py and benchmarks/by.py share: a large CSV written from one repeated block,
and a script timed in a fresh process that reports its peak resident memory.

``PEAK`` is the source of ``peak_mb()`` (the process's ``VmHWM``, in MiB) for the timed scripts;
each script prints a JSON object as its last line, to which :func:`timed` adds ``"seconds"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PEAK = textwrap.dedent(
    """
    def peak_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    """
)


def write_repeated(path: Path, header: str, block: bytes, gigabytes: float) -> int:
    """Write ``header`` then ``block`` again and again, about ``gigabytes`` GB in all (so that
    generating a large file is quick); returns how many times the block was written."""
    repeats = max(1, round(gigabytes * 1e9 / len(block)))
    with open(path, "wb") as file:
        file.write(header.encode())
        for _ in range(repeats):
            file.write(block)
    return repeats


def timed(script: str, *args, src: str | None = None) -> dict:
    """Run ``python -c script *args`` in a fresh process (with ``PYTHONPATH=src`` when given):
    its last line of output as a dict, plus the wall time in ``"seconds"``."""
    env = None if src is None else {**os.environ, "PYTHONPATH": src}
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], check=True, capture_output=True, text=True, env=env
    ).stdout
    report = json.loads(output.strip().splitlines()[-1])
    report["seconds"] = time.perf_counter() - start
    return report
