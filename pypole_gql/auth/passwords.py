"""Password hashing: argon2id, off the event loop, with bounded concurrency.

Hashes imported from the older PyPole backend are bcrypt (passlib's ``$2b$``): they still
verify, count as needing a rehash, and are replaced by argon2id at the next login.
"""

from __future__ import annotations

import asyncio
import os
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")

# OWASP's password storage cheat sheet, argon2id: at least 19 MiB of memory, 2 iterations,
# 1 lane. Nothing weaker can be configured.
MIN_MEMORY_KIB = 19 * 1024
MIN_TIME_COST = 2
MIN_PARALLELISM = 1
#: The prefixes of the bcrypt variants passlib and other libraries write.
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
#: bcrypt reads at most this many bytes of a password; passlib cut longer ones silently.
BCRYPT_MAX_BYTES = 72


def is_bcrypt_hash(password_hash: str) -> bool:
    """Whether ``password_hash`` is a bcrypt hash (the older backend's scheme)."""
    return password_hash.startswith(BCRYPT_PREFIXES) and len(password_hash) == 60


def _prepare(password: str) -> bytes:
    # NFKC so that the same password typed on two keyboards (composed or decomposed accents)
    # is the same secret. Nothing is stripped or truncated.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


class Passwords:
    """Hashes and verifies passwords with argon2id.

    Each hash costs tens of milliseconds of CPU and ``memory_kib`` of memory, so it runs in a
    worker thread and at most ``max_concurrency`` run at once (the rest wait their turn on a
    semaphore): the event loop never blocks and a burst of logins cannot exhaust memory.

    ``verify_dummy`` spends the same effort on a login for an unknown email as on a wrong
    password, so response times do not reveal which emails have accounts.
    """

    def __init__(
        self,
        *,
        memory_kib: int = MIN_MEMORY_KIB,
        time_cost: int = MIN_TIME_COST,
        parallelism: int = MIN_PARALLELISM,
        max_concurrency: int | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        """``hasher``: an argon2 hasher to use instead of one built from the three
        parameters (e.g. one that records its calls); it must meet the same minimum."""
        if hasher is not None:
            memory_kib, time_cost = hasher.memory_cost, hasher.time_cost
            parallelism = hasher.parallelism
        if memory_kib < MIN_MEMORY_KIB or time_cost < MIN_TIME_COST or parallelism < 1:
            raise ValueError(
                "argon2id parameters below OWASP's minimum "
                f"(m={MIN_MEMORY_KIB} KiB, t={MIN_TIME_COST}, p={MIN_PARALLELISM})"
            )
        if hasher is not None and hasher.type is not Type.ID:
            raise ValueError("the hasher must be argon2id")
        self._hasher = hasher or PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self.max_concurrency = max_concurrency or max(1, os.cpu_count() or 1)
        self._slots = asyncio.Semaphore(self.max_concurrency)
        # Made up front (once, at start-up): made on first use, the first unknown email would
        # cost a hash more than a wrong password.
        self._dummy_hash: str = self._hasher.hash(os.urandom(16))

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        async with self._slots:
            return await asyncio.to_thread(func, *args)

    async def hash(self, password: str) -> str:
        """A fresh salted argon2id hash (PHC string) of ``password``."""
        return await self._run(self._hasher.hash, _prepare(password))

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash`` (argon2, or an imported bcrypt hash);
        a malformed hash never matches."""
        if is_bcrypt_hash(password_hash):
            # The older backend hashed the password's UTF-8 bytes as typed, unnormalised.
            return await self._run(_verify_bcrypt, password_hash, password.encode("utf-8"))
        return await self._run(self._verify_sync, password_hash, _prepare(password))

    async def verify_dummy(self, password: str) -> None:
        """Burn one verification's worth of time for an account that does not exist."""
        await self._run(self._verify_sync, self._dummy_hash, _prepare(password))

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether a stored hash was made with other parameters (or another scheme, bcrypt)
        than the current ones."""
        if is_bcrypt_hash(password_hash):
            return True
        try:
            return bool(self._hasher.check_needs_rehash(password_hash))
        except InvalidHashError:
            return True

    def _verify_sync(self, password_hash: str, password: bytes) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _verify_bcrypt(password_hash: str, password: bytes) -> bool:
    cut = password[:BCRYPT_MAX_BYTES]
    candidates = [cut]
    # Later versions of the older backend dropped a character that the 72-byte cut split;
    # earlier ones let bcrypt cut mid-character. Either may have made the hash.
    whole_chars = cut.decode("utf-8", errors="ignore").encode("utf-8")
    if whole_chars != cut:
        candidates.append(whole_chars)
    try:
        expected = password_hash.encode("ascii")
        return any(bcrypt.checkpw(candidate, expected) for candidate in candidates)
    except (ValueError, UnicodeEncodeError):
        return False
