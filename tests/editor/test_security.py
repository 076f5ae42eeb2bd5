"""Every rule of the editor's guard, in both directions: Host (DNS rebinding), the
token-for-cookie exchange, bearer tokens, Origin on state-changing requests and
websockets, and secrets that never leave the server."""

from __future__ import annotations

import json

import pytest
from quart.testing import WebsocketResponseError

from tests.editor.conftest import BEARER, HOST, ORIGIN, PORT, TOKEN, Editor


async def signed_in(editor: Editor) -> str:
    """Open the token URL as a browser does; return the session cookie it set."""
    response = await editor.client.get(f"/?token={TOKEN}", headers={"Host": HOST})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    assert cookie.startswith(f"portless-{PORT}=")
    return cookie.split(";")[0]


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}",
                                  f"LOCALHOST:{PORT}"])
async def test_loopback_hosts_with_the_editor_port_are_allowed(
        editor: Editor, host: str) -> None:
    response = await editor.client.get("/api/nodes", headers={**BEARER, "Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1",
                                  "127.0.0.1:8080", f"192.168.1.20:{PORT}",
                                  f"127.0.0.1.nip.io:{PORT}", ""])
async def test_foreign_or_portless_hosts_are_refused(editor: Editor, host: str) -> None:
    """DNS rebinding: a foreign name pointed at 127.0.0.1 still says its own name."""
    response = await editor.client.get("/api/flow", headers={**BEARER, "Host": host})
    assert response.status_code == 403
    assert "is not this editor's address" in (await response.get_json())["error"]


async def test_api_without_credentials_is_401(editor: Editor) -> None:
    for path in ("/api/nodes", "/api/flow"):
        response = await editor.client.get(path, headers={"Host": HOST})
        assert response.status_code == 401
    page = await editor.client.get("/", headers={"Host": HOST})
    assert page.status_code == 401
    assert "token" in (await page.get_data(as_text=True))


async def test_wrong_token_and_wrong_cookie_are_401(editor: Editor) -> None:
    assert (await editor.client.get("/?token=guess", headers={"Host": HOST})).status_code == 401
    response = await editor.client.get("/api/flow", headers={
        "Host": HOST, "Authorization": "Bearer guess"})
    assert response.status_code == 401
    response = await editor.client.get("/api/flow", headers={
        "Host": HOST, "Cookie": f"portless-{PORT}=guess"})
    assert response.status_code == 401


async def test_token_is_exchanged_for_a_cookie_that_opens_the_api(editor: Editor) -> None:
    cookie = await signed_in(editor)
    assert TOKEN not in cookie  # the cookie is a separate session secret
    response = await editor.client.get("/api/flow", headers={"Host": HOST, "Cookie": cookie})
    assert response.status_code == 200
    page = await editor.client.get("/", headers={"Host": HOST, "Cookie": cookie})
    assert page.status_code == 200


async def test_static_files_need_no_sign_in_but_a_good_host(editor: Editor) -> None:
    ok = await editor.client.get("/static/index.html", headers={"Host": HOST})
    assert ok.status_code == 200
    bad = await editor.client.get("/static/index.html", headers={"Host": "evil.example"})
    assert bad.status_code == 403


async def test_cookie_writes_need_a_same_origin_origin(editor: Editor) -> None:
    cookie = await signed_in(editor)
    headers = {"Host": HOST, "Cookie": cookie}
    for origin in (None, "http://evil.example", f"http://localhost:{PORT}", "null"):
        sent = {**headers, **({"Origin": origin} if origin else {})}
        response = await editor.client.post("/api/nodes/counter/inject", headers=sent)
        assert response.status_code == 403, origin
        said = (await response.get_json())["error"]  # in words, not Python's None
        assert said.startswith(f"Origin {origin!r} is not" if origin else "no Origin header")
        assert f"this editor's origin ({ORIGIN})" in said
    response = await editor.client.post("/api/nodes/counter/inject",
                                        headers={**headers, "Origin": ORIGIN})
    assert response.status_code == 204


