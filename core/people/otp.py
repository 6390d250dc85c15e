"""One-time codes sent by SMS to prove a phone number belongs to the applicant.

Only an HMAC of each code is kept (in Redis, with a lifetime); wrong tries are counted per
applicant across resends, and too many lock the applicant out for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from core.people import applicants
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.registry.ports import GovGateway, SmsGateway


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_in: int  # seconds
    resend_in: int  # seconds until another code may be requested


class OtpService:
    def __init__(self, redis: Redis, settings: Settings, sms: SmsGateway, gov: GovGateway) -> None:
        self._redis = redis
        self._settings = settings
        self._sms = sms
        self._gov = gov

    async def request(self, applicant_id: int, phone: str, sms_text: str) -> CodeSent:
        """Send a fresh code to `phone`; `sms_text` is the localized text with a `{code}` slot."""
        number = applicants.normalize_phone(phone)  # DomainError(Reason.invalid_phone)
        await self._refuse_if_locked(applicant_id)
        cooldown_key = self._key("cool", applicant_id, number)
        left = await self._redis.ttl(cooldown_key)
        if left > 0:
            raise DomainError(Reason.resend_cooldown, seconds_left=left)
        record = await self._gov.phone_registered(number)
        if not record.registered:
            raise DomainError(Reason.phone_not_in_bmg)
        cooldown = self._settings.otp_resend_cooldown_seconds
        if not await self._redis.set(cooldown_key, 1, ex=cooldown, nx=True):
            raise DomainError(
                Reason.resend_cooldown, seconds_left=max(await self._redis.ttl(cooldown_key), 1)
            )
        code = f"{secrets.randbelow(10**self._settings.otp_length):0{self._settings.otp_length}d}"
        code_key = self._key("code", applicant_id, number)
        ttl = self._settings.otp_ttl_seconds
        await self._redis.set(code_key, self._digest(applicant_id, number, code), ex=ttl)
        try:
            await self._sms.send(
                number,
                sms_text.format(code=code),
                client_id=f"otp-{applicant_id}-{secrets.token_hex(8)}",
            )
        except Exception:
            await self._redis.delete(code_key, cooldown_key)  # nothing was sent: allow a retry
            raise
        return CodeSent(phone=number, expires_in=ttl, resend_in=cooldown)

    async def resend_in(self, applicant_id: int, phone: str) -> int:
        """Seconds until a new code may be requested for this phone (0: now)."""
        number = applicants.normalize_phone(phone)
        return max(int(await self._redis.ttl(self._key("cool", applicant_id, number))), 0)

    async def verify(self, applicant_id: int, phone: str, code: str) -> int:
        """Accept the code and mark the phone verified; returns the applicant's verified count."""
        number = applicants.normalize_phone(phone)  # DomainError(Reason.invalid_phone)
        await self._refuse_if_locked(applicant_id)
        code_key = self._key("code", applicant_id, number)
        stored = await self._redis.get(code_key)
        if stored is None:
            raise DomainError(Reason.otp_expired)
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        given = self._digest(applicant_id, number, code.strip())
        if not hmac.compare_digest(expected, given):
            await self._wrong_try(applicant_id, code_key)
        if not await self._redis.delete(code_key):  # used by a concurrent verify: no replay
            raise DomainError(Reason.otp_expired)
        await self._redis.delete(self._key("fails", applicant_id))
        await applicants.verify_phone(applicant_id, number)
        return await applicants.verified_phone_count(applicant_id)

    async def _wrong_try(self, applicant_id: int, code_key: str) -> None:
        fails_key = self._key("fails", applicant_id)
        lockout = self._settings.otp_lockout_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(fails_key)
            pipe.expire(fails_key, lockout, nx=True)
            fails, _ = await pipe.execute()
        left = self._settings.otp_max_attempts - int(fails)
        if left > 0:
            raise DomainError(Reason.otp_wrong, attempts_left=left)
        await self._redis.set(self._key("lock", applicant_id), 1, ex=lockout)
        await self._redis.delete(fails_key, code_key)
        raise DomainError(Reason.otp_locked, seconds_left=lockout)

    async def _refuse_if_locked(self, applicant_id: int) -> None:
        left = await self._redis.ttl(self._key("lock", applicant_id))
        if left > 0:
            raise DomainError(Reason.otp_locked, seconds_left=left)

    def _digest(self, applicant_id: int, phone: str, code: str) -> str:
        message = f"{applicant_id}:{phone}:{code}".encode()
        return hmac.new(self._settings.otp_secret.encode(), message, hashlib.sha256).hexdigest()

    @staticmethod
    def _key(kind: str, applicant_id: int, phone: str = "") -> str:
        return f"otp:{kind}:{applicant_id}" + (f":{phone}" if phone else "")
