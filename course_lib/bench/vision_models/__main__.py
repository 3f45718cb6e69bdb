"""``python -m course_lib.bench.vision_models --peak '<workload JSON>'``: the child
process of :func:`~.memory.peak_memory_subprocess`; prints one JSON line of memory figures."""
from __future__ import annotations

import json
import sys

from .memory import _measure_in_this_process


def _main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--peak":
        print("usage: python -m course_lib.bench.vision_models --peak '<workload JSON>'",
              file=sys.stderr)
        return 2
    print(json.dumps(_measure_in_this_process(json.loads(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
