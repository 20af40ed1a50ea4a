"""`make demo`: run the README's main job and print the figures README quotes, with the machine.

Wraps ``kerazoo train image_classification --data digits --model simple_cnn`` (the child's output
passes through), then prints its test accuracy (from the run's ``evaluation.json``), wall time and
peak resident memory (``getrusage(RUSAGE_CHILDREN)``, what ``/usr/bin/time -v`` reports), followed by
the CPU, core count and load average at the start, so a figure measured on a busy machine says so.

Usage: python .ci/demo_figures.py [RUN_DIR] [-- extra kerazoo train arguments]
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(*distributions: str) -> str:
    """The version of the first of ``distributions`` installed (TensorFlow has several names)."""
    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    positional = argv[: argv.index("--")] if "--" in argv else argv
    run_dir = Path(positional[0] if positional else "runs/demo-digits")
    shutil.rmtree(run_dir, ignore_errors=True)
    kerazoo = Path(sys.executable).with_name("kerazoo")
    command = [str(kerazoo) if kerazoo.exists() else "kerazoo", "train", "image_classification",
               "--data", "digits", "--model", "simple_cnn", "--run-dir", str(run_dir), *extra]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    code = subprocess.call(command)
    wall = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    if code != 0:
        print(f"demo: `{' '.join(command)}` exited {code}", file=sys.stderr)
        return code
    peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    report = json.loads((run_dir / "evaluation.json").read_text())
    print()
    print(f"demo: test accuracy {report['accuracy']:.4f} on {report['num_examples']} digits, "
          f"{wall:.0f} s wall, {peak_rss_mib:.0f} MiB peak RSS")
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPU cores, {platform.system()} "
          f"{platform.machine()}, load average {load_before:.1f} at start / {load_after:.1f} at "
          f"end{' (busy: not a final figure)' if max(load_before, load_after) > 1.0 else ''}")
    print(f"software: Python {platform.python_version()}, kerazoo {version('kerazoo')}, "
          f"TensorFlow {version('tensorflow', 'tensorflow-cpu')}, Keras {version('keras')}")
    print(f"run directory: {run_dir} (evaluation.json, plots, model card, export/1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
