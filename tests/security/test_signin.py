"""Sign-in (S11): lockout per name and per client, sessions that expire and end on a password reset,
OWASP scrypt parameters with old hashes upgraded, an audit line for every sign-in and failure."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import pytest

from winback.ui.signin import SignInBook, write_audit_to
from winback.ui.users import SCRYPT, SCRYPT_MAXMEM, UserStore


class Clock:
    def __init__(self) -> None:
        self.now = time.time() + 1  # after the store stamped its users

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def book(tmp_path: Path) -> tuple[SignInBook, UserStore, Clock]:
    store = UserStore(tmp_path / "users.toml")
    store.add("sam", "support_agent", "sam-password-1")
    store.add("carol", "cs_staff", "carol-password-1")
    clock = Clock()
    return SignInBook(store, session_max_age_s=3600, clock=clock), store, clock


def test_six_wrong_passwords_lock_the_name_and_the_right_one_is_refused(
    book: tuple[SignInBook, UserStore, Clock],
) -> None:
    signin, _, clock = book
    for i in range(6):
        assert signin.authenticate("sam", f"wrong-{i}", client=f"10.0.0.{i}") is None  # from six addresses
    assert signin.locked("sam", "10.0.0.99") == pytest.approx(15 * 60)
    assert signin.authenticate("sam", "sam-password-1", client="10.0.0.99") is None  # locked, right password too
    assert signin.authenticate("carol", "carol-password-1", client="10.0.0.99") is not None  # others unaffected
    clock.now += 15 * 60 + 1
    assert signin.authenticate("sam", "sam-password-1", client="10.0.0.99") is not None


def test_one_client_guessing_many_names_is_locked_out(book: tuple[SignInBook, UserStore, Clock]) -> None:
    signin, _, _ = book
    for i in range(20):
        signin.authenticate(f"name{i}", "guess", client="203.0.113.7")
    assert signin.authenticate("carol", "carol-password-1", client="203.0.113.7") is None
    assert signin.authenticate("carol", "carol-password-1", client="198.51.100.1") is not None


def test_sessions_expire_and_end_when_the_password_is_reset(book: tuple[SignInBook, UserStore, Clock]) -> None:
    signin, store, clock = book
    signin.started("token-a", "sam")
    assert signin.session_problem("token-a") is None
    clock.now += 3601
    assert signin.session_problem("token-a") == "the session expired"
    clock.now = time.time()  # the store stamps changes with the real clock
    signin.started("token-b", "sam")
    assert signin.session_problem("token-b") is None
    store.add("sam", "support_agent", "new-password-22", replace=True)  # `winback users add --replace`
    clock.now = time.time()
    assert signin.session_problem("token-b") == "the password was reset"
    store.remove("sam")
    assert signin.session_problem("token-b") == "the user was removed"
    assert signin.session_problem("never-issued") == "unknown session"


def test_scrypt_at_owasp_parameters_and_old_hashes_upgraded(tmp_path: Path) -> None:
    assert SCRYPT == {"n": 2**17, "r": 8, "p": 1}
    store = UserStore(tmp_path / "users.toml")
    store.add("maria", "manager", "maria-password-1")
    assert "scrypt$131072$8$1$" in (tmp_path / "users.toml").read_text()
    salt = b"0123456789abcdef"
    old = hashlib.scrypt(b"maria-password-1", salt=salt, n=2**14, r=8, p=1, maxmem=SCRYPT_MAXMEM, dklen=32)
    text = (tmp_path / "users.toml").read_text()
    current = store.users()["maria"].password_hash
    (tmp_path / "users.toml").write_text(text.replace(current, f"scrypt$16384$8$1${salt.hex()}${old.hex()}"))
    assert store.authenticate("maria", "maria-password-1") is not None  # the old hash still verifies
    assert store.users()["maria"].password_hash.startswith("scrypt$131072$8$1$")  # and is rehashed


def test_every_sign_in_and_failure_leaves_an_audit_line(
    book: tuple[SignInBook, UserStore, Clock], tmp_path: Path
) -> None:
    signin, _, _ = book
    log = tmp_path / "audit.log"
    write_audit_to(log)
    signin.authenticate("carol", "carol-password-1", client="127.0.0.1")
    signin.authenticate("carol", "nope", client="127.0.0.1")
    for handler in logging.getLogger("winback.audit").handlers:
        handler.flush()
    lines = log.read_text().splitlines()
    assert any("sign-in: user='carol' role=cs_staff client=127.0.0.1" in line for line in lines)
    assert any("sign-in failed: user='carol' client=127.0.0.1" in line for line in lines)
    assert "nope" not in log.read_text()  # never a password
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_the_guard_records_gradio_tokens_and_drops_ended_sessions(book: tuple[SignInBook, UserStore, Clock]) -> None:
    """The ASGI guard in front of an app that signs in the way Gradio does (cookie token -> user)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from winback.ui.signin import SignInGuard

    signin, store, clock = book

    async def login(request: Request) -> JSONResponse:
        form = await request.form()
        if not signin.authenticate(str(form["username"]), str(form["password"])):
            return JSONResponse({"detail": "Incorrect credentials."}, status_code=400)
        token = f"t{len(request.app.tokens)}"
        request.app.tokens[token] = form["username"]
        response = JSONResponse({"success": True})
        response.set_cookie("access-token-abc", token)
        return response

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.app.tokens.get(request.cookies.get("access-token-abc"))})

    app = Starlette(
        routes=[Route("/login", login, methods=["POST"]), Route("/user", whoami)],
        middleware=[Middleware(SignInGuard, book=signin)],
    )
    app.tokens = {}  # type: ignore[attr-defined]  # what Gradio's App keeps
    client = TestClient(app, client=("192.0.2.10", 5000))
    assert client.post("/login", data={"username": "carol", "password": "carol-password-1"}).status_code == 200
    assert client.get("/user").json() == {"user": "carol"}
    clock.now += 3601  # past the session's lifetime
    token = client.cookies["access-token-abc"]
    decoy = {
        "cookie": f"access-token-000=decoy; access-token-abc={token}"
    }  # a decoy first: the real one is checked too
    assert client.get("/user", headers=decoy).json() == {"user": None}  # the guard dropped Gradio's token
    assert client.get("/user").json() == {"user": None}
    signin.max_client_failures = 3
    for i in range(3):
        client.post("/login", data={"username": f"guess{i}", "password": "wrong"})
    assert signin.locked("anyone", "192.0.2.10") > 0  # the guard told the check which client asked
    assert signin.locked("anyone", "198.51.100.7") == 0
    assert store.users()["sam"]


