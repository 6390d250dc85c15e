"""One-time codes sent by SMS to prove a phone number belongs to the applicant.

Only an HMAC of each code is kept (in Redis, with a lifetime); wrong tries are counted per
applicant across resends, and too many lock the applicant out for a while.

Against SMS bombing and pumping (security review #3) every code is counted, in one Redis script
so concurrent requests cannot pass a cap together: per destination phone (an hour and a day),
per applicant (a day) and city-wide (a minute; above it a circuit breaker refuses every new code
for `otp_breaker_seconds`). A phone whose БМГ record names its owner is verified only by that
person or a family member the registry linked to the applicant.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

from core.models import Applicant, Child, GovRequest, GovRequestStatus
from core.people import applicants
from core.platform import metrics
from core.platform.errors import DomainError
from core.platform.pii import mask_phone
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.registry.ports import BmgRecord, GatewayUnavailable, GovGateway, SmsGateway

log = logging.getLogger(__name__)

CLIENT_ID_PREFIX = "otp-"  # the SMS client_id of a code: the delivery report finds the applicant
BREAKER_KEY = "otp:breaker"
GLOBAL_KEY = "otp:global:minute"
HOUR, DAY, MINUTE = 3600, 86400, 60
OWNER_TTL = 365 * DAY  # the identity an applicant without an IIN proved by a БМГ-owned phone

# Checks every limit and, only when all pass, counts the code: one atomic step.
# KEYS: cooldown, breaker, phone hour, phone day, applicant day, global minute.
# ARGV: cooldown s, breaker s, phone/hour, phone/day, applicant/day, global/minute.
# Returns {reason, seconds to wait, breaker tripped now (1/0)}; reason "ok" when counted.
LIMITS_SCRIPT = """
local function left(key)
  local t = redis.call('TTL', key)
  if t < 1 then return 1 end
  return t
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'otp_service_busy', left(KEYS[2]), 0} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'resend_cooldown', left(KEYS[1]), 0} end
local caps = {
  {KEYS[4], ARGV[4], 'otp_phone_limit'},
  {KEYS[3], ARGV[3], 'otp_phone_limit'},
  {KEYS[5], ARGV[5], 'otp_applicant_limit'},
}
for _, cap in ipairs(caps) do
  if tonumber(redis.call('GET', cap[1]) or '0') >= tonumber(cap[2]) then
    return {cap[3], left(cap[1]), 0}
  end
end
if tonumber(redis.call('GET', KEYS[6]) or '0') >= tonumber(ARGV[6]) then
  redis.call('SET', KEYS[2], 1, 'EX', ARGV[2])
  return {'otp_service_busy', tonumber(ARGV[2]), 1}
end
redis.call('SET', KEYS[1], 1, 'EX', ARGV[1])
local windows = {{KEYS[3], 3600}, {KEYS[4], 86400}, {KEYS[5], 86400}, {KEYS[6], 60}}
for _, w in ipairs(windows) do
  if redis.call('INCR', w[1]) == 1 then redis.call('EXPIRE', w[1], w[2]) end
