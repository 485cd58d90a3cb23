"""The client's address behind proxies: only what a trusted proxy wrote is believed, and it is checked."""

from __future__ import annotations

import pytest
from django.core.checks import Error, Warning
from django.test import RequestFactory

from subscribers.checks import check_client_ip_settings
from subscribers.models import ConsentRecord, Subscriber
from subscribers.ratelimit import client_bucket, client_ip

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"  # REMOTE_ADDR when a request comes through the proxy
SIGNUP = {"topics": ["llm"], "cadence": "daily", "timezone": "UTC", "send_hour": "7"}


def _ip(settings, forwarded: str | None, *, proxies: int, remote: str = PROXY) -> str | None:
    settings.TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_it_trusts_no_header_by_default(settings) -> None:
    assert _ip(settings, "198.51.100.7", proxies=0) == PROXY


def test_it_takes_the_address_the_trusted_proxy_appended_not_the_forged_ones(settings) -> None:
    assert _ip(settings, "6.6.6.6, 198.51.100.7", proxies=1) == "198.51.100.7"
    assert _ip(settings, "6.6.6.6, 7.7.7.7, 198.51.100.7, 10.0.0.9", proxies=2) == "198.51.100.7"


@pytest.mark.parametrize("forwarded", ["junk", "6.6.6.6, junk", "", None, "300.1.1.1", "6.6.6.6,"])
def test_anything_but_an_address_falls_back_to_remote_addr(settings, forwarded: str | None) -> None:
    assert _ip(settings, forwarded, proxies=1) == PROXY


def test_a_header_shorter_than_the_proxy_chain_falls_back_to_remote_addr(settings) -> None:
    assert _ip(settings, "198.51.100.7", proxies=2) == PROXY


def test_it_writes_addresses_in_one_form(settings) -> None:
    assert _ip(settings, " 2001:DB8::1 ", proxies=1) == "2001:db8::1"
    assert _ip(settings, "::ffff:198.51.100.7", proxies=1) == "198.51.100.7"
    assert _ip(settings, "fe80::1%eth0", proxies=1) == "fe80::1"


def test_an_ipv6_client_is_counted_by_its_64_network(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    other = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert client_bucket(one) == client_bucket(other) == "2001:db8:1:2::/64"
    assert client_bucket(RequestFactory().get("/", REMOTE_ADDR="198.51.100.7")) == "198.51.100.7"


def test_forged_forwarded_addresses_neither_pass_the_limit_nor_reach_the_consent_record(
    client, settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_SIGNUPS_PER_IP = "5/h"
    codes = [
        client.post(
            "/subscribe/",
            {"email": f"p{n}@example.org", **SIGNUP},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.66",  # the proxy appends the real one
        ).status_code
        for n in range(30)
    ]
    assert codes == [302] * 5 + [429] * 25
    assert set(ConsentRecord.objects.values_list("submitted_ip", flat=True)) == {"198.51.100.66"}


def test_junk_forwarded_values_do_not_share_a_bucket_with_innocent_clients(client, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_SIGNUPS_PER_IP = "3/h"
    for n in range(10):
        client.post(
            "/subscribe/",
            {"email": f"p{n}@example.org", **SIGNUP},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"junk{n}, 198.51.100.66",
        )
    innocent = client.post(
        "/subscribe/",
        {"email": "ada@example.org", **SIGNUP},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert innocent.status_code == 302
    assert Subscriber.objects.filter(email="ada@example.org").exists()


def test_the_checks_refuse_a_header_that_is_not_a_meta_key_and_a_negative_count(settings) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    assert [(type(m), m.id) for m in check_client_ip_settings()] == [(Error, "papermail.E101")]
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.TRUSTED_PROXY_COUNT = -1
    assert [(type(m), m.id) for m in check_client_ip_settings()] == [(Error, "papermail.E102")]


def test_the_checks_warn_when_the_proxy_count_was_assumed_from_the_old_setting(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_COUNT_ASSUMED = True
    assert [(type(m), m.id) for m in check_client_ip_settings()] == [(Warning, "papermail.W101")]
    settings.TRUSTED_PROXY_COUNT_ASSUMED = False
    assert check_client_ip_settings() == []


def test_the_old_setting_alone_still_works_behind_one_proxy(tmp_path) -> None:
    from tests.test_settings import show

    setting = "(settings.TRUSTED_PROXY_COUNT, settings.TRUSTED_PROXY_COUNT_ASSUMED)"
    assert show(setting, {"CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR"}, tmp_path) == "(1, True)"
    assert show(setting, {}, tmp_path) == "(0, False)"
    assert show(setting, {"TRUSTED_PROXY_COUNT": "2"}, tmp_path) == "(2, False)"
