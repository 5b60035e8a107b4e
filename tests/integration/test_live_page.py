"""GET / on the HTTP port of a running soakwatch: the HTML report of the
output events it published, the same page `soakwatch report --format html`
makes from those events, reloading itself; before the first status, a page
that says so. Rendered in headless Chromium like the report."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402
from test_report import png_pixels  # noqa: E402

ENV = dict(os.environ, SOAKWATCH_BROKERS="")
REFRESH = "<meta http-equiv='refresh' content='30'>"


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def status_ready(port):
    try:
        return get(port, "/status")[0] == 200
    except OSError:
        return False


@pytest.fixture
def running(tmp_path):
    port = sc.free_port()
    out = open(tmp_path / "out.jsonl", "w")
    p = subprocess.Popen([sc.BIN, "run", "--http", f"127.0.0.1:{port}"], stdin=subprocess.PIPE,
                         stdout=out, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        yield p, port, tmp_path / "out.jsonl"
    finally:
        p.terminate()
        p.communicate(timeout=20)
        out.close()


def test_live_page_is_the_report_of_what_was_published(running, tmp_path):
    p, port, out = running
    assert sc.wait_until(lambda: p.poll() is None and _up(port), 10)
    code, ctype, html = get(port, "/")
    assert code == 200 and ctype.startswith("text/html")
    assert "published yet" in html and REFRESH in html

    start = (int(time.time() * 1000) - 50 * 60 * 1000) // 1000 * 1000
    p.stdin.write("\n".join(sc.error_burst(start)) + "\n")
    p.stdin.flush()
    assert sc.wait_until(lambda: status_ready(port), 60)
    # The page and the outputs written so far, taken between two status
    # instants (the idle clock publishes one a minute): they must agree.
    for _ in range(5):
        html = get(port, "/")[2]
        time.sleep(0.5)
        lines = out.read_text().splitlines()
        if html == get(port, "/")[2]:
            break
    assert any('"rollback_trigger"' in l for l in lines)
    (tmp_path / "published.jsonl").write_text("\n".join(lines) + "\n")
    want = subprocess.run([sc.BIN, "report", "--input", str(tmp_path / "published.jsonl"),
                           "--format", "html"], capture_output=True, text=True, timeout=60)
    assert want.returncode == 0, want.stderr
    assert REFRESH in html
    assert html.replace(REFRESH, "", 1) == want.stdout
    assert "class='fire'" in html and "NO-GO" in html


def _up(port):
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


def test_live_page_renders_in_chromium(running):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: cannot render the live page")
    p, port, _ = running
    start = (int(time.time() * 1000) - 50 * 60 * 1000) // 1000 * 1000
    p.stdin.write("\n".join(sc.error_burst(start)) + "\n")
    p.stdin.flush()
    assert sc.wait_until(lambda: status_ready(port), 60)
    with tempfile.TemporaryDirectory() as profile:
        png = os.path.join(profile, "page.png")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1400,2000",
                        f"--screenshot={png}", f"http://127.0.0.1:{port}/"],
                       capture_output=True, timeout=120)
        assert os.path.exists(png), "chromium wrote no screenshot"
        w, h, bpp, rows = png_pixels(png)
    assert (w, h) == (1400, 2000)
    colours, nonwhite, sampled = set(), 0, 0
    for row in rows[::3]:
        for x in range(0, w * bpp, bpp * 3):
            r, g, b = row[x], row[x + 1], row[x + 2]
            sampled += 1
            nonwhite += r < 240 or g < 240 or b < 240
            colours.add((r >> 4, g >> 4, b >> 4))
    assert nonwhite / sampled > 0.05, f"only {nonwhite / sampled:.1%} of the page is drawn"
    # the status band's red (the burst) and a series' blue
    for name, rgb in (("red", (0xd6, 0x27, 0x28)), ("blue line", (0x1f, 0x77, 0xb4))):
        assert any(abs(c[0] * 16 + 8 - rgb[0]) <= 24 and abs(c[1] * 16 + 8 - rgb[1]) <= 24
                   and abs(c[2] * 16 + 8 - rgb[2]) <= 24 for c in colours), f"no {name}"
