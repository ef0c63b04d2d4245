"""winback's tests.

Under pytest-xdist each worker gets its share of the cores for the math libraries' thread pools (OpenMP, which
torch and LightGBM use, MKL, OpenBLAS): two workers on two cores, each training on two threads, would fight
over the cores, and OpenMP's waiting threads spin. Set here, before any test module imports torch; a value
already in the environment wins. The embedded LLM server is started without these caps (tests/conftest.py).
"""

import os

THREAD_CAPS: dict[str, str] = {}  # the variables set here (not those the environment already had)
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
if _workers > 1:
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if _name not in os.environ:
            THREAD_CAPS[_name] = os.environ[_name] = str(max(1, (os.cpu_count() or 1) // _workers))
