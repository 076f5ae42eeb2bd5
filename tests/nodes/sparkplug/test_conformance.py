"""The assertion list in docs/sparkplug.md is current, and every ``tck`` mark names an
assertion the specification has."""

from __future__ import annotations

from tests.nodes.sparkplug import conformance
from tests.nodes.sparkplug.tck_assertions import ASSERTIONS


def test_every_mark_names_a_specification_assertion() -> None:
    known = {tck_id for ids in ASSERTIONS.values() for tck_id in ids}
    assert set(conformance.tested()) - known == set()


def test_no_assertion_is_listed_twice() -> None:
    ids = [tck_id for chapter in ASSERTIONS.values() for tck_id in chapter]
    assert len(ids) == len(set(ids))


def test_docs_list_every_assertion_with_its_status_today() -> None:
    document = conformance.DOC.read_text()
    assert conformance.render(document) == document, \
        "run: python -m tests.nodes.sparkplug.conformance"
