"""`logonscope plot host H --out F.svg`: the host timeline as an SVG a report can carry.

The SVG is parsed (it must be well-formed XML even when user names hold escapes) and must name
the host and every user the generator's truth.json puts on it in the chosen time range.
"""

from __future__ import annotations

import datetime as dt
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli_inline
from tests.tui_support import EVIL_USER, crafted_case, demo_case, truth_of

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path: Path) -> tuple[ET.Element, list[str]]:
    root = ET.parse(path).getroot()
    texts = ["".join(el.itertext()).replace("\xa0", " ") for el in root.iter(f"{SVG}text")]
    return root, texts


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def users_on(truth: dict[str, Any], host: str, since=None, until=None) -> set[str]:
    out = set()
    for s in truth["sessions"]:
        if s["host"] != host or s["system"]:
            continue
        start = when(s["start"])
        end = when(s["end"]) if s.get("end") else start
        if (since is None or end >= since) and (until is None or start <= until):
            out.add(s["user"].lower())  # one lane per user, however it is spelt
    return out


def test_plot_host_writes_an_svg_naming_the_host_and_its_users(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    case = demo_case(tmp_path_factory)
    truth = truth_of(case)
    host = "SRV01.corp.example.com"
    out = tmp_path / "srv01.svg"
    result = run_cli_inline("plot", "host", "srv01", "--case", case, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    root, texts = svg_texts(out)
    assert root.tag == f"{SVG}svg"
    labels = {t.strip().lower() for t in texts}
    expected = users_on(truth, host)
    assert len(expected) >= 5 and expected <= labels
    assert any(host in t for t in texts)  # header and title
    assert any("RDP" in t for t in texts) and any("failed" in t for t in texts)

    since, until = dt.datetime(2025, 3, 3, 12, tzinfo=dt.timezone.utc), None
    narrow = tmp_path / "afternoon.svg"
    result = run_cli_inline(
        "plot", "host", "srv01", "--case", case, "--out", narrow,
        "--since", "2025-03-03T12:00:00Z", "--width", "80",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    wide_width = float(root.get("viewBox", "0 0 0 0").split()[2])
    root, texts = svg_texts(narrow)
    assert float(root.get("viewBox", "0 0 0 0").split()[2]) < wide_width
    later = users_on(truth, host, since, until)
    labels = {t.strip().lower() for t in texts}
    assert later <= labels and not (expected - later) & labels
    assert any("2025-03-03 12:00:00 →" in t for t in texts)


def test_plot_refuses_what_it_cannot_draw_with_status_2(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    case = demo_case(tmp_path_factory)
    for args, message in (
        (("--out", tmp_path / "x.txt"), ".svg or .png"),
        (("--out", tmp_path / "none" / "x.svg"), "no such folder"),
        (("--out", tmp_path / "x.svg", "--width", "20"), "at least 60"),
        (("--out", tmp_path / "x.svg", "--since", "tomorrow"), "--since"),
    ):
        result = run_cli_inline("plot", "host", "srv01", "--case", case, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    result = run_cli_inline("plot", "host", "nosuch", "--case", case, "--out", tmp_path / "y.svg")
    assert result.returncode == 2 and "no sessions of host 'nosuch'" in result.stderr
    assert not list(tmp_path.glob("*.svg"))


def test_plot_keeps_hostile_user_names_inert_in_the_svg(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    case = crafted_case(tmp_path_factory)
    truth = truth_of(case)
    host = next(s["host"] for s in truth["sessions"] if s["user"] == EVIL_USER)
    out = tmp_path / "evil.svg"
    result = run_cli_inline("plot", "host", host, "--case", case, "--out", out)
    assert result.returncode == 0, result.stderr
    raw = out.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x07" not in raw
    _, texts = svg_texts(out)  # well-formed XML
    assert any(t.startswith("[red]x[/red]\\x1") for t in texts)


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="PNG needs rsvg-convert")
def test_plot_writes_a_png_when_rsvg_convert_is_there(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    case = demo_case(tmp_path_factory)
    out = tmp_path / "srv01.png"
    result = run_cli_inline("plot", "host", "srv01", "--case", case, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
