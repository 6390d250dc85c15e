"""The public page in a real browser (headless chromium): every page of the running webhooks app
in Kazakh and Russian, the language switch, the filters, and the receipt form, with a screenshot
of each page in var/artifacts/."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from redis.asyncio import Redis
from selenium import webdriver
from selenium.webdriver.common.by import By

from core.ledger import log as ledger
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from tests.fixtures.webhooks import run_callbacks_stack

T = TypeVar("T")


async def in_browser(action: Callable[[], T]) -> T:
    """Selenium blocks: it runs in a thread while the app answers on this loop."""
    return await asyncio.to_thread(action)


def visit(chrome: webdriver.Chrome, url: str, shot: Path) -> str:
    chrome.get(url)
    chrome.save_screenshot(str(shot))
    return chrome.find_element(By.TAG_NAME, "body").text


async def test_every_public_page_reads_in_kazakh_and_russian(
    settings: Settings, db: None, redis: Redis, browser: webdriver.Chrome, artifacts: Path
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, _second = await make_queue(city, kindergarten, 2)
    await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    expected = {
        ("", "ru"): [
            "Открытые данные",
            "Свободных мест",
            "Последняя подписанная контрольная точка",
        ],
        ("", "kk"): ["Ашық деректер", "Бос орындар", "Соңғы қол қойылған бақылау нүктесі"],
        ("/seats", "ru"): ["Протокол освобождения мест", "Ясли-сад №1", "Всего найдено: 1"],
        ("/seats", "kk"): ["Орындарды босату хаттамасы", "№1 бөбекжай-бақша", "Барлығы табылды: 1"],
        ("/referrals", "ru"): ["Протокол выдачи направлений", referral.number, "А***А"],
        ("/referrals", "kk"): ["Жолдамалар беру хаттамасы", referral.number],
        ("/verify", "ru"): ["Проверить квитанцию", "Проверить"],
        ("/verify", "kk"): ["Түбіртекті тексеру", "Тексеру"],
    }
    async with run_callbacks_stack(settings, redis) as stack:
        base = stack.web_url + "/public"
        for (path, language), words in expected.items():
            name = (path.strip("/") or "home") + f"-{language}"
            shot = artifacts / f"public-{name}.png"
            text = await in_browser(
                lambda: visit(browser, f"{base}{path}?lang={language}", shot)  # noqa: B023
            )
            for word in words:
                assert word in text, (name, word)
            assert shot.stat().st_size > 0

        def switch_and_filter() -> str:
            browser.get(f"{base}/seats?lang=ru")
            browser.find_element(By.ID, "language-switch").click()
            assert "Орындарды босату хаттамасы" in browser.find_element(By.TAG_NAME, "h1").text
            browser.find_element(By.NAME, "q").send_keys("№2")
            browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
            browser.save_screenshot(str(artifacts / "public-seats-filtered-kk.png"))
            return browser.find_element(By.TAG_NAME, "body").text

        filtered = await in_browser(switch_and_filter)
        assert "Барлығы табылды: 0" in filtered

        receipt = json.loads(
            await ledger.receipt_text(
                (await ledger.receipts_for(first.id))[-1], await ledger.latest_checkpoint()
            )
        )

        def submit(text: str, language: str, shot: str) -> str:
            browser.get(f"{base}/verify?lang={language}")
            field = browser.find_element(By.ID, "receipt")
            field.clear()
            field.send_keys(text)  # typed as a visitor would (the page allows no script)
            browser.find_element(By.CSS_SELECTOR, "#receipt-form button").click()
            browser.save_screenshot(str(artifacts / shot))
            return browser.find_element(By.ID, "verdict").text

        verdict = await in_browser(
            lambda: submit(json.dumps(receipt), "ru", "public-verify-ok-ru.png")
        )
        assert "Квитанция подтверждена" in verdict
        leaf = json.loads(receipt["leaf"])
        leaf["at"] = "2000-01-01T00:00:00Z"
        tampered = {**receipt, "leaf": json.dumps(leaf, sort_keys=True, separators=(",", ":"))}
        verdict = await in_browser(
            lambda: submit(json.dumps(tampered), "kk", "public-verify-tampered-kk.png")
        )
        assert "Түбіртек расталмады" in verdict
