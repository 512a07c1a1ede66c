"""Import cost of regloss beyond NumPy's: median of fresh processes under ``python -X importtime``.

``import regloss`` alone imports only its version (the submodules are imported at their first
use); the losses' cost is that of ``import regloss.losses`` (which includes the package root).

Run:  python benchmarks/import_time.py [runs]
"""

import re
import statistics
import subprocess
import sys

TOP_LEVEL = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")


def cumulative_microseconds(statement: str, module: str) -> int:
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    ).stderr
    for line in stderr.splitlines():
        match = TOP_LEVEL.match(line)
        if match and match.group(2) == module:
            return int(match.group(1))
    raise RuntimeError(f"{module} not found in the importtime output")


def main(runs: int = 10) -> None:
    numpy_times = [cumulative_microseconds("import numpy", "numpy") for _ in range(runs)]
    root_times = [cumulative_microseconds("import numpy, regloss", "regloss") for _ in range(runs)]
    losses = "regloss.losses"
    regloss_times = [cumulative_microseconds(f"import numpy, {losses}", losses) for _ in range(runs)]
    print(f"import numpy:                     median {statistics.median(numpy_times) / 1000:5.1f} ms")
    print(f"import regloss (alone):           median {statistics.median(root_times) / 1000:5.1f} ms")
    print(f"regloss.losses beyond numpy:      median {statistics.median(regloss_times) / 1000:5.1f} ms")
    print(f"({runs} fresh processes each, python -X importtime, cumulative time of the top-level module)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
