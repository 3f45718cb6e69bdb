"""Command line of the harness.

    python -m course_lib.bench machine                 # this machine's record (JSON)
    python -m course_lib.bench ceilings [--quick]      # measured matmul rate and copy bandwidth
    python -m course_lib.bench plot RECORD.json [--out DIR]   # its figures as PNG files
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_lib.bench",
                                 description="the course's benchmark harness")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("machine", help="print this machine's record")
    c = sub.add_parser("ceilings", help="measure the roofline ceilings")
    c.add_argument("--quick", action="store_true")
    p = sub.add_parser("plot", help="draw a record's figures")
    p.add_argument("record", type=Path)
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the PNG files (default: beside the record)")
    args = ap.parse_args(argv)
    if args.cmd == "machine":
        from .machine import machine_record, machine_slug
        rec = machine_record()
        print(json.dumps(dict(rec, slug=machine_slug(rec)), indent=1))
    elif args.cmd == "ceilings":
        from .roofline import measure_ceilings
        print(json.dumps(measure_ceilings(quick=args.quick).to_dict(), indent=1))
    else:
        import matplotlib
        matplotlib.use("Agg")
        from .plots import figures_from_record
        from .records import read_record
        rec = read_record(args.record)
        out = args.out or args.record.parent
        out.mkdir(parents=True, exist_ok=True)
        for name, fig in figures_from_record(rec).items():
            slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
            path = out / f"{args.record.stem}_{slug}.png"
            fig.savefig(path, dpi=110)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
