"""Child processes: wall time, peak memory of the whole process tree, exit status."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ)  # environment of every child; see use_bytecode_cache()
CRAWL_FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "32",
              "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def use_bytecode_cache(prefix: Path) -> None:
    """Let children cache bytecode under ``prefix``, as an installed Redline would have it, without
    writing __pycache__ into the source tree (PYTHONDONTWRITEBYTECODE may be set in this environment)."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(prefix)


@dataclass
class Run:
    """One finished child process."""

    wall: float
    tree_rss_mb: float    # peak of the summed RSS of the child and all its descendants (sampled)
    tree_pss_mb: float    # the same, proportional set size (shared pages split between processes)
    hwm_max_mb: float     # largest per-process peak RSS (VmHWM), exact however short the peak
    hwm_sum_mb: float     # largest sum of the peaks of processes alive together: an upper bound on the tree's
                          # peak (extraction workers replaced during a crawl are not added to their successors)
    main_cpu_s: float     # CPU seconds of the child itself (sampled)
    other_cpu_s: float    # CPU seconds of its descendants, e.g. extraction workers (sampled)
    stdout: str
    stderr: str
    cores_busy: list[float]  # share of each CPU busy while it ran, machine-wide (/proc/stat), 0..1


def _core_times() -> list[tuple[int, int]]:
    """(busy, total) clock ticks of each CPU since boot."""
    times = []
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks = [int(v) for v in values]
                idle = ticks[3] + ticks[4]  # idle + iowait
                times.append((sum(ticks[:8]) - idle, sum(ticks[:8])))
    return times


TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _sample(root: int, cpu: dict[int, float], hwm: dict[int, int]) -> tuple[int, int, int]:
    """(sum of RSS, sum of PSS, sum of peak RSS) in kB over ``root`` and its descendants alive now;
    records each one's CPU seconds and peak RSS (VmHWM, kB)."""
    kids, todo, rss, pss, peaks = _children(), [root], 0, 0, 0
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
            with open(f"/proc/{pid}/status") as f:
                hwm[pid] = max(hwm.get(pid, 0), int(f.read().split("VmHWM:")[1].split()[0]))
            peaks += hwm[pid]
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss, peaks


def run(args: list[str], timeout: float = 600, sample: bool = False) -> Run:
    """Run ``args``; with ``sample`` the tree's memory and CPU are read while it runs (every 20 ms for
    the first second, then every 200 ms)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        cores = _core_times()
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err, text=True, cwd=ROOT, env=ENV)
        peak = [0, 0, 0]
        cpu: dict[int, float] = {}
        hwm: dict[int, int] = {}
        done = threading.Event()

        def watch() -> None:  # every 20 ms for the first second (short commands), then every 200 ms
            while not done.wait(0.02 if time.perf_counter() - start < 1 else 0.2):
                rss, pss, peaks = _sample(child.pid, cpu, hwm)
                peak[0], peak[1], peak[2] = max(peak[0], rss), max(peak[1], pss), max(peak[2], peaks)

        watcher = threading.Thread(target=watch, daemon=True)
        if sample:
            watcher.start()
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:  # its own CPU, exact even when it ends between two samples (ru_maxrss is not: exec
                # keeps the forking parent's peak in it)
                cpu[child.pid] = max(cpu.get(child.pid, 0.0), usage.ru_utime + usage.ru_stime)
                break
            if time.perf_counter() > deadline:
                child.kill()
                raise TimeoutError(f"{args[:6]} ran past {timeout:.0f} s")
            time.sleep(0.005)
        wall = time.perf_counter() - start
        busy = [(b1 - b0) / max(1, t1 - t0) for (b0, t0), (b1, t1) in zip(cores, _core_times())]
        child.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        if sample:
            watcher.join()
        out.seek(0)
        err.seek(0)
        main_cpu = cpu.pop(child.pid, 0.0)
        result = Run(wall, peak[0] / 1024, peak[1] / 1024, max(hwm.values(), default=0) / 1024,
                     peak[2] / 1024, main_cpu, sum(cpu.values()), out.read(), err.read(), busy)
    if child.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{args[:6]} exited with {child.returncode}:\n{tail}")
    return result


def crawl(db: str, urls: list[str], settings: dict[str, str] | None = None, sample: bool = False) -> tuple[Run, Any]:
    """The real ``redline crawl --json`` in a child process, as jobs.runner.run_crawl runs it."""
    args = [PY, "-m", "redline", "--db", db, "crawl", "--json"]
    for name, value in {**CRAWL_FAST, **(settings or {})}.items():
        args += ["-s", f"{name}={value}"]
    done = run([*args, "--", *urls], sample=sample)
    return done, json.loads(done.stdout)
