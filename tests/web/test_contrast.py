"""WCAG 2.1 AA contrast, measured in the browser: on the main pages of every role and the
public pages, every visible piece of text has a contrast ratio of at least 4.5 against the
background it is drawn on (3 for large text: 24 px, or 18.66 px bold). The map's SVG is left
out (its labels are checked by eye; its markers are told by shape and text as well)."""

from __future__ import annotations

import pytest

from tests.api.helpers import CENTRE, PHARMACY
from tests.web.conftest import sign_in
from tests.web.test_units_region import FRIDGE, admin, hot_fridge, region_scenario

__all__ = ["admin", "hot_fridge", "region_scenario"]  # fixtures

pytestmark = pytest.mark.browser

PAGES = {
    None: ["/login", "/public/availability", "/public/map"],
    ("centre_manager", CENTRE): ["/today", "/doses", "/deliveries", "/units", f"/units/{FRIDGE}"],
    ("pharmacist", PHARMACY): [
        "/stock",
        "/holds",
        "/receive",
        "/repack",
        "/shipments",
        "/requests",
    ],
    ("coordinator", "Hovedstaden"): ["/region", "/region/uptake", "/region/waste", "/sites"],
}

# every text node's colour against the first opaque background behind it
FAILING_TEXT = """
() => {
  const rgba = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const channel = (v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const behind = (el) => { for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor); if (c && c.a > 0.99) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const failing = [], seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el) || el.closest('svg')) continue;
    seen.add(el);
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (style.visibility === 'hidden' || box.width === 0 || box.height === 0) continue;
    if (el.closest('.visually-hidden, .skip')) continue;  // shown only on focus
    const fg = rgba(style.color), bg = behind(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = walker.currentNode.textContent.trim().slice(0, 40);
    const on = `rgb(${bg.r}, ${bg.g}, ${bg.b})`;
    if (ratio < needed) failing.push(`${text}: ${ratio.toFixed(2)} (${style.color} on ${on})`);
  }
  return failing;
}
"""


def test_every_text_meets_aa_contrast(live_server, browser, person, region_scenario):
    failing = {}
    for who, paths in PAGES.items():
        context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        if who is not None:
            role, scope = who
            name, _ = person(
                role, **({"region": scope} if role == "coordinator" else {"site": scope})
            )
            sign_in(page, live_server, name)
        for path in paths:
            answer = page.goto(live_server + path)
            assert answer.status == 200, path
            found = page.evaluate(FAILING_TEXT)
            if found:
                failing[path] = found
        context.close()
    assert failing == {}
