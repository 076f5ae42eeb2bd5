"""The remote editor's Deploy, on the engineer's side: the page's document and the
device's other flow files become a bundle with the next version, signed here with the
engineer's key (which never leaves this machine), and sent with the ETag of every file
it was made from, so that the device refuses it (412) when any changed meanwhile.

A deploy the device took is also made its retained desired state: a reconnect then
hands the device what it runs, not an older bundle it would refuse as a downgrade.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from portless.runtime import FlowInvalid, canonical_text, safe_json
from portless.runtime.flow import placed_problems

from .bundle import Bundle, BundleFile, BundleRefused, sign
from .remote_link import RemoteLink, Reply

DEPLOY_SECONDS = 120.0
"""How long a deploy may take on the device (checks, node starts, a health gate)."""


async def deploy_page(link: RemoteLink, tab: str | None, body: bytes,
                      if_match: str | None) -> Reply:
    """Deploy the page's ``body`` as tab ``tab`` (its name; None: the first tab), as the
    local editor's PUT /api/flow or /api/tabs/NAME answers."""
    if if_match is None:
        return Reply(428, None, {"error": "send the ETag of the file's GET in If-Match"})
    listing = await link.request("http", method="GET", path="/api/tabs", body=None,
                                 if_match=None)
    if listing.status != 200:
        return listing
    tabs: list[dict[str, Any]] = listing.body["tabs"]
    target = tabs[0] if tab is None else next((t for t in tabs if t["name"] == tab), None)
    if target is None:
        return Reply(404, None, {"error": f"no tab named {tab!r}"})
    try:
        document = safe_json.parse(body)
    except safe_json.JsonProblems as exc:
        return _errors(placed_problems(exc, target["file"]))
    except ValueError as exc:
        return Reply(400, None, {"error": f"the request body is not JSON: {exc}"})
    files, etags = [], {}
    for entry in tabs:
        name = PurePosixPath(entry["file"]).name
        if entry is target:
            files.append(BundleFile(name, _text(document)))
            etags[name] = if_match
            continue
        read = await link.request("http", method="GET", body=None, if_match=None,
                                  path=f"/api/tabs/{quote(entry['name'], safe='')}")
        if read.status != 200:
            return read
        files.append(BundleFile(name, _text(read.body)))
        etags[name] = read.etag or ""
    hello = await link.request("hello")
    running = hello.body.get("running") if isinstance(hello.body, dict) else None
    version = (running["version"] if running else 0) + 1
    try:
        data = sign(Bundle(version=version, files=tuple(files)), link.key)
    except BundleRefused as exc:
        return Reply(400, None, {"error": f"cannot make a bundle of this flow: {exc}"})
    reply = await link.request("deploy", timeout=DEPLOY_SECONDS,
                               tab=PurePosixPath(target["file"]).name, if_match=etags,
                               bundle=data.decode("utf-8"))
    if reply.status == 200:
        link.publish_desired(data)
    return reply


def _text(document: Any) -> str:
    """A flow file's text as the device will write it: canonical, or (a document too
    broken for that) as sent, for the device's checks to name what is wrong."""
    try:
        return canonical_text(document)
    except (TypeError, ValueError, KeyError, AttributeError):
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _errors(exc: FlowInvalid) -> Reply:
    from portless.editor.answers import errors_body

    return Reply(400, None, errors_body(exc))
