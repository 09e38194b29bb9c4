"""The pages in a real headless Chromium (Debian's chromium and chromium-driver, `make browser`),
driven by Selenium against `ampc serve`'s app on a loopback port: the interview reaches a qualified
3e microinverter and a rejected inverter in the gap between 3b and 3c, an undetermined product asks
for the settling fact, the catalog upload shows its table and filters it, and its XLSX download opens
with openpyxl. Each test saves a screenshot under its temporary folder. Without the browser the
tests are skipped, saying so, unless AMPC_REQUIRE_BROWSER=1 (as `make test` sets)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHROMIUM = os.environ.get("AMPC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = os.environ.get("AMPC_CHROMEDRIVER") or shutil.which("chromedriver")


def _missing() -> str:
    if not CHROMIUM:
        return "no chromium (make browser installs Debian's chromium and chromium-driver)"
    if not DRIVER:
        return "no chromedriver (make browser installs Debian's chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return ""


if _missing():
    if os.environ.get("AMPC_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"the browser tests need a browser: {_missing()}")
    pytest.skip(_missing(), allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from ampc.web.app import create_app
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/v1/editions", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    yield base
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads")})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1280, 1000)
    yield driver
    driver.quit()


def shot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def pick(driver, fact: str, value: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'input[name="{fact}"][value="{value}"]').click()


def fill(driver, fact: str, text: str) -> None:
    box = driver.find_element(By.ID, f"in-{fact}")
    box.clear()
    box.send_keys(text)


def replaced(element):
    """A wait's condition: the element has left the page (the page or its part was replaced).
    chromedriver reports a node that left mid-call either as stale or as "does not belong to the
    document"; both mean it is gone."""
    def gone(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False
    return gone


def start(driver, base: str, kind: str) -> None:
    driver.get(base + "/")
    driver.find_element(By.CSS_SELECTOR, f'input[name="kind"][value="{kind}"]').click()
    old = driver.find_element(By.TAG_NAME, "main")
    driver.find_element(By.CSS_SELECTOR, "form.kinds button[type=submit]").click()
    WebDriverWait(driver, 30).until(replaced(old))


def answer_inverter(driver, **facts: str) -> None:
    for fact in ("is_end_product", "converts_dc_to_ac", "sold_in_trade_or_business"):
        pick(driver, fact, "true")
    for fact in ("sold_to_related_person", "facility_48c_credit_taken", "used_with_certified_distributed_wind"):
        pick(driver, fact, "false")
    pick(driver, "dc_source", "solar_module")
    Select(driver.find_element(By.ID, "in-produced_in")).select_by_value("united_states")
    for fact, value in facts.items():
        if fact in ("ac_capacity", "rated_output_voltage"):
            fill(driver, fact, value)
        else:
            pick(driver, fact, value)
    driver.execute_script("document.getElementById('in-sale_date').value = '2024-03-01';"
                          "document.getElementById('in-production_date').value = '2024-01-01';")


def submit(driver, button_id: str) -> None:
    """Click a submit button and wait for the page it loads."""
    old = driver.find_element(By.TAG_NAME, "main")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, 30).until(replaced(old))


def decide(driver) -> tuple[str, str | None]:
    submit(driver, "decide")
    verdict = driver.find_element(By.CSS_SELECTOR, "p.outcome")
    lines = driver.find_elements(By.CSS_SELECTOR, "p.outcome [data-line]")
    return verdict.get_attribute("data-outcome"), lines[0].get_attribute("data-line") if lines else None


def test_the_interview_reaches_a_qualified_3e_microinverter(server, browser, tmp_path):
    start(browser, server, "inverter")
    answer_inverter(browser, connects_to_one_module="true", phase="single", suitable_for="residence",
                    rated_output_voltage="240", ac_capacity="300")
    assert decide(browser) == ("qualified", "3e")
    assert "(iii) a capacity which is not greater than 650 watts" in browser.page_source
    shot(browser, tmp_path, "interview-qualified-3e")


def test_an_inverter_in_the_gap_between_3b_and_3c_is_rejected(server, browser, tmp_path):
    start(browser, server, "inverter")
    answer_inverter(browser, connects_to_one_module="false", phase="three", suitable_for="commercial",
                    rated_output_voltage="480", ac_capacity="500 kW")
    assert decide(browser) == ("rejected", None)
    shot(browser, tmp_path, "interview-rejected-gap")


