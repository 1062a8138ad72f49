"""The URL policy: what check_url refuses before any connection, and what resolve refuses after DNS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from images.importer.errors import DOWNLOAD_FAILED, FetchFailed, UrlRejected
from images.importer.policy import ImportPolicy, check_url, is_public_address, redact_url, resolve

STORAGE = ImportPolicy(allowed_hosts=("storage.yandexcloud.net",))
LOCAL = ImportPolicy(
    allowed_hosts=("storage.yandexcloud.net", "127.0.0.1:8080", "[::1]:8443"), allow_http=True
)


def test_check_url_accepts_an_allowed_https_host_and_keeps_the_query_for_the_request_only():
    target = check_url("https://storage.yandexcloud.net/bucket/disk.qcow2?X-Amz-Signature=abc", STORAGE)
    assert (target.scheme, target.host, target.port) == ("https", "storage.yandexcloud.net", 443)
    assert target.path_and_query == "/bucket/disk.qcow2?X-Amz-Signature=abc"
    assert target.display_url == "https://storage.yandexcloud.net/bucket/disk.qcow2"
    assert not target.is_address


@pytest.mark.parametrize(
    "url",
    [
        "https://STORAGE.yandexcloud.net/b/k",
        "https://storage.yandexcloud.net:443/b/k",
        "HTTPS://storage.yandexcloud.net/b/k",
        "https://storage.yandexcloud.net",
        "https://storage.yandexcloud.net?x=1",
    ],
)
def test_check_url_accepts_spellings_of_the_same_allowed_host(url):
    target = check_url(url, STORAGE)
    assert (target.host, target.port) == ("storage.yandexcloud.net", 443)
    assert target.path_and_query.startswith("/")


def test_check_url_allows_plain_http_only_when_configured():
    with pytest.raises(UrlRejected, match="only https URIs are accepted"):
        check_url("http://storage.yandexcloud.net/b/k", STORAGE)
    allowed = ImportPolicy(allowed_hosts=("storage.yandexcloud.net",), allow_http=True)
    assert check_url("http://storage.yandexcloud.net/b/k", allowed).port == 80


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://storage.yandexcloud.net/b/k", "only https"),
        ("file:///etc/passwd", "only https"),
        ("gopher://storage.yandexcloud.net/", "only https"),
        ("storage.yandexcloud.net/b/k", "only https"),
        ("https:/storage.yandexcloud.net/b/k", "only https"),
        ("", "empty"),
        ("https://example.com/b/k", "not in the import allowlist"),
        ("https://storage.yandexcloud.net.evil.com/b/k", "not in the import allowlist"),
        ("https://evil-storage.yandexcloud.net/b/k", "not in the import allowlist"),
        ("https://yandexcloud.net/b/k", "not in the import allowlist"),
        ("https://storage.yandexcloud.net:8443/b/k", "not in the import allowlist"),
        ("https://storage.yandexcloud.net:80/b/k", "not in the import allowlist"),
        ("https://storage.yandexcloud.net./b/k", "not a valid host name"),
        ("https://user@storage.yandexcloud.net/b/k", "user name or password"),
        ("https://user:pw@storage.yandexcloud.net/b/k", "user name or password"),
        ("https://storage.yandexcloud.net@evil.com/b/k", "user name or password"),
        ("https://evil.com#@storage.yandexcloud.net/b/k", "fragment"),
        ("https://storage.yandexcloud.net/b/k#frag", "fragment"),
        ("https://storage.yandexcloud.net\\@evil.com/b/k", "backslashes"),
        ("https://storage.yandexcloud.net/b\\k", "backslashes"),
        ("https://storage.yandexcloud.net/b k", "spaces or control characters"),
        ("https://storage.yandexcloud.net/b/k\r\nHost: evil", "spaces or control characters"),
        ("https://storage.yandexcloud.net\t/b/k", "spaces or control characters"),
        ("https://storage.yandexcloud.net/b/k\x00", "spaces or control characters"),
        ("https://storage.yandexcloud.net/b/k\x7f", "spaces or control characters"),
        (" https://storage.yandexcloud.net/b/k", "spaces or control characters"),
        ("https://stоrage.yandexcloud.net/b/k", "must be ASCII"),  # Cyrillic о
        ("https://storage.yandexcloud.net/диск", "must be ASCII"),
        ("https://xn--strage-3ve.yandexcloud.net/b/k", "not in the import allowlist"),
        ("https://%73torage.yandexcloud.net/b/k", "not a valid host name"),
        ("https://storage.yandexcloud.net:0/b/k", "port is not valid"),
        ("https://storage.yandexcloud.net:65536/b/k", "port is not valid"),
        ("https://storage.yandexcloud.net:0443/b/k", "port is not valid"),
        ("https://storage.yandexcloud.net:+443/b/k", "port is not valid"),
        ("https://storage.yandexcloud.net:/b/k", "port is not valid"),
        ("https://storage.yandexcloud.net:443:443/b/k", "host is not valid"),
        ("https:///b/k", "has no host"),
        ("https://" + "a" * 9000 + ".net/", "longer than"),
    ],
)
def test_check_url_refuses(url, reason):
    with pytest.raises(UrlRejected) as refused:
        check_url(url, STORAGE)
    assert reason in refused.value.message


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0x7F000001",
        "127.1",
        "127.0.1",
        "0177.0.0.1",
        "0177.1",
        "0x7f.0.0.1",
        "017700000001",
        "127.0.0.1.",
        "127.000.000.001",
        "169.254.169.254",
        "10.0.0.1",
        "8.8.8.8",
        "0",
        "256.0.0.1",
        "1.2.3.4.5",
        "example.123",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:ffff:127.0.0.1]",
        "[::127.0.0.1]",
        "[fe80::1%25eth0]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
    ],
)
def test_check_url_refuses_ip_literals_in_every_spelling(host):
    for policy in (STORAGE, LOCAL):
        with pytest.raises(UrlRejected) as refused:
            check_url(f"https://{host}:9999/disk.img", policy)
        assert "IP addresses" in refused.value.message or "IPv6" in refused.value.message


def test_check_url_accepts_an_ip_literal_only_with_the_exact_allowlisted_address_and_port():
    target = check_url("http://127.0.0.1:8080/disk.img?sig=1", LOCAL)
    assert (target.host, target.port, target.is_address) == ("127.0.0.1", 8080, True)
    assert check_url("http://[::1]:8443/disk.img", LOCAL).host == "::1"
    for url in (
        "http://127.0.0.1/disk.img",
        "http://127.0.0.1:8081/disk.img",
        "http://127.1:8080/disk.img",
        "http://2130706433:8080/disk.img",
        "http://[::ffff:127.0.0.1]:8080/disk.img",
        "http://[::1]:8080/disk.img",
        "http://localhost:8080/disk.img",
    ):
        with pytest.raises(UrlRejected):
            check_url(url, LOCAL)


@pytest.mark.parametrize(
    "entry",
    ["127.0.0.1", "127.1:8080", "2130706433:80", "[::1]", "[0::1]:80", "host:99999", "bad_host", "a b"],
)
def test_policy_refuses_allowlist_entries_it_could_not_honour_exactly(entry):
    with pytest.raises(ValueError):
        ImportPolicy(allowed_hosts=(entry,))


def test_policy_from_settings_reads_the_configuration(settings):
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = ["storage.yandexcloud.net", "mirror.example.com:8443"]
    settings.IMAGESERVICE_IMPORT_ALLOW_HTTP = False
    settings.IMAGESERVICE_IMPORT_MAX_BYTES = 12345
    policy = ImportPolicy.from_settings()
    assert policy.max_bytes == 12345 and policy.allow_http is False
    assert check_url("https://mirror.example.com:8443/x", policy).port == 8443
    with pytest.raises(UrlRejected):
        check_url("https://mirror.example.com/x", policy)


def test_policy_from_settings_names_the_setting_when_an_entry_is_wrong(settings):
    settings.IMAGESERVICE_IMPORT_ALLOWED_HOSTS = ["10.0.0.5"]
    with pytest.raises(ImproperlyConfigured, match="IMAGESERVICE_IMPORT_ALLOWED_HOSTS.*needs a port"):
        ImportPolicy.from_settings()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://storage.yandexcloud.net/b/k.qcow2?X-Amz-Signature=SECRET",
            "https://storage.yandexcloud.net/b/k.qcow2",
        ),
        ("https://user:SECRET@storage.yandexcloud.net/b/k", "https://storage.yandexcloud.net/b/k"),
        ("https://user:SE?CRET@host/b/k?q=SECRET", "https://<invalid host>"),
        ("https://host?x@evil/z", "https://host"),
        ("https://host/a@b/c?SECRET", "https://host/a@b/c"),
        ("https://host/b/k#SECRET", "https://host/b/k"),
        ("https://host:8443/p%20q?SECRET", "https://host:8443/p%20q"),
        ("https://host/a\r\nb?SECRET", "https://host/a%0D%0Ab"),
        ("not a url SECRET", "<invalid URI>"),
        ("https://SE CRET/x", "https://<invalid host>/x"),
    ],
)
def test_redact_url_drops_query_fragment_and_user_information(url, shown):
    assert redact_url(url) == shown
    assert "SECRET" not in redact_url(url)


# --- DNS: resolve() with an injected resolver ---------------------------------------------------


def resolver_for(*addresses):
    calls = []

    def resolver(host, port):
        calls.append((host, port))
        return list(addresses)

    resolver.calls = calls
    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.3.2.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address a DNS answer may hold, not a bind
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "2002:7f00:1::1",
        "2002:a00:1::1",
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "2001::1",
        "ff02::1",
    ],
)
def test_resolve_refuses_a_host_name_that_resolves_to_a_non_public_address(address, caplog):
    target = check_url("https://storage.yandexcloud.net/b/k?sig=SECRET", STORAGE)
    with pytest.raises(FetchFailed) as failed:
        resolve(target, STORAGE, resolver_for(address))
    assert failed.value.message == DOWNLOAD_FAILED
    assert "non-public" in failed.value.detail
    assert "SECRET" not in caplog.text


def test_resolve_refuses_when_any_answer_is_not_public():
    target = check_url("https://storage.yandexcloud.net/b/k", STORAGE)
    with pytest.raises(FetchFailed):
        resolve(target, STORAGE, resolver_for("213.180.193.243", "10.0.0.1"))


@pytest.mark.parametrize("address", ["213.180.193.243", "8.8.8.8", "2a02:6b8::1:2", "64:ff9b::808:808"])
def test_resolve_returns_the_checked_public_address(address):
    resolver = resolver_for(address, "213.180.204.1")
    target = check_url("https://storage.yandexcloud.net/b/k?sig=1", STORAGE)
    assert resolve(target, STORAGE, resolver) == address
    assert resolver.calls == [("storage.yandexcloud.net", 443)]


def test_resolve_fails_cleanly_when_dns_fails():
    def broken(host, port):
        raise OSError("Name or service not known")

    target = check_url("https://storage.yandexcloud.net/b/k", STORAGE)
    with pytest.raises(FetchFailed) as failed:
        resolve(target, STORAGE, broken)
    assert failed.value.message == DOWNLOAD_FAILED
    with pytest.raises(FetchFailed):
        resolve(target, STORAGE, resolver_for())


def test_resolve_uses_an_allowlisted_ip_literal_as_is_without_dns():
    resolver = resolver_for("8.8.8.8")
    target = check_url("http://127.0.0.1:8080/disk.img", LOCAL)
    assert resolve(target, LOCAL, resolver) == "127.0.0.1"
    assert resolver.calls == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:808:808::1", True),
        ("nonsense", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public
