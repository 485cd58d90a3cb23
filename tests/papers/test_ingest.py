"""Storing parsed feeds: one row per paper, merged signals, versions, idempotency, atomicity."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from functools import partial

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from papers import feeds, services
from papers.feeds.entries import ARXIV_RSS, PaperEntry, ParsedFeed
from papers.models import FetchRun, Paper
from tests.concurrency import at_once
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

DAY_ONE = dt.date(2026, 11, 24)


def store(sample, name: str) -> services.StoreResult:
    data = sample(name)
    parsed = feeds.parse(data)
    return services.papers_store(parsed=parsed, source=parsed.format)


def paper(arxiv_id: str) -> Paper:
    return Paper.objects.get(arxiv_id=arxiv_id)


def test_it_creates_one_row_per_paper_with_counts(sample) -> None:
    result = store(sample, "arxiv_cs.CL_2026-11-24.xml")
    assert (result.new, result.updated, result.unchanged, result.skipped) == (12, 0, 0, 0)
    assert Paper.objects.count() == 12
    row = paper("2611.18201")
    assert row.title == "Sparse Mixture-of-Experts Routing Without Load-Balancing Losses"
    assert row.author_names == ["María Fernández", "Lukas Müller", "Chen Wei", "Aisha Khan"]
    assert row.categories == ["cs.CL", "cs.LG"] and row.primary_category == "cs.CL"
    assert row.announced_on == DAY_ONE and row.version == 1
    assert row.sources == ["arxiv-rss"]
    assert row.abs_url == "https://arxiv.org/abs/2611.18201"


def test_the_same_paper_from_arxiv_and_hugging_face_is_one_row_with_merged_signals(sample) -> None:
    store(sample, "arxiv_cs.CL_2026-11-24.xml")
    result = store(sample, "hf_daily_papers_2026-11-24.json")
    assert (result.new, result.updated) == (2, 6)
    row = paper("2611.18230")
    assert Paper.objects.filter(arxiv_id="2611.18230").count() == 1
    assert row.sources == ["arxiv-rss", "hf-json"]
    assert row.categories == ["cs.CL", "cs.AI"]  # arXiv's, untouched by HF
    assert row.upvotes == 142 and row.hf_comments == 7
    assert row.ai_summary.startswith("Backtracking to the last verified reasoning step")
    assert row.ai_keywords == ["chain-of-thought", "verifier", "backtracking", "self-consistency"]
    assert row.code_url == "https://github.com/example-lab/verified-backtracking"
    assert row.organization == "Meta AI"
    assert row.hf_url == "https://huggingface.co/papers/2611.18230"
    assert row.announced_on == DAY_ONE and row.hf_daily_on == DAY_ONE


def test_arxiv_owns_the_bibliography_whatever_arrives_first(sample) -> None:
    store(sample, "hf_rss.xml")
    hf_only = paper("2611.18263")
    assert hf_only.categories == [] and hf_only.upvotes == 91
    store(sample, "arxiv_cs.CL_2026-11-24.xml")
    row = paper("2611.18263")
    assert row.categories == ["cs.AI", "cs.CL"] and row.primary_category == "cs.AI"
    assert row.abstract.startswith("Language-model agents that call tools repeat the same mistakes across")
    assert row.version == 1
    assert row.upvotes == 91  # the HF signal survives the arXiv merge
    assert row.sources == ["hf-rss", "arxiv-rss"]


def test_a_newer_version_updates_the_row_and_keeps_the_announcement_day(sample) -> None:
    store(sample, "arxiv_cs.CL_2026-11-24.xml")
    result = store(sample, "arxiv_rss_next_day.xml")
    assert Paper.objects.filter(arxiv_id="2611.18230").count() == 1
    row = paper("2611.18230")
    assert row.version == 2
    assert row.abstract.endswith("Version two adds results on code generation.")
    assert row.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert row.announced_on == DAY_ONE  # replace is not news
    assert (result.new, result.updated) == (2, 1)


def test_a_replacement_of_an_unknown_old_paper_is_not_announced_as_new(sample) -> None:
    store(sample, "arxiv_rss_next_day.xml")
    assert paper("2301.00042").announced_on is None
    assert paper("2611.19001").announced_on == dt.date(2026, 11, 25)


def test_an_older_version_never_overwrites_a_newer_one(sample) -> None:
    store(sample, "arxiv_api_current.atom")  # v2 with journal ref and comment
    result = store(sample, "arxiv_cs.CL_2026-11-24.xml")  # v1 of the same paper
    row = paper("2611.18230")
    assert row.version == 2
    assert row.abstract.startswith(
        "Large language models often commit early to a wrong reasoning step. Version two"
    )
    assert row.journal_ref == "Proc. ACL 2027"
    assert row.announced_on == DAY_ONE  # but v1's announcement still counts
    assert result.new == 11


def test_re_storing_an_unchanged_document_writes_nothing(sample) -> None:
    store(sample, "arxiv_cs.CL_2026-11-24.xml")
    store(sample, "hf_daily_papers_2026-11-24.json")
    with CaptureQueriesContext(connection) as queries:
        again = store(sample, "hf_daily_papers_2026-11-24.json")
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert (again.new, again.updated, again.unchanged) == (0, 0, 8)


def test_last_seen_at_is_refreshed_at_most_once_a_day(sample) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC), tick=False):
        store(sample, "arxiv_cs.CL_2026-11-24.xml")
    with time_machine.travel(dt.datetime(2026, 11, 25, 6, tzinfo=dt.UTC), tick=False):
        result = store(sample, "arxiv_cs.CL_2026-11-24.xml")
    row = paper("2611.18201")
    assert result.unchanged == 12
    assert row.first_seen_at.date() == DAY_ONE
    assert row.last_seen_at.date() == dt.date(2026, 11, 25)


def test_duplicates_inside_one_document_merge_into_one_row() -> None:
    entry = PaperEntry(arxiv_id="2611.00001", version=1, title="T", categories=("cs.CL",))
    twin = PaperEntry(arxiv_id="2611.00001", version=1, title="T", categories=("cs.LG",))
    parsed = ParsedFeed(format=ARXIV_RSS, entries=[entry, twin])
    result = services.papers_store(parsed=parsed, source=ARXIV_RSS)
    assert result.new == 1
    assert paper("2611.00001").categories == ["cs.CL", "cs.LG"]


def test_a_malformed_document_is_recorded_as_an_error_and_writes_no_paper(sample) -> None:
    data = sample("arxiv_cs.CL_2026-11-24.xml")
    run = services.document_ingest(data=data[:6000], source="file:truncated.xml")
    assert run.status == FetchRun.Status.ERROR
    assert run.error.startswith("malformed XML:")
    assert Paper.objects.count() == 0


def test_a_failure_half_way_through_storing_leaves_nothing_behind(sample, monkeypatch) -> None:
    store(sample, "arxiv_cs.CL_2026-11-24.xml")

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Paper.objects, "bulk_update", explode)
    run = services.document_ingest(data=sample("arxiv_rss_next_day.xml"), source="file:next.xml")
    assert run.status == FetchRun.Status.ERROR
    assert "disk on fire" in run.error
    assert not Paper.objects.filter(arxiv_id="2611.19001").exists()  # its insert was rolled back
    assert paper("2611.18230").version == 1


def test_skipped_entries_are_counted_and_explained(sample) -> None:
    run = services.document_ingest(data=sample("hf_daily_2024.json"), source="file:hf.json")
    assert run.status == FetchRun.Status.OK
    assert (run.new, run.skipped) == (1, 2)
    assert "entry 1: no arXiv identifier" in run.notes


def test_a_forced_format_that_does_not_match_is_an_error(sample) -> None:
    run = services.document_ingest(data=sample("hf_rss.xml"), source="file:x", fmt=ARXIV_RSS)
    assert run.status == FetchRun.Status.ERROR
    assert run.error == "expected a arxiv-rss document but this looks like hf-rss"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_with_the_same_new_papers_never_collide(sample) -> None:
    """Two feeds listing the same cross-listed papers, stored at the same instant."""
    documents = [
        sample("arxiv_cs.CL_2026-11-24.xml"),
        sample("hf_daily_papers_2026-11-24.json"),
    ] * 2
    runs = at_once(
        *(partial(services.document_ingest, data=data, source="file:concurrent") for data in documents)
    )
    assert [run.status for run in runs] == [FetchRun.Status.OK] * 4
    assert Paper.objects.count() == 14
    assert sum(run.new for run in runs) == 14
    row = paper("2611.18230")
    assert row.upvotes == 142 and row.categories == ["cs.CL", "cs.AI"]


# --- Links that are not http(s) -----------------------------------------------------------------


def hf_document(**paper: str) -> bytes:
    thumbnail = paper.pop("thumbnail", "")
    return json.dumps(
        [{"paper": {"id": "2611.00001", "title": "Links", **paper}, "thumbnail": thumbnail}]
    ).encode()


def test_an_unsafe_link_is_dropped_and_the_paper_kept() -> None:
    data = hf_document(
        githubRepo="javascript:alert(document.cookie)",
        projectPage="data:text/html,<script>alert(1)</script>",
        thumbnail="javascript:alert(1)",
    )
    run = services.document_ingest(data=data, source="file:hf.json")
    assert (run.status, run.new) == (FetchRun.Status.OK, 1)
    row = paper("2611.00001")
    assert (row.code_url, row.project_url, row.thumbnail_url) == ("", "", "")
    assert row.pdf_url == "https://arxiv.org/pdf/2611.00001"


def test_an_unsafe_link_never_replaces_a_good_one() -> None:
    services.document_ingest(data=hf_document(githubRepo="https://github.com/lab/code"), source="file:a")
    services.document_ingest(data=hf_document(githubRepo="javascript:alert(1)"), source="file:b")
    assert paper("2611.00001").code_url == "https://github.com/lab/code"


def test_a_link_too_long_to_store_is_dropped_not_a_failed_run() -> None:
    data = hf_document(githubRepo="https://github.com/" + "a" * 600)
    run = services.document_ingest(data=data, source="file:hf.json")
    assert (run.status, run.new) == (FetchRun.Status.OK, 1), run.error
    assert paper("2611.00001").code_url == ""


def test_the_migration_empties_unsafe_links_already_stored() -> None:
    good = PaperFactory(code_url="https://github.com/lab/code", project_url="HTTP://example.org/p")
    bad = PaperFactory()
    Paper.objects.filter(pk=bad.pk).update(
        abs_url="ftp://arxiv.example/abs",
        pdf_url="data:application/pdf;base64,JVBERi0=",
        hf_url=" javascript:alert(1)",
        code_url="javascript:alert(document.cookie)",
        project_url="vbscript:msgbox(1)",
        thumbnail_url="//evil.example/x.png",
    )
    migration = importlib.import_module("papers.migrations.0005_paper_links_http_only")
    migration.empty_unsafe_links(apps, None)
    bad.refresh_from_db()
    assert [getattr(bad, name) for name in migration.LINK_FIELDS] == [""] * 6
    good.refresh_from_db()
    assert (good.code_url, good.project_url) == ("https://github.com/lab/code", "HTTP://example.org/p")
