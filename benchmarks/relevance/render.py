"""Render papers.txt into one arXiv RSS document per announcement day, under feeds/.

Run after editing papers.txt: python benchmarks/relevance/render.py
(tests/test_relevance_set.py fails while the feeds are out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from benchmarks import relevance_set


def main() -> None:
    labelled = relevance_set.load()
    for day, date in enumerate(labelled.dates, start=1):
        path = relevance_set.feed_path(date)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(relevance_set.render_day([p for p in labelled.written if p.day == day], date))
        print(path.relative_to(relevance_set.ROOT))


if __name__ == "__main__":
    main()
