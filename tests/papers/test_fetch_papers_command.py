"""The fetch_papers command: every feed, one feed, saved files, HF days; one line per feed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from papers.models import Feed, FetchRun, Paper
from tests.conftest import DEMO, SAMPLES
from tests.factories import FeedFactory
from tests.httpserver import Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_feeds")]


def run(*args: str) -> str:
    out = StringIO()
    call_command("fetch_papers", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_default_feeds() -> None:
    # The data migration's real feeds point at the internet; tests use local ones.
    Feed.objects.all().delete()


def test_it_fetches_every_enabled_feed_and_prints_a_line_each(feed_server, sample) -> None:
    FeedFactory(
        slug="cs-cl",
        url=feed_server.script("/cl", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"))),
    )
    FeedFactory(
        slug="hf",
        kind=Feed.Kind.HF_JSON,
        url=feed_server.script("/hf", Reply(body=sample("hf_daily_papers_2026-11-24.json"))),
    )
    FeedFactory(slug="off", enabled=False, url=feed_server.url("/off"))
    output = run()
    assert output.splitlines() == [
        "[1/2] cs-cl: 12 new, 0 updated, 0 unchanged, 0 skipped, 0 errors",
        "[2/2] hf: 2 new, 6 updated, 0 unchanged, 0 skipped, 0 errors",
    ]
    assert feed_server.hits("/off") == 0


def test_one_failing_feed_does_not_stop_the_others(feed_server, sample, settings) -> None:
    settings.FEED_RETRIES = 1
    FeedFactory(slug="a-broken", url=feed_server.script("/broken", Reply(status=500)))
    FeedFactory(
        slug="b-good",
        url=feed_server.script("/good", Reply(body=sample("arxiv_cs.CL_2026-11-24.xml"))),
    )
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 fetches failed"):
        call_command("fetch_papers", stdout=out)
    lines = out.getvalue().splitlines()
    assert "a-broken: 0 new, 0 updated, 0 unchanged, 0 skipped, 1 errors: server error HTTP 500" in lines[0]
    assert lines[1] == "[2/2] b-good: 12 new, 0 updated, 0 unchanged, 0 skipped, 0 errors"
    assert Paper.objects.count() == 12


def test_it_fetches_one_feed_by_slug(feed_server, sample) -> None:
    FeedFactory(slug="cs-cl", url=feed_server.script("/cl", Reply(body=sample("arxiv_rss_empty.xml"))))
    FeedFactory(slug="other", url=feed_server.url("/other"))
    assert run("--feed", "cs-cl") == "cs-cl: 0 new, 0 updated, 0 unchanged, 0 skipped, 0 errors\n"
    assert feed_server.hits("/other") == 0


def test_an_unknown_slug_is_refused_with_the_known_ones() -> None:
    FeedFactory(slug="cs-cl")
    with pytest.raises(CommandError, match=r"unknown feed nope \(known: cs-cl\)"):
        run("--feed", "nope")


def test_it_ingests_saved_files_with_format_detection() -> None:
    output = run("--file", str(DEMO / "arxiv_cs.CL_2026-11-24.xml"), "--file", str(SAMPLES / "hf_rss.xml"))
    assert output.splitlines() == [
        f"[1/2] {DEMO / 'arxiv_cs.CL_2026-11-24.xml'}: 12 new, 0 updated, 0 unchanged, 0 skipped, 0 errors",
        f"[2/2] {SAMPLES / 'hf_rss.xml'}: 1 new, 1 updated, 0 unchanged, 0 skipped, 0 errors",
    ]
    assert FetchRun.objects.filter(source__startswith="file:").count() == 2


def test_a_file_of_the_wrong_declared_format_fails_clearly() -> None:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "fetch_papers",
            "--file",
            str(SAMPLES / "hf_rss.xml"),
            "--format",
            "arxiv-api",
            stdout=out,
        )
    assert "expected a arxiv-api document but this looks like hf-rss" in out.getvalue()


def test_a_missing_file_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match=r"cannot read /nonexistent\.xml"):
        run("--file", "/nonexistent.xml")


def test_a_file_over_the_size_cap_is_refused_and_nothing_is_stored(tmp_path, settings) -> None:
    settings.FEED_MAX_BYTES = 4096
    path = tmp_path / "big.xml"
    path.write_bytes((DEMO / "arxiv_cs.CL_2026-11-24.xml").read_bytes())
    with pytest.raises(CommandError, match=rf"{path} is too large: more than 4,096 bytes \(FEED_MAX_BYTES\)"):
        run("--file", str(path))
    assert Paper.objects.count() == 0 and FetchRun.objects.count() == 0


def test_an_endless_file_is_refused_without_reading_it_all(settings) -> None:
    settings.FEED_MAX_BYTES = 4096
    with pytest.raises(CommandError, match="/dev/zero is too large"):
        run("--file", "/dev/zero")


def test_a_file_at_the_size_cap_is_ingested(tmp_path, settings) -> None:
    data = (DEMO / "arxiv_cs.CL_2026-11-24.xml").read_bytes()
    settings.FEED_MAX_BYTES = len(data)
    path = tmp_path / "exact.xml"
    path.write_bytes(data)
    assert run("--file", str(path)) == f"{path}: 12 new, 0 updated, 0 unchanged, 0 skipped, 0 errors\n"


def test_hf_backfill_fetches_each_day_with_progress(feed_server, sample) -> None:
    body = sample("hf_daily_papers_2026-11-24.json")
    FeedFactory(slug="hf", kind=Feed.Kind.HF_JSON, url=feed_server.script("/hf", Reply(body=body)))
    FeedFactory(slug="cs-cl", url=feed_server.url("/cl"))
    output = run("--date", "2026-11-23..2026-11-25")
    assert output.splitlines() == [
        "[1/3] hf 2026-11-23: 8 new, 0 updated, 0 unchanged, 0 skipped, 0 errors",
        "[2/3] hf 2026-11-24: 0 new, 0 updated, 8 unchanged, 0 skipped, 0 errors",
        "[3/3] hf 2026-11-25: 0 new, 0 updated, 8 unchanged, 0 skipped, 0 errors",
    ]
    assert feed_server.hits("/cl") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "yesterday"), "--date takes YYYY-MM-DD"),
        (("--date", "2026-11-25..2026-11-01"), "ends before it starts"),
        (("--feed", "cs-cl", "--date", "2026-11-25"), "only applies to Hugging Face JSON feeds"),
        (("--format", "hf-rss"), "--format only applies to --file"),
        (("--file", "x.xml", "--feed", "cs-cl"), "--file cannot be combined"),
    ],
)
def test_it_refuses_contradictory_options(args: tuple[str, ...], message: str) -> None:
    FeedFactory(slug="cs-cl")
    with pytest.raises(CommandError, match=message):
        run(*args)
