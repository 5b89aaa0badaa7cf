"""The crawl's memory setting: glibc's mmap threshold pinned, so freed page buffers leave the heap."""
from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from scraper.memory import pin_mmap_threshold
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024
pinned = sys.argv[1] == "pin" and pin_mmap_threshold()
big = bytearray(8 << 20); del big        # glibc raises its threshold above 8 MiB on this free ...
keep, blocks = [], []
for i in range(200):                     # ... so 1 MiB buffers come from the heap, pinned by small objects
    blocks.append(bytearray(1 << 20)); keep.append(bytearray(64))
before = rss(); blocks.clear()
print(pinned, before - rss())
"""


def test_pinned_threshold_returns_freed_page_sized_buffers_to_the_system() -> None:
    def freed(mode: str) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
        pinned, mb = out.split()
        return pinned, int(mb)

    pinned, returned = freed("pin")
    assert pinned == "True" and returned >= 150, returned  # ~200 MiB unmapped as the buffers are freed
    _, kept = freed("default")
    assert kept < returned / 2, (kept, returned)  # glibc's own behaviour: most of it stays in the heap