async def test_bearer_writes_need_no_origin(editor: Editor) -> None:
    response = await editor.client.post("/api/nodes/counter/inject", headers=BEARER)
    assert response.status_code == 204


async def test_cookie_reads_need_no_origin(editor: Editor) -> None:
    cookie = await signed_in(editor)
    response = await editor.client.get("/api/nodes", headers={"Host": HOST, "Cookie": cookie})
    assert response.status_code == 200


async def test_websocket_needs_credentials_and_same_origin(editor: Editor) -> None:
    cookie = await signed_in(editor)
    good = {"Host": HOST, "Cookie": cookie, "Origin": ORIGIN}
    async with editor.client.websocket("/api/ws", headers=good) as socket:
        frame = json.loads(await socket.receive())
    assert any(item["kind"] == "status" for item in frame) or frame == []
    refusals = [({"Host": HOST, "Cookie": cookie, "Origin": "http://evil.example"}, 403),
                ({"Host": HOST, "Cookie": cookie}, 403),
                ({**BEARER, "Origin": "http://evil.example"}, 403),
                ({"Host": "evil.example", "Cookie": cookie, "Origin": ORIGIN}, 403),
                ({"Host": HOST, "Origin": ORIGIN}, 401)]
    for headers, status in refusals:
        fresh = editor.app.test_client()  # no cookie jar from the sign-in above
        with pytest.raises(WebsocketResponseError) as refused:
            async with fresh.websocket("/api/ws", headers=headers) as socket:
                await socket.receive()
        assert refused.value.response.status_code == status, headers


async def test_secret_fields_are_never_sent_back(editor: Editor) -> None:
    response = await editor.client.get("/api/flow", headers=BEARER)
    text = await response.get_data(as_text=True)
    assert "s3cret-pw" not in text
    broker = next(n for n in json.loads(text)["nodes"] if n["id"] == "broker")
    assert broker["config"]["password"] == "\u2022" * 6


async def test_other_localhost_cookies_do_not_hide_the_session(editor: Editor) -> None:
    cookie = await signed_in(editor)
    fresh = editor.app.test_client()
    messy = f'prefs={{"a":1}}; theme=a b c; {cookie}; other=1'
    response = await fresh.get("/api/flow", headers={"Host": HOST, "Cookie": messy})
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "headers"), [
    ("/", BEARER), ("/api/flow", BEARER), ("/static/index.html", {"Host": HOST}),
    ("/", {"Host": HOST}), ("/api/flow", {"Host": "evil.example"}), ("/nothing", BEARER),
])
async def test_no_answer_may_be_framed_or_load_foreign_code(
        editor: Editor, path: str, headers: dict[str, str]) -> None:
    response = await editor.client.get(path, headers=headers)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_two_editors_on_two_ports_keep_their_own_sessions(editor: Editor) -> None:
    """Browsers send every 127.0.0.1 cookie to every port: a shared cookie name would let
    the second editor's sign-in overwrite the first one's session."""
    from portless.editor.app import create_app
    from portless.editor.flows import FlowService
    from portless.editor.stream import Hub

    other_port = PORT + 1
    other = create_app(FlowService(editor.path, editor.engine, editor.engine.registry),
                       Hub(editor.engine.events), port=other_port, token=TOKEN)
    other_host = f"127.0.0.1:{other_port}"
    answer = await other.test_client().get(f"/?token={TOKEN}", headers={"Host": other_host})
    other_cookie = answer.headers["Set-Cookie"].split(";")[0]
    cookie = await signed_in(editor)
    assert cookie.split("=")[0] != other_cookie.split("=")[0]
    both = f"{cookie}; {other_cookie}"  # what the browser sends to either port
    for app, host in ((editor.app, HOST), (other, other_host)):
        response = await app.test_client().get("/api/flow",
                                               headers={"Host": host, "Cookie": both})
        assert response.status_code == 200
    # and each editor takes only its own port's cookie
    response = await other.test_client().get("/api/flow",
                                             headers={"Host": other_host, "Cookie": cookie})
    assert response.status_code == 401
