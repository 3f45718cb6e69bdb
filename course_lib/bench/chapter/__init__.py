"""What the chapter on speed and memory (16.6) does with the committed benchmark records.

* :mod:`.committed` -- find the newest committed record of a benchmark for a device
  (CPU or CUDA), the older GPU check's files (``results/gpu/``), and a one-line
  description of the machine each was measured on;
* :mod:`.claims` -- a claim of the source next to our measurement, with a verdict:
  *confirmed*, *corrected* (with the measured value) or *unverifiable* (with the reason);
* :mod:`.guide` -- "which implementation when", computed from the records, so that it
  changes when the numbers change;
* :mod:`.live` -- a short run on the reader's machine, each measurement set beside the
  committed one of the same name and size as a ratio.

Pure functions over plain dicts (the JSON records of :mod:`course_lib.bench.records`);
nothing here measures anything except :mod:`.live`.
"""
from .claims import Claim, judge, verdict
from .committed import (gpu_check_run, machine_summary, newest_record,
                        record_device, select)
from .guide import GuideRow
from .live import compare_live, Probe

__all__ = ["Claim", "judge", "verdict", "gpu_check_run", "machine_summary",
           "newest_record", "record_device", "select", "GuideRow", "compare_live",
           "Probe"]