def test_sign_in_hashing_never_freezes_the_event_loop(book: tuple[SignInBook, UserStore, Clock]) -> None:
    """Many sign-in attempts at once (scrypt, ~0.3 s each) while the UI's event loop serves everyone else:
    the loop keeps ticking, at most two hashes run at a time, and a locked-out name costs no hashing."""
    import asyncio
    import threading

    signin, store, _ = book
    hashing, most = 0, 0
    guard = threading.Lock()
    real = store.authenticate

    def counted(name: str, password: str) -> object:
        nonlocal hashing, most
        with guard:
            hashing += 1
            most = max(most, hashing)
        try:
            return real(name, password)
        finally:
            with guard:
                hashing -= 1

    store.authenticate = counted  # type: ignore[method-assign]

    async def main() -> tuple[list[object], float]:
        gaps: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        results = await asyncio.gather(*(signin.authenticate_async(f"guess{i}", "wrong") for i in range(5)))
        results.append(await signin.authenticate_async("carol", "carol-password-1"))
        done.set()
        await ticker
        return results, max(gaps)

    results, longest_gap = asyncio.run(main())
    assert results[:5] == [None] * 5 and results[5] is not None
    assert longest_gap < 0.15, longest_gap  # one scrypt on the loop would stall it for ~0.3 s
    assert most == 2
    signin.max_failures = 1
    assert asyncio.run(signin.authenticate_async("sam", "wrong")) is None  # locks sam
    calls_before = most, hashing
    store.authenticate = lambda *_: pytest.fail("a locked-out name must not be hashed")  # type: ignore[method-assign]
    assert asyncio.run(signin.authenticate_async("sam", "sam-password-1")) is None
    assert (most, hashing) == calls_before
