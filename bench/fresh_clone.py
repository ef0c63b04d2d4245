"""Time the README's two commands as a new user meets them: a fresh clone in a new directory, no virtual
environments, no pip cache, a temp folder of its own (nothing under /tmp from earlier runs is reused), and,
by default, a dangling `.venv-llm -> /nonexistent` link planted first (what an old clone could carry).

    python bench/fresh_clone.py [--source .] [--customers 20000] [--no-dangling-link] [--keep]

Runs `scripts/test` (installs .venv and .venv-llm, then the checks and every test), then
`WINBACK_DEMO_SERVE=0 scripts/demo` on the same clone (so the demo's time excludes the installs), and
prints one table. The demo must draft with the embedded vLLM server: the run fails if it fell back to
in-process transformers or to templates alone. Logs stay in the work folder (printed at the end).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST_SUMMARY = re.compile(r"=+ (.*(?:passed|failed).*) in ([\d.]+)s")
LEFTOVERS = ("pytest-of-", "vllmtest", "winback-")  # names earlier runs leave in the shared temp folder


def clean_env(tmp: Path, pip_cache: bool) -> dict[str, str]:
    """This process's environment without anything that points at an existing install or data dir."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("WINBACK_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "/.venv" not in p)
    env["TMPDIR"] = str(tmp)
    if not pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, done.returncode, log.read_text(errors="replace")


def minutes(seconds: float) -> str:
    whole = round(seconds)  # 1139.6 s is 19 min 00 s, not 18 min 60 s
    return f"{whole // 60} min {whole % 60:02d} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=str(ROOT), help="repository to clone (its committed HEAD)")
    parser.add_argument("--customers", type=int, default=None, help="WINBACK_DEMO_CUSTOMERS (default: the demo's own)")
    parser.add_argument("--no-dangling-link", action="store_true", help="do not plant .venv-llm -> /nonexistent")
    parser.add_argument("--pip-cache", action="store_true", help="allow pip's cache (a machine that installed before)")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (default: keep only the logs)")
    args = parser.parse_args()

    system_tmp = Path(tempfile.gettempdir())
    stale = sorted(p.name for p in system_tmp.iterdir() if p.name.startswith(LEFTOVERS))
    work = Path(tempfile.mkdtemp(prefix="winback-fresh-"))
    work.chmod(0o755)  # the test suite's PostgreSQL runs as the postgres user, who must reach its folders
    tmp = work / "tmp"
    tmp.mkdir()
    tmp.chmod(0o1777)  # a temp folder like /tmp
    clone = work / "winback"
    subprocess.run(["git", "clone", "-q", args.source, str(clone)], check=True)
    commit = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    shared = Path(args.source).resolve().parent / "shared"
    if shared.is_dir():  # the tests read ../shared/data beside the clone, as CI lays it out
        (work / "shared").symlink_to(shared)
    if not args.no_dangling_link:
        (clone / ".venv-llm").symlink_to("/nonexistent")
    env = clean_env(tmp, args.pip_cache)
    rows: list[tuple[str, str, str]] = []

    test_s, test_rc, test_log = timed(["scripts/test"], clone, env, work / "test.log")
    summary = PYTEST_SUMMARY.findall(test_log)
    counted = f"{summary[-1][0]} (pytest {float(summary[-1][1]):.0f} s)" if summary else "no pytest summary"
    rows.append(
        (
            "scripts/test (installs .venv and .venv-llm, code checks, every test)",
            minutes(test_s),
            ("ok: " if test_rc == 0 else f"FAILED (exit {test_rc}): ") + counted,
        )
    )
    ok = test_rc == 0
    if not args.skip_demo:
        demo_env = {**env, "WINBACK_DEMO_SERVE": "0"}
        if args.customers:
            demo_env["WINBACK_DEMO_CUSTOMERS"] = str(args.customers)
        demo_s, demo_rc, demo_log = timed(["scripts/demo"], clone, demo_env, work / "demo.log")
        fallback = "in-process" in demo_log or "offers fall back" in demo_log
        by_vllm = re.search(
            r"written by \S+ \(embedded vLLM\): model text valid at first try (\d+)%, after repair (\d+)%", demo_log
        )
        conversed = "and her tickets?" in demo_log or "session" in demo_log
        verdict = "ok" if demo_rc == 0 and by_vllm and not fallback else f"FAILED (exit {demo_rc})"
        timeouts = re.search(r"note: LLM unavailable\s*│\s*(\d+)", demo_log)
        templates = re.search(r"written by template\s*│\s*(\d+)", demo_log)
        detail = (
            f"drafted with the embedded vLLM server ({by_vllm.group(1)}% of drafts model-written at the first try, "
            f"{by_vllm.group(2)}% after repairs)"
            if by_vllm
            else "did not draft with the vLLM server"
        )
        if fallback:
            detail += "; fell back to in-process transformers"
        if templates:
            detail += f"; {templates.group(1)} drafts written by templates"
        if timeouts:
            detail += f" ({timeouts.group(1)} after a request ran past WINBACK_LLM_TIMEOUT_S)"
        rows.append(
            (
                f"scripts/demo, WINBACK_DEMO_SERVE=0 ({args.customers or 'default'} customers; after the test run)",
                minutes(demo_s),
                f"{verdict}: {detail}{'; reached the conversation' if conversed else ''}",
            )
        )
        ok = ok and verdict == "ok"

    print(
        f"\nfresh clone of {args.source} at {commit} in {work} ({platform.node()}, {os.cpu_count()} cores); "
        f"dangling .venv-llm link: {'no' if args.no_dangling_link else 'yes'}; pip cache: "
        f"{'allowed' if args.pip_cache else 'off'}; stale entries in {system_tmp} (not used): {len(stale)}\n"
    )
    print("| step | wall time | result |\n|---|---:|---|")
    for step, took, result in rows:
        print(f"| {step} | {took} | {result} |")
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    for name in ("test.log", "demo.log"):
        if (work / name).exists():
            shutil.move(str(work / name), logs / name)
    for name in ("junit.xml", "junit.durations.json"):  # python -m bench.test_durations LOGS/junit.durations.json
        if (clone / "test-artifacts" / name).exists():
            shutil.copy2(clone / "test-artifacts" / name, logs / name)
    if not args.keep:
        for child in work.iterdir():
            if child.name == "logs":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()
    print(f"\nlogs: {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
