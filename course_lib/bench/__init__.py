"""``course_lib.bench``: the one benchmark harness of the course.

Every script in ``benchmarks/`` times, measures and records through these modules, so
that all committed numbers were taken the same way and name the machine they came from.

* :mod:`.timing` -- CPU wall-clock timing: warm-up, repeats, median and spread (IQR,
  min/max); round-robin timing of several callables side by side.
* :mod:`.cuda_timing` -- CUDA events with warm-up, synchronisation, the allocator's peak
  memory and an optional L2 flush (importable without a GPU, CuPy or CUDA torch).
* :mod:`.memory` -- peak memory of a call on the CPU: tracemalloc (NumPy buffers) and
  the process's resident set (everything, BLAS and torch included).
* :mod:`.counts` -- FLOP and byte counts of the course's operations, arithmetic intensity.
* :mod:`.roofline` -- the machine's measured ceilings (matmul rate, copy bandwidth) and
  the roofline ``attainable = min(peak, intensity x bandwidth)``.
* :mod:`.machine` -- a record of the machine: CPU, cores, load, GPU, driver, CUDA,
  library versions, thread counts.
* :mod:`.records` -- JSON records under ``benchmarks/results/<machine-slug>/``
  (:func:`~.records.add_result` per measurement, :func:`~.records.add_rows` for the GPU
  scripts' table rows).
* :mod:`.progress` -- a progress line on stderr for long runs (no dependency).
* :mod:`.plots` -- bars with error spans, scaling curves, a roofline (matplotlib).
* :mod:`.tables` -- Markdown tables for the scripts' printed and committed reports.
* :mod:`.gpu_env` -- the device and versions a GPU report names.
* :mod:`.budget` -- a script's parts in order within a wall-clock budget (GPU checks).
* :mod:`.side_by_side` -- one table per operation: ratio to the best, roofline position,
  error check; untimed rows stay untimed.
* :mod:`.vision_models`, :mod:`.torchvision_import` -- the image models of 16.6 and their
  closed-form counts (a package; its counts import without torch).
* :mod:`.chapter` -- what chapter 16.6 does with committed records (claims and verdicts,
  the implementation guide, the live run).

Command line: ``python -m course_lib.bench machine | ceilings | plot RECORD.json``.
"""
from .budget import BudgetOutcome, run_within_budget
from .counts import (arithmetic_intensity, attention_flops, conv2d_bytes, conv2d_flops,
                     lstm_step_flops, matmul_bytes, matmul_flops, softmax_flops)
from .machine import legacy_machine_dict, machine_record, machine_slug
from .memory import MemoryFigures, measure_memory
from .progress import Progress
from .records import read_record, new_record, write_record
from .roofline import Ceilings, attainable_gflops, measure_ceilings, ridge_intensity
from .side_by_side import markdown_op_table, op_table, tables_from_record
from .timing import Timing, time_cpu, time_interleaved
from .torchvision_import import import_torchvision

__all__ = ["Timing", "time_cpu", "time_interleaved", "MemoryFigures", "measure_memory",
           "machine_record", "machine_slug", "legacy_machine_dict", "new_record",
           "write_record", "read_record", "Progress", "Ceilings", "measure_ceilings",
           "attainable_gflops", "ridge_intensity", "matmul_flops", "matmul_bytes",
           "conv2d_flops", "conv2d_bytes", "attention_flops", "softmax_flops",
           "lstm_step_flops", "arithmetic_intensity", "op_table", "tables_from_record",
           "markdown_op_table", "import_torchvision", "run_within_budget", "BudgetOutcome"]
