"""Server addresses as people type them, and the plain-http warning."""

from __future__ import annotations

import pytest

from desktop_rag.core.llm.server.address import (
    ServerAddressError,
    exposure_warning,
    is_private_host,
    parse_server_url,
)


@pytest.mark.parametrize(
    ("text", "base", "origin"),
    [
        ("gpu-box:8080", "http://gpu-box:8080/v1", "http://gpu-box:8080"),
        ("http://10.0.0.5:8080/v1", "http://10.0.0.5:8080/v1", "http://10.0.0.5:8080"),
        ("http://10.0.0.5:8080/v1/", "http://10.0.0.5:8080/v1", "http://10.0.0.5:8080"),
        ("  HTTPS://LLM.Example.org/ ", "https://llm.example.org/v1", "https://llm.example.org"),
        ("http://[::1]:8080", "http://[::1]:8080/v1", "http://[::1]:8080"),
        # Behind a reverse proxy: the path before /v1 stays.
        (
            "https://home.example/llama/v1",
            "https://home.example/llama/v1",
            "https://home.example/llama",
        ),
    ],
)
def test_parse_accepts_with_or_without_v1(text, base, origin):
    address = parse_server_url(text)
    assert address.base_url == base
    assert address.origin == origin


def test_default_ports_and_display():
    assert parse_server_url("https://llm.example.org").port == 443
    assert parse_server_url("http://box").port == 80
    assert parse_server_url("box:8080").display == "box:8080"
    assert parse_server_url("http://[::1]:9").display == "[::1]:9"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "No server address"),
        ("ftp://box:21", "not an http"),
        ("http://box:99999", "port"),
        ("http://:8080", "names no host"),
        ("http://box:8080/v1?x=1", "query"),
    ],
)
def test_parse_refuses_with_a_reason(text, reason):
    with pytest.raises(ServerAddressError, match=reason):
        parse_server_url(text)


@pytest.mark.parametrize(
    ("host", "resolved", "private"),
    [
        ("127.0.0.1", (), True),
        ("192.168.1.20", (), True),
        ("10.1.2.3", (), True),
        ("100.101.102.103", (), True),  # Tailscale's CGNAT range
        ("fe80::1", (), True),
        ("localhost", (), True),
        ("gpu-box", (), True),
        ("gpu-box.local", (), True),
        ("8.8.8.8", (), False),
        ("llm.example.org", (), False),
        ("llm.example.org", ("93.184.216.34",), False),
        ("nas.example.org", ("192.168.1.9",), True),
        ("mixed.example.org", ("192.168.1.9", "93.184.216.34"), False),
    ],
)
def test_private_hosts(host, resolved, private):
    assert is_private_host(host, resolved) is private


def test_plain_http_outside_private_ranges_warns():
    warning = exposure_warning(parse_server_url("http://llm.example.org:8080"), ["93.184.216.34"])
    assert warning is not None
    assert "llm.example.org:8080" in warning and "https://" in warning
    assert exposure_warning(parse_server_url("https://llm.example.org")) is None
    assert exposure_warning(parse_server_url("http://192.168.1.5:8080")) is None
