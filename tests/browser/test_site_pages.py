"""The public site in a real browser: every new page at desktop and phone widths, light and dark,
with no console error, no axe-core violation, labelled controls and a visible keyboard focus."""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest
from playwright.sync_api import expect

from papers import vectors
from subscribers.links import manage_path
from subscribers.models import SavedSearch
from tests.browser.conftest import shot
from tests.factories import PaperFactory, SubscriberFactory
from tests.papers.catalogue import themed_catalogue

pytestmark = pytest.mark.django_db(transaction=True)
TUE = dt.date(2026, 11, 24)


def png(width: int = 32, height: int = 18) -> bytes:
    """A small PNG with a diagonal gradient, served for the thumbnails' https host (no internet here)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + 6 * x, 90 + 5 * y, 200 - 3 * x)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


THUMB = png()
WIDTHS = {"desktop": 1200, "phone": 390}


def catalogue() -> None:
    PaperFactory(
        arxiv_id="2611.18230",
        version=2,
        title="Self-Correcting Chain-of-Thought via Verifier-Guided Backtracking",
        author_names=[f"Author Number{n}" for n in range(1, 15)],
        abstract="Large language models make reasoning errors. " * 12,
        ai_summary="A verifier tells the model where its chain of thought went wrong, and it backtracks.",
        ai_keywords=["chain of thought", "verifier", "backtracking"],
        categories=["cs.CL", "cs.AI", "cs.LG"],
        announced_on=TUE,
        upvotes=142,
        hf_comments=7,
        organization="Example AI Lab",
        thumbnail_url="https://cdn.example.org/thumb-1.png",
        code_url="https://github.com/example/sccot",
        github_stars=1234,
        project_url="https://sccot.example.org/",
        doi="10.1000/sccot",
    )
    PaperFactory(
        title="Verifier-guided decoding for chain-of-thought math",
        abstract="We decode with a verifier.",
        categories=["cs.CL"],
        announced_on=TUE,
        upvotes=38,
        thumbnail_url="https://cdn.example.org/thumb-2.png",
    )
    PaperFactory(
        title="A quiet arXiv paper on parsing with no votes and a rather long title that wraps on phones",
        abstract="Parsing. " * 60,
        categories=["cs.CL"],
        announced_on=TUE,
    )
    PaperFactory(
        title="Monday's chain-of-thought paper", categories=["cs.CL"], announced_on=TUE - dt.timedelta(1)
    )
    PaperFactory(arxiv_id="astro-ph/0601001", title="An old-style galaxy paper", categories=["astro-ph"])


def check_page(page, errors: list[str], name: str) -> None:
    """No console error, no axe-core violation, and a keyboard user lands on a visible skip link."""
    from axe_playwright_python.sync_playwright import Axe

    assert not errors, (name, errors)
    results = Axe().run(page)
    assert results.violations_count == 0, (name, results.generate_report())
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " const r = e.getBoundingClientRect();"
        " return {text: e.textContent.trim(), outline: s.outlineStyle, left: r.left, width: r.width}; }"
    )
    assert focused["text"] == "Skip to content" and focused["left"] >= 0 and focused["width"] > 0, (
        name,
        focused,
    )
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), (name, outline)
    page.keyboard.press("Shift+Tab")


def test_every_site_page_at_two_widths_in_light_and_dark(browser_page, live_server, default_topics) -> None:
    page, errors = browser_page
    catalogue()
    reader = SubscriberFactory(email="ada@example.org", keywords=["reasoning"])
    SavedSearch.objects.create(subscriber=reader, query="state space model", filters={"category": "cs.LG"})
    page.route(
        "https://cdn.example.org/**", lambda route: route.fulfill(body=THUMB, content_type="image/png")
    )
    pages = {
        "home": "/",
        "day": "/papers/2026-11-24/",
        "week": "/papers/week/2026-W48/",
        "month": "/papers/month/2026-11/",
        "paper": "/papers/2611.18230/",
        "paper-old-id": "/papers/astro-ph/0601001/",
        "search": "/search/?q=chain+of+thought&category=cs.CL",
        "search-empty": "/search/",
        "subscribe-from-search": "/subscribe/?search=chain+of+thought&category=cs.CL",
        "subscribe-from-paper": "/subscribe/?like=2611.18230",
        "manage": manage_path(reader),
        # The preference centre leaves this browser recognising the reader: one press from here.
        "like-paper": "/papers/2611.18230/like/",
        "follow-search": "/search/save/?q=chain+of+thought&category=cs.CL",
    }
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width_name, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in pages.items():
                page.goto(live_server.url + path)
                page.wait_for_load_state("networkidle")
                scrolled = page.evaluate("() => document.documentElement.scrollWidth")
                assert scrolled <= width, (name, width_name, scrolled)  # nothing wider than the screen
                shot(page, f"site-{name}-{width_name}-{scheme}")
                check_page(page, errors, f"{name} {width_name} {scheme}")


def test_a_visitor_browses_days_searches_and_asks_for_a_search_by_email(browser_page, live_server) -> None:
    page, errors = browser_page
    catalogue()
    page.route(
        "https://cdn.example.org/**", lambda route: route.fulfill(body=THUMB, content_type="image/png")
    )
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Get trending papers in your email inbox!")).to_be_visible()
    page.get_by_role("link", name="← Mon 23 Nov").click()
    expect(page.get_by_text("Monday's chain-of-thought paper")).to_be_visible()
    page.get_by_label("Go to day").fill("2026-11-24")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url("**/papers/2026-11-24/")
    page.get_by_role(
        "link", name="Self-Correcting Chain-of-Thought via Verifier-Guided Backtracking", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Similar papers")).to_be_visible()
    expect(page.get_by_text("Verifier-guided decoding for chain-of-thought math")).to_be_visible()
    page.get_by_role("searchbox", name="Search papers").first.fill('"chain of thought" -math')
    page.get_by_role("button", name="Search").first.click()
    expect(page.get_by_role("heading", name="Papers matching")).to_contain_text("chain of thought")
    page.get_by_role("link", name="Email me new papers matching this search").click()
    expect(page.get_by_text("Following the search")).to_be_visible()
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/subscribe/check-your-inbox/")
    assert not errors


def test_the_category_list_filters_as_one_types(browser_page, live_server) -> None:
    page, errors = browser_page
    page.goto(live_server.url + "/subscribe/")
    page.get_by_text("arXiv categories").click()
    page.get_by_label("Find a category").fill("cosmology")
    expect(page.get_by_label("astro-ph.CO Cosmology and Nongalactic Astrophysics")).to_be_visible()
    expect(page.get_by_label("cs.CL Computation and Language")).to_be_hidden()
    page.get_by_label("astro-ph.CO Cosmology and Nongalactic Astrophysics").check()
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, "site-subscribe-category-filter-phone")
    assert not errors


def test_a_paper_page_shows_its_nearest_neighbours_and_leads_to_them(browser_page, live_server) -> None:
    page, errors = browser_page
    catalogue = themed_catalogue()
    vectors.embedding_refit()
    paper = catalogue["decoding"][0]
    decoding = {other.title for other in catalogue["decoding"][1:]}
    for scheme, (width_name, width) in zip(("light", "dark"), WIDTHS.items(), strict=True):
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + f"/papers/{paper.arxiv_id}/")
        similar = page.get_by_role("region", name="Similar papers")
        expect(similar).to_be_visible()
        shown = [title.strip() for title in similar.get_by_role("heading", level=3).all_inner_texts()]
        assert set(shown[:3]) == decoding, shown  # its own theme first, whatever else follows
        similar.scroll_into_view_if_needed()
        shot(page, f"site-paper-similar-{width_name}-{scheme}")
        check_page(page, errors, f"paper similar {width_name} {scheme}")
    page.get_by_role("region", name="Similar papers").get_by_role(
        "link", name="Lookahead verification for low-latency serving", exact=True
    ).click()
    expect(
        page.get_by_role("heading", name="Lookahead verification for low-latency serving", level=1)
    ).to_be_visible()
    assert not errors
