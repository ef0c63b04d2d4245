"""Scoring speed: how many prepared feature rows per second the churn model scores, and at what memory.

    .venv/bin/python -m bench.score_speed                  # 100,000 and 1,000,000 rows, CPU (and CUDA if present)
    .venv/bin/python -m bench.score_speed --rows 100000 --drivers 20000

A model is trained on a 5,000-customer demo shop; its real feature rows are repeated up to the requested
size ("prepared" rows: features already computed). Each size runs in a fresh process so peak memory is
its own. --drivers also times integrated-gradient drivers on that many rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(folder: Path) -> None:
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade
    from winback.model.dataset import latest_activity
    from winback.model.features import compute_features
    from winback.model.pipeline import train_churn_model

    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    seed_demo(engine, customers=5_000, seed=7)
    train_churn_model(engine, folder)
    compute_features(engine, latest_activity(engine)).to_pickle(folder / "features.pkl")


def measure(folder: Path, rows: int, device: str, drivers: int) -> None:
    import numpy as np
    import pandas as pd
    import torch

    from winback.model.scoring import ChurnScorer

    scorer = ChurnScorer.load(folder)
    scorer.artifact.model.network.to(device)
    base = pd.read_pickle(folder / "features.pkl")
    frame = base.iloc[np.arange(rows) % len(base)]
    started = time.perf_counter()
    p = scorer.predict(frame)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    driver_seconds = None
    if drivers:
        started = time.perf_counter()
        scorer.contributions(frame.iloc[:drivers])
        driver_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "RESULT "
        + json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_mib": peak,
                "mean_p": float(p.mean()),
                "driver_rows": drivers,
                "driver_seconds": driver_seconds,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--drivers", type=int, default=20_000, help="rows to explain as well (0: none)")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure[0]), int(args.measure[1]), args.measure[2], args.drivers)
        return
    import torch
    from rich.console import Console
    from rich.table import Table

    folder = Path(tempfile.mkdtemp(prefix="winback-score-bench-"))
    prepare(folder)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    table = Table(
        "device",
        "rows",
        "seconds",
        "rows/s",
        "peak RSS (MiB)",
        "drivers: rows",
        "drivers: rows/s",
        title=f"bench/score_speed.py: calibrated 3-network ensemble, {torch.get_num_threads()} CPU threads",
    )
    for device in devices:
        for rows in [int(r) for r in args.rows.split(",")]:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.score_speed",
                    "--drivers",
                    str(args.drivers),
                    "--measure",
                    str(folder),
                    str(rows),
                    device,
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))[7:])
            table.add_row(
                device,
                f"{rows:,}",
                f"{r['seconds']:.2f}",
                f"{rows / r['seconds']:,.0f}",
                f"{r['peak_mib']:.0f}",
                f"{r['driver_rows']:,}",
                f"{r['driver_rows'] / r['driver_seconds']:,.0f}" if r["driver_seconds"] else "-",
            )
    Console(width=160).print(table)
    subprocess.run(["rm", "-rf", str(folder)])


if __name__ == "__main__":
    main()
