"""Reading ISO 20022 XML (camt, pain) with the standard library, namespace-agnostically.

Each version of a message has its own namespace (camt.053.001.02 ... .08) while the element
names we read are the same, so namespaces are stripped after parsing and remembered once.
A document type declaration is refused: ISO 20022 messages never carry one, and refusing it
shuts out entity-expansion and external-entity tricks before they start.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime

from reconciliation.formats.errors import StatementError
from reconciliation.formats.money import parse_plain

_MESSAGE = re.compile(r"(?:^|:)((?:camt|pain|pacs)\.\d{3}\.\d{3}\.\d{2})$")


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeFound


class _DoctypeFound(Exception):
    pass


@dataclass(frozen=True)
class Document:
    """A parsed message: its root `Document` element with bare tag names, and what it is."""

    root: ET.Element
    namespace: str | None
    message: str | None  # e.g. "camt.053.001.02", from the namespace; None when it has none


def load(data: bytes, name: str) -> Document:
    """Parse XML bytes into a namespace-free tree; StatementError for anything that is not XML."""
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except _DoctypeFound:
        raise StatementError(f"{name}: XML with a document type declaration (<!DOCTYPE>) is refused; "
                             "ISO 20022 messages have none") from None
    except ET.ParseError as e:
        line, col = e.position
        reason = str(e).split(":")[0]
        raise StatementError(f"{name}: not well-formed XML at line {line}, column {col}: {reason} "
                             "(a truncated or damaged file?)") from None
    namespace = None
    if root.tag.startswith("{"):
        namespace = root.tag[1:].split("}", 1)[0]
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    m = _MESSAGE.search(namespace or "")
    return Document(root=root, namespace=namespace, message=m.group(1) if m else None)


# What each message body is, to say so when the wrong format was asked for.
OTHER_BODIES = {
    "BkToCstmrStmt": "a camt.053 bank statement (use format camt053)",
    "BkToCstmrDbtCdtNtfctn": "a camt.054 debit/credit notification (use format camt054)",
    "BkToCstmrAcctRpt": "a camt.052 account report (not supported)",
    "CstmrPmtStsRpt": "a pain.002 payment status report (use format pain002)",
}


def message_body(data: bytes, name: str, *, body_tag: str, family: str, what: str) -> tuple[Document, ET.Element]:
    """Load an ISO 20022 file and return it with its message body, refusing any other kind of message.

    family is the message family the namespace must name ("camt.053"), what the phrase for errors
    ("camt.053 statement").
    """
    doc = load(data, name)
    root = doc.root
    body = root[0] if len(root) else None
    if root.tag != "Document" or body is None:
        raise StatementError(f"{name}: not an ISO 20022 message: the root element is <{root.tag}>, "
                             "expected <Document> around the message")
    if body.tag != body_tag:
        other = OTHER_BODIES.get(body.tag, f"an ISO 20022 <{body.tag}> message")
        raise StatementError(f"{name}: this is {other}, not a {what}")
    if doc.message and not doc.message.startswith(family):
        raise StatementError(f"{name}: the namespace says {doc.message}, but the body is a {what}")
    return doc, body


def text(el: ET.Element | None, path: str) -> str | None:
    """Stripped text at `path` under `el`; None when absent or blank."""
    if el is None:
        return None
    found = el.find(path)
    if found is None or found.text is None:
        return None
    value = " ".join(found.text.split())
    return value or None


def texts(el: ET.Element | None, path: str) -> list[str]:
    """Every non-blank stripped text at `path` under `el`, in document order."""
    if el is None:
        return []
    out = []
    for found in el.findall(path):
        value = " ".join((found.text or "").split())
        if value:
            out.append(value)
    return out


def first(el: ET.Element | None, *paths: str) -> str | None:
    """The first of several paths that has text."""
    for path in paths:
        value = text(el, path)
        if value is not None:
            return value
    return None


def amount(el: ET.Element | None, where: str) -> tuple[int, str | None] | None:
    """An `<Amt Ccy="EUR">8.85</Amt>` element -> (minor units, currency); None when absent.

    Raises ValueError (with `where` in the message) for a malformed or over-precise amount.
    """
    if el is None:
        return None
    currency = (el.get("Ccy") or "").strip() or None
    try:
        return parse_plain(el.text, currency), currency
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def sign(indicator: str | None, where: str) -> int:
    """CRDT -> +1, DBIT -> -1; ValueError for anything else."""
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    raise ValueError(f"{where}: <CdtDbtInd> is {indicator!r}, expected CRDT or DBIT")


def day(el: ET.Element | None, where: str) -> date | None:
    """A date group (`<Dt>` or `<DtTm>` child, or the element's own text) -> date as written."""
    if el is None:
        return None
    value = first(el, "Dt", "DtTm") or " ".join((el.text or "").split()) or None
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        # A date-time's business date is the one written, in the offset it was written in.
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO date") from None


def count(root: ET.Element, tag: str) -> int:
    """How many elements named `tag` the whole document holds, wherever they are."""
    return sum(1 for _ in root.iter(tag))


def integer(el: ET.Element | None, path: str) -> int | None:
    """A whole number at `path` (a count such as NbOfTxs), or None when absent or not a number."""
    value = text(el, path)
    return int(value) if value is not None and value.isdigit() else None
