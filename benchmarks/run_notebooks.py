"""Execute the chapter notebooks and record, per notebook, whether it ran and how long it took.

    python3 benchmarks/run_notebooks.py --out DIR [notebooks...]   # default: chapters/*.ipynb

Used by the GPU check to run the notebooks' GPU paths on a machine with a GPU; on any machine it
answers "do the notebooks run here, and how fast". Writes DIR/notebooks.json and the executed
notebooks as DIR/executed/<name>.ipynb. Exit code 1 if any notebook failed.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path


def run(path: Path, out: Path, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    status, error = "ok", None
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError carries the traceback text
        status, error = "error", str(exc)[-4000:]
    seconds = round(time.perf_counter() - t0, 1)
    (out / "executed").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "executed" / path.name)
    return {"notebook": str(path), "status": status, "seconds": seconds, "error": error}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(Path("chapters").glob("*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for p in paths:
        r = run(p, args.out, args.timeout)
        print(f"{r['status']:5s} {r['seconds']:7.1f} s  {p}", flush=True)
        if r["error"]:
            print(r["error"][-1500:], flush=True)
        results.append(r)
    meta = {"python": sys.version.split()[0], "host": platform.node()}
    (args.out / "notebooks.json").write_text(json.dumps({"machine": meta, "results": results}, indent=2))
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
