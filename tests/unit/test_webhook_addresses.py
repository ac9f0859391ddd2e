"""A webhook URL cannot make the notifier call into the network it runs in, however the address is
spelt and whatever a name resolves to at the moment of connecting."""

import pytest
from aiohttp import web

from services.notifier.webhooks import sending
from services.notifier.webhooks.addresses import GuardedResolver
from services.notifier.webhooks.worker import url_refusal

STRICT = {"allow_http_loopback": False, "allow_private": False}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback_address"),
        ("https://2130706433/hook", "loopback_address"),  # 127.0.0.1 as one decimal number
        ("https://0x7f000001/hook", "loopback_address"),  # ... as one hex number
        ("https://127.1/hook", "loopback_address"),  # ... with the middle parts left out
        ("https://0177.0.0.1/hook", "loopback_address"),  # ... in octal
        ("https://[::1]/hook", "loopback_address"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback_address"),  # IPv4-mapped
        ("https://169.254.169.254/latest/meta-data", "link_local_address"),
        ("https://[64:ff9b::a9fe:a9fe]/hook", "link_local_address"),  # the same, through NAT64
        ("https://100.100.100.200/hook", "link_local_address"),  # Alibaba Cloud's metadata
        ("https://10.0.0.7/hook", "private_address"),
        ("https://192.168.1.1/hook", "private_address"),
        ("https://100.64.0.1/hook", "private_address"),  # carrier-grade NAT space
        ("https://[fd00::1]/hook", "private_address"),
        ("https://0.0.0.0/hook", "reserved_address"),
        ("https://224.0.0.1/hook", "reserved_address"),
        ("http://provider.example/hook", "not_https"),
    ],
)
def test_every_spelling_of_an_address_it_may_not_reach_is_refused(url: str, reason: str) -> None:
    assert url_refusal(url, **STRICT) == reason


def test_metadata_addresses_stay_refused_even_where_private_networks_are_allowed() -> None:
    allowed = {"allow_http_loopback": True, "allow_private": True}
    assert url_refusal("https://10.0.0.7/hook", **allowed) is None
    assert url_refusal("https://169.254.169.254/", **allowed) == "link_local_address"
    assert url_refusal("https://provider.example/hook", **STRICT) is None


async def test_a_name_that_resolves_to_loopback_is_refused_when_connecting_and_nothing_is_sent(
    unused_tcp_port: int,
) -> None:
    hits: list[str] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        url = f"http://localhost:{unused_tcp_port}/hook"  # a name, as a rebinding attack would use
        guarded = GuardedResolver(allow_loopback=False, allow_private=False)
        async with sending.session(1, 5, guarded) as client:
            answer = await sending.post(client, url, b"{}", {}, 100)
        assert (answer.status, answer.error, hits) == (None, "loopback_address", [])

        trusting = GuardedResolver(allow_loopback=True, allow_private=False)
        async with sending.session(1, 5, trusting) as client:
            answer = await sending.post(client, url, b"{}", {}, 100)
        assert (answer.status, hits) == (204, ["/hook"])
    finally:
        await runner.cleanup()
