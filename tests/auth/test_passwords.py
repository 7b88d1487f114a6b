from __future__ import annotations

import asyncio
import threading
import time
import unicodedata
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher, Type

from pypole_gql.auth.passwords import Passwords

OWASP_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"


async def test_hash_is_argon2id_with_owasp_parameters() -> None:
    password_hash = await Passwords().hash("correct horse battery")

    assert password_hash.startswith(OWASP_PREFIX)


async def test_verify_accepts_the_password() -> None:
    passwords = Passwords()
    password_hash = await passwords.hash("correct horse battery")

    assert await passwords.verify(password_hash, "correct horse battery") is True


async def test_verify_rejects_another_password() -> None:
    passwords = Passwords()
    password_hash = await passwords.hash("correct horse battery")

    assert await passwords.verify(password_hash, "correct horse battery!") is False


async def test_long_password_is_not_truncated() -> None:
    passwords = Passwords()
    password = "p" * 1023 + "A"
    password_hash = await passwords.hash(password)

    assert await passwords.verify(password_hash, "p" * 1023 + "B") is False
    assert await passwords.verify(password_hash, "p" * 1023) is False
    assert await passwords.verify(password_hash, password) is True


async def test_password_whitespace_is_significant() -> None:
    passwords = Passwords()
    password_hash = await passwords.hash(" spaced password ")

    assert await passwords.verify(password_hash, "spaced password") is False


async def test_composed_and_decomposed_accents_are_one_password() -> None:
    passwords = Passwords()
    composed = unicodedata.normalize("NFC", "pässwörd-café")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    password_hash = await passwords.hash(composed)

    assert await passwords.verify(password_hash, decomposed) is True


async def test_malformed_hash_never_matches() -> None:
    assert await Passwords().verify("not-a-hash", "anything at all") is False


async def test_needs_rehash_when_parameters_change() -> None:
    old_hash = await Passwords().hash("correct horse battery")

    assert Passwords().needs_rehash(old_hash) is False
    assert Passwords(time_cost=3).needs_rehash(old_hash) is True
    assert Passwords(memory_kib=32 * 1024).needs_rehash(old_hash) is True


@pytest.mark.parametrize(
    "params",
    [{"memory_kib": 8 * 1024}, {"time_cost": 1}, {"parallelism": 0}],
    ids=["memory", "time", "parallelism"],
)
def test_parameters_below_owasp_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="OWASP"):
        Passwords(**params)


@pytest.mark.parametrize(
    "hasher",
    [
        PasswordHasher(memory_cost=8 * 1024, time_cost=2, parallelism=1, type=Type.ID),
        PasswordHasher(memory_cost=19 * 1024, time_cost=1, parallelism=1, type=Type.ID),
        PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1, type=Type.I),
    ],
    ids=["memory", "time", "argon2i"],
)
def test_a_given_hasher_below_owasp_is_refused(hasher: PasswordHasher) -> None:
    with pytest.raises(ValueError, match=r"OWASP|argon2id"):
        Passwords(hasher=hasher)


class RecordingHasher(PasswordHasher):
    """argon2id at OWASP's minimum that records the hashes it verifies against."""

    def __init__(self) -> None:
        super().__init__(memory_cost=19 * 1024, time_cost=2, parallelism=1, type=Type.ID)
        self.checked: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.checked.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


async def test_dummy_verification_runs_a_full_argon2_check() -> None:
    hasher = RecordingHasher()
    passwords = Passwords(hasher=hasher)
    await passwords.verify_dummy("some guess")
    checked = hasher.checked

    assert len(checked) == 1
    # Same algorithm and cost as a real account's hash, so it takes as long.
    assert checked[0].startswith(OWASP_PREFIX)


async def test_hashing_runs_in_threads_with_bounded_concurrency() -> None:
    lock = threading.Lock()
    running = peak = 0
    threads: set[int] = set()

    def slow_hash(_password: bytes) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        time.sleep(0.05)
        with lock:
            running -= 1
        return "$argon2id$fake"

    class SlowHasher(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            return slow_hash(password if isinstance(password, bytes) else password.encode())

    passwords = Passwords(max_concurrency=2, hasher=SlowHasher())
    # The dummy hash is made at construction, on this thread: only count what follows.
    threads.clear()
    peak = 0
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    tick_task = asyncio.create_task(ticker())
    await asyncio.gather(*(passwords.hash(f"password-{i}") for i in range(6)))
    stop.set()
    await tick_task

    assert peak == 2
    assert threading.get_ident() not in threads
    # Six 50 ms hashes two at a time take ~150 ms, during which the loop kept ticking.
    assert ticks >= 10


# -- bcrypt hashes imported from the older backend (passlib's "$2b$") -----------------------


def _bcrypt_hash(password: str, rounds: int = 4) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


async def test_imported_bcrypt_hash_verifies_and_needs_rehash() -> None:
    passwords = Passwords()
    legacy = _bcrypt_hash("old backend password")

    assert legacy.startswith("$2b$")
    assert await passwords.verify(legacy, "old backend password") is True
    assert await passwords.verify(legacy, "old backend password!") is False
    assert passwords.needs_rehash(legacy) is True


async def test_bcrypt_hash_checks_the_password_as_typed() -> None:
    # passlib hashed the raw UTF-8 bytes: the decomposed form of an accented password is
    # another secret to bcrypt, so it must not match.
    passwords = Passwords()
    composed = unicodedata.normalize("NFC", "pässwörd-café")
    legacy = _bcrypt_hash(composed)

    assert await passwords.verify(legacy, composed) is True
    assert await passwords.verify(legacy, unicodedata.normalize("NFD", composed)) is False


async def test_bcrypt_password_longer_than_72_bytes_verifies_as_passlib_cut_it() -> None:
    import bcrypt

    passwords = Passwords()
    password = "x" * 80
    # passlib (truncate_error=False) hashed the first 72 bytes.
    legacy = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()

    assert await passwords.verify(legacy, password) is True
    assert await passwords.verify(legacy, "y" * 80) is False


async def test_malformed_bcrypt_hash_never_matches() -> None:
    passwords = Passwords()
    broken = "$2b$04$" + "!" * 53

    assert await passwords.verify(broken, "anything") is False


async def test_bcrypt_hash_of_a_72_byte_cut_without_the_split_character_verifies() -> None:
    import bcrypt

    passwords = Passwords()
    password = "a" * 71 + "é" + "tail"  # the 72-byte cut splits "é"
    cut = password.encode()[:72].decode("utf-8", errors="ignore").encode()
    legacy = bcrypt.hashpw(cut, bcrypt.gensalt(rounds=4)).decode()

    assert await passwords.verify(legacy, password) is True
    assert await passwords.verify(legacy, "a" * 70 + "bé" + "tail") is False