def test_an_undetermined_product_asks_for_the_settling_fact(server, browser, tmp_path):
    start(browser, server, "inverter")
    answer_inverter(browser, connects_to_one_module="true", phase="single", suitable_for="residence",
                    rated_output_voltage="240")
    verdict, _line = decide(browser)
    assert verdict == "undetermined"
    hint = browser.find_element(By.CSS_SELECTOR, "[data-next]")
    assert hint.get_attribute("data-next") == "ac_capacity"
    first = browser.find_elements(By.CSS_SELECTOR, "form#interview .field.next")
    assert first and first[0].get_attribute("id") == "field-ac_capacity"
    fill(browser, "ac_capacity", "300")  # answering it settles the product
    assert decide(browser) == ("qualified", "3e")
    shot(browser, tmp_path, "interview-undetermined")


def shown_outcome(driver) -> str:
    """The outcome the page shows now (read in one step: the result is replaced as answers arrive)."""
    return driver.execute_script("var p = document.querySelector('p.outcome'); return p ? p.dataset.outcome : ''")


def test_each_answer_updates_the_outcome_without_a_submit(server, browser, tmp_path):
    start(browser, server, "inverter")
    answer_inverter(browser, connects_to_one_module="true", phase="single", suitable_for="residence",
                    rated_output_voltage="240")
    fill(browser, "ac_capacity", "300")
    browser.find_element(By.ID, "in-product").click()  # leaving the box is the answer's change
    WebDriverWait(browser, 30).until(lambda d: shown_outcome(d) == "qualified")
    assert browser.execute_script("return document.querySelector('p.outcome [data-line]').dataset.line") == "3e"
    assert browser.find_element(By.ID, "in-ac_capacity").get_attribute("value") == "300"  # the form stays
    fill(browser, "ac_capacity", "5 kVA")
    browser.find_element(By.ID, "in-product").click()
    WebDriverWait(browser, 30).until(lambda d: shown_outcome(d) == "error")
    error = browser.find_element(By.CSS_SELECTOR, "#field-ac_capacity p.error")
    assert "give the value in W" in error.text
    shot(browser, tmp_path, "interview-live")


@pytest.mark.parametrize("page", ["/interview?kind=inverter", "/catalog", "/worksheet", "/"])
def test_each_page_fits_a_phone(server, browser, tmp_path, page):
    browser.set_window_size(375, 800)
    browser.get(server + page)
    width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] + 1, width
    shot(browser, tmp_path, "phone")


def test_the_worksheet_upload_shows_the_lines_with_their_sales(server, browser, tmp_path):
    browser.get(server + "/worksheet")
    browser.find_element(By.ID, "in-catalog").send_keys(str(EXAMPLES / "credit/catalog.yaml"))
    browser.find_element(By.ID, "in-ledger").send_keys(str(EXAMPLES / "credit/sales.csv"))
    browser.find_element(By.ID, "in-tax_year").send_keys("2025")
    submit(browser, "figure")
    line = browser.find_element(By.CSS_SELECTOR, 'table.part-ii tr[data-line="1a"]')
    assert "$" in line.text
    line.find_element(By.TAG_NAME, "summary").click()
    assert "sales.csv row 2" in line.text
    shot(browser, tmp_path, "worksheet")


def test_the_catalog_upload_shows_its_table_filters_it_and_downloads_xlsx(server, browser, tmp_path):
    from openpyxl import load_workbook
    path = EXAMPLES / "catalog_in_words.csv"
    browser.get(server + "/catalog")
    browser.find_element(By.ID, "in-file").send_keys(str(path))
    submit(browser, "upload")
    rows = browser.find_elements(By.CSS_SELECTOR, "#records tbody tr.row")
    assert len(rows) == sum(1 for _ in path.open(encoding="utf-8")) - 1
    Select(browser.find_element(By.ID, "filter-outcome")).select_by_value("qualified")
    shown = [r for r in rows if r.is_displayed()]
    assert shown and all(r.get_attribute("data-outcome") == "qualified" for r in shown)
    assert len(shown) < len(rows)
    shot(browser, tmp_path, "catalog")
    # the page's XLSX button posts the same form to /v1/classify?format=xlsx: the file it downloads
    browser.get(server + "/catalog")
    browser.find_element(By.ID, "in-file").send_keys(str(path))
    browser.find_element(By.ID, "as-xlsx").click()
    downloads = tmp_path / "downloads"
    for _ in range(200):
        done = [p for p in downloads.glob("*.xlsx")] if downloads.is_dir() else []
        if done:
            break
        time.sleep(0.05)
    assert done, "no workbook was downloaded"
    book = load_workbook(io.BytesIO(done[0].read_bytes()), read_only=True)
    assert book.sheetnames[:2] == ["Decisions", "Clauses"]
