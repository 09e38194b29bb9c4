"""The built site in a browser: three pages (line 3 inverters, line 6 critical minerals, the
interpretations) opened in headless Chromium at 1280 px, photographed, and measured through the
DevTools protocol: the content uses the window's width, no table is wider than its column (with
every folded <details> opened), and the page never scrolls sideways.

Chromium is Debian's `chromium` package (`make browser` installs it; `AMPC_CHROMIUM` names another
binary). Without it the tests are skipped, saying so, unless AMPC_REQUIRE_BROWSER=1 (as `make
test` sets), where they fail. The screenshots are kept in pytest's tmp directory; the path is printed.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 1000
PAGES = {
    "line_03_inverters": "part_ii/line_03_inverters/",
    "line_06_critical_minerals": "part_ii/line_06_critical_minerals/",
    "interpretations": "reference/interpretations/",
}
FOCUS = {"line_03_inverters": "A 200 kW inverter at 480 V three-phase"}  # a table photographed as well
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Runs in the page: opens every <details>, then measures the content column and every table in it.
MEASURE = """
(() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const column = document.querySelector('.md-content__inner') || document.querySelector('article');
  const c = column.getBoundingClientRect();
  const tables = [];
  let heading = '';
  for (const el of column.querySelectorAll('h1, h2, h3, h4, table')) {
    if (el.tagName !== 'TABLE') { heading = el.textContent.replace(/¶$/, '').trim(); continue; }
    const r = el.getBoundingClientRect();
    const wrap = el.closest('.md-typeset__scrollwrap');
    tables.push({heading, rows: el.rows.length, columns: el.rows.length ? el.rows[0].cells.length : 0,
                 left: r.left, right: r.right, width: r.width,
                 scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                 parentClientWidth: el.parentElement.clientWidth,
                 wrapScrollWidth: wrap ? wrap.scrollWidth : 0, wrapClientWidth: wrap ? wrap.clientWidth : 0});
  }
  return JSON.stringify({column: {left: c.left, right: c.right, width: c.width}, tables,
                         pageScrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth});
})()
"""


def _find_chromium() -> str | None:
    named = os.environ.get("AMPC_CHROMIUM")
    for name in ([named] if named else []) + list(CANDIDATES):
        path = shutil.which(name)
        if path:
            return path
    return None


def _install_chromium() -> str:
    """Debian's chromium, when this process may install it (root and apt-get); else why not."""
    if not shutil.which("apt-get"):
        return "no apt-get to install it with"
    if os.geteuid() != 0:
        return "not root, so it cannot be installed here (run `sudo apt-get install -y chromium` or `make browser`)"
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        if subprocess.run(command, capture_output=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
                          timeout=900).returncode != 0:
            return f"`{' '.join(command)}` failed"
    return ""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None:
        why = _install_chromium()
        path = _find_chromium()
        if path is None:
            message = f"chromium not found ({', '.join(CANDIDATES)} or AMPC_CHROMIUM) and {why or 'not installed'}"
            if os.environ.get("AMPC_REQUIRE_BROWSER") == "1":
                pytest.fail(message)
            pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site as `mkdocs build --strict` writes it, served over HTTP on a free local port."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                            capture_output=True, text=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log in the test output
        pass


class Browser:
    """Headless Chromium driven through its DevTools protocol over a WebSocket."""

    def __init__(self, binary: str, profile: Path):
        import websocket  # websocket-client, in the dev extra

        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start its DevTools endpoint ({binary})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not load in 60 s")
            self.events.append(json.loads(self.ws.recv()))
        # the theme's script wraps each table after load; wait for it and for the fonts
        self.evaluate("document.fonts.ready.then(() => new Promise(r => setTimeout(r, 300)))")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        except AttributeError:
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def measured(chromium, site, tmp_path_factory):
    """page name -> its measurements; the screenshots are written beside the profile."""
    shots = tmp_path_factory.mktemp("screenshots")
    browser = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    out = {}
    try:
        for name, path in PAGES.items():
            browser.open(site + path)
            browser.screenshot(shots / f"{name}-top.png")
            out[name] = json.loads(browser.evaluate(MEASURE))
            tables = out[name]["tables"]
            shown = {"widest-table": max(range(len(tables)), key=lambda i: tables[i]["columns"], default=None)}
            if name in FOCUS:
                shown["example"] = next((i for i, t in enumerate(tables) if t["heading"] == FOCUS[name]), None)
            for label, index in shown.items():
                if index is not None:
                    browser.evaluate(f"document.querySelectorAll('.md-content__inner table')[{index}]"
                                     ".scrollIntoView({block: 'start'}); window.scrollBy(0, -120)")
                    browser.evaluate("new Promise(r => setTimeout(r, 200))")
                    browser.screenshot(shots / f"{name}-{label}.png")
    finally:
        browser.close()
    print(f"\nscreenshots: {shots}")
    return out


@pytest.mark.parametrize("name", list(PAGES))
def test_the_content_uses_the_width_and_no_table_is_wider_than_its_column(measured, name):
    page = measured[name]
    column = page["column"]
    assert page["tables"], f"{name}: no table on the page"
    assert column["width"] >= 0.7 * WIDTH, f"{name}: the content column is {column['width']:.0f} px of {WIDTH}"
    too_wide = []
    for t in page["tables"]:
        fits = (t["scrollWidth"] <= t["parentClientWidth"] + 1 and t["scrollWidth"] <= t["clientWidth"] + 1
                and t["left"] >= column["left"] - 1 and t["right"] <= column["right"] + 1
                and t["wrapScrollWidth"] <= t["wrapClientWidth"] + 1)
        if not fits:
            too_wide.append(f"table under '{t['heading']}' ({t['rows']} rows): {t['scrollWidth']} px wide, its "
                            f"column {t['parentClientWidth']} px (spans {t['left']:.0f} to {t['right']:.0f}, the "
                            f"content {column['left']:.0f} to {column['right']:.0f})")
    assert not too_wide, f"{name}: {len(too_wide)} of {len(page['tables'])} tables are wider than their column:\n" \
        + "\n".join(too_wide[:20])
    assert page["pageScrollWidth"] <= page["innerWidth"], f"{name}: the page scrolls sideways"