end
return {'ok', 0, 0}
"""

# Gives counts back; a window that ended meanwhile stays ended (no key without a lifetime).
UNCOUNT_SCRIPT = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


# Runs of digits, possibly split by spaces or hyphens ("487 636", "487-636").
_DIGIT_RUNS = re.compile(r"\d(?:[\s\-]?\d)*")


def extract_code(text: str | None, length: int) -> str | None:
    """The code in what the parent sent: the code itself ("487 636" too) or the whole SMS
    pasted ("Код подтверждения: 487636"). None when no run of exactly `length` digits, or more
    than one different such run, is in it: then nothing is tried (no attempt is used up)."""
    runs = {re.sub(r"\D", "", run) for run in _DIGIT_RUNS.findall(text or "")}
    found = {run for run in runs if len(run) == length}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_in: int  # seconds
    resend_in: int  # seconds until another code may be requested


def sms_segments(text: str) -> int:
    """How many SMS segments `text` takes: GSM-7 (160 / 153 per part) when it is plain Latin,
    otherwise UCS-2 (70 / 67), as Cyrillic always is."""
    gsm = all(ord(ch) < 128 and ch not in "`" for ch in text)
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


class OtpService:
    def __init__(self, redis: Redis, settings: Settings, sms: SmsGateway, gov: GovGateway) -> None:
        self._redis = redis
        self._settings = settings
        self._sms = sms
        self._gov = gov
        self._limits = redis.register_script(LIMITS_SCRIPT)
        self._uncount_script = redis.register_script(UNCOUNT_SCRIPT)

    async def request(self, applicant_id: int, phone: str, sms_text: str) -> CodeSent:
        """Send a fresh code to `phone`; `sms_text` is the localized text with a `{code}` slot.

        Refusals (nothing is sent): the phone's or the applicant's cap, the city-wide breaker,
        the resend cooldown, a phone outside БМГ or of another person; `sms_not_sent` when the
        gateway refused or did not answer."""
        number = applicants.normalize_phone(phone)  # DomainError(Reason.invalid_phone)
        await self._refuse_if_locked(applicant_id)
        cooldown_key = self._key("cool", applicant_id, number)
        left = await self._redis.ttl(cooldown_key)
        if left > 0:
            raise DomainError(Reason.resend_cooldown, seconds_left=left)
        await self._refuse_if_breaker_open()
        record = await self._gov.phone_registered(number)
        if not record.registered:
            raise DomainError(Reason.phone_not_in_bmg)
        await self._refuse_foreign_owner(applicant_id, record)
        await self._count(applicant_id, number, cooldown_key)
        code = f"{secrets.randbelow(10**self._settings.otp_length):0{self._settings.otp_length}d}"
        code_key = self._key("code", applicant_id, number)
        ttl = self._settings.otp_ttl_seconds
        await self._redis.set(code_key, self._digest(applicant_id, number, code), ex=ttl)
        if record.iin:  # who proves possession of this phone proves to be its owner
            await self._redis.set(self._key("claim", applicant_id, number), record.iin, ex=ttl)
        text = sms_text.format(code=code)
        if sms_segments(text) > 1:
            log.warning("the code SMS takes %s segments (%s chars)", sms_segments(text), len(text))
        try:
            await self._sms.send(
                number, text, client_id=f"{CLIENT_ID_PREFIX}{applicant_id}-{secrets.token_hex(8)}"
            )
        except Exception as exc:
            await self._uncount(applicant_id, number, code_key, cooldown_key)
            log.warning("code SMS to %s not sent: %s", mask_phone(number), type(exc).__name__)
            if isinstance(exc, GatewayUnavailable | ValueError):  # down, or refused the request
                raise DomainError(Reason.sms_not_sent) from exc
            raise
        metrics.OTP_SENT.inc()
        cooldown = self._settings.otp_resend_cooldown_seconds
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
        claim = await self._redis.get(self._key("claim", applicant_id, number))
        if claim is not None:
            await self._redis.set(self._key("owner", applicant_id), claim, ex=OWNER_TTL, nx=True)
        await applicants.verify_phone(applicant_id, number)
        return await applicants.verified_phone_count(applicant_id)

    async def forget(self, applicant_id: int) -> None:
        """ "Выйти": the codes already sent to this parent no longer open anything. The wrong-try
        count, the lock and the caps stay (leaving must not reset them)."""
        keys = []
        for kind in ("code", "claim"):
            pattern = f"{self._key(kind, applicant_id)}:*"
            keys += [key async for key in self._redis.scan_iter(match=pattern)]
        if keys:
            await self._redis.delete(*keys)

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

    async def _count(self, applicant_id: int, number: str, cooldown_key: str) -> None:
        """Count this code against every cap, or refuse with the wait: atomically."""
        settings = self._settings
        reason, wait, tripped = await self._limits(
            keys=[
                cooldown_key,
                BREAKER_KEY,
                f"otp:phone:hour:{number}",
                f"otp:phone:day:{number}",
                self._key("day", applicant_id),
                GLOBAL_KEY,
            ],
            args=[
                settings.otp_resend_cooldown_seconds,
                settings.otp_breaker_seconds,
                settings.otp_phone_per_hour,
                settings.otp_phone_per_day,
                settings.otp_applicant_per_day,
                settings.otp_global_per_minute,
            ],
        )
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        if reason == "ok":
            metrics.OTP_BREAKER_OPEN.set(0)
            return
        if int(tripped):
            metrics.OTP_BREAKER_TRIPS.inc()
            log.warning("code SMS circuit breaker open for %s s", int(wait))
        if reason == Reason.otp_service_busy:
            metrics.OTP_BREAKER_OPEN.set(1)
            metrics.OTP_BREAKER_OPEN_UNTIL.set(time.time() + int(wait))
        metrics.OTP_REFUSED.labels(reason).inc()
        raise DomainError(reason, seconds_left=int(wait))

    async def _uncount(self, applicant_id: int, number: str, *keys: str) -> None:
        """Nothing was sent: give the parent's counts back (not the city-wide one) and allow a
        retry at once."""
        counters = [
            f"otp:phone:hour:{number}",
            f"otp:phone:day:{number}",
            self._key("day", applicant_id),
        ]
        await self._uncount_script(keys=counters)
        await self._redis.delete(*keys, self._key("claim", applicant_id, number))

    async def _refuse_if_breaker_open(self) -> None:
        left = int(await self._redis.ttl(BREAKER_KEY))
        if left > 0:
            metrics.OTP_BREAKER_OPEN.set(1)
            metrics.OTP_REFUSED.labels(Reason.otp_service_busy.value).inc()
            raise DomainError(Reason.otp_service_busy, seconds_left=left)

    async def _refuse_foreign_owner(self, applicant_id: int, record: BmgRecord) -> None:
        """БМГ names the phone's owner: only that person or a family member the registry
        linked to this applicant may verify it. An applicant the registry does not know yet
        (the wizard confirms phones before the IIN) is bound by the first owned phone they
        confirm, so one account cannot collect strangers' phones."""
        if not record.iin:
            return
        known = await identities(applicant_id)
        owner = await self._redis.get(self._key("owner", applicant_id))
        if owner is not None:
            known.add(owner.decode() if isinstance(owner, bytes) else str(owner))
        if known and record.iin not in known:
            metrics.OTP_REFUSED.labels(Reason.phone_owner_mismatch.value).inc()
            raise DomainError(Reason.phone_owner_mismatch)

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


async def identities(applicant_id: int) -> set[str]:
    """The IINs the registry links to this applicant: their own, their children's, and those of
    their consented family requests (the parent and the children)."""
    known: set[str] = set()
    applicant = await Applicant.get_or_none(id=applicant_id).prefetch_related("person")
    if applicant is not None and applicant.person is not None and applicant.person.iin:
        known.add(applicant.person.iin)
    for iin in await Child.filter(representative_id=applicant_id).values_list(
        "person__iin", flat=True
    ):
        if iin:
            known.add(str(iin))
    requests = await GovRequest.filter(
        applicant_id=applicant_id, status=GovRequestStatus.consented
    ).only("id", "parent_iin", "result")
    for request in requests:
        known.add(request.parent_iin)
        for child in (request.result or {}).get("children", []):
            if isinstance(child, dict) and child.get("iin"):
                known.add(str(child["iin"]))
    return known
