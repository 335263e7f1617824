"""python-evtx's record XML as the evtx package's JSON shape, so both parsers feed one
normaliser. Values stay exact; characters XML cannot hold are kept (see `xml_to_event`)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

_NS = re.compile(r"^\{[^}]*\}")


def _tag(element: ElementTree.Element) -> str:
    return _NS.sub("", element.tag)


# Characters XML 1.0 cannot hold, which python-evtx writes as they are (a NUL inside a name).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_to_event(xml: str) -> dict[str, Any]:
    """The record as the evtx package's JSON shape. Characters XML cannot hold are parked on
    private-use characters absent from the record for the parse, then put back: a NUL inside
    a string is kept, not a reason to lose the record."""
    found: list[str] = sorted(set(_XML_INVALID.findall(xml)))
    if not found:
        return _event(ElementTree.fromstring(xml))
    free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in xml)
    park: dict[int, str] = {ord(ch): next(free) for ch in found}
    back = {ord(spot): chr(ch) for ch, spot in park.items()}
    event: dict[str, Any] = _restore(_event(ElementTree.fromstring(xml.translate(park))), back)
    return event


def _restore(value: Any, back: dict[int, str]) -> Any:
    if isinstance(value, str):
        return value.translate(back)
    if isinstance(value, dict):
        return {key.translate(back): _restore(item, back) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, back) for item in value]
    return value


def _event(root: ElementTree.Element) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for section in root:
        name = _tag(section)
        if name == "System":
            event["System"] = {_tag(c): _element_value(c) for c in section}
        elif name == "EventData":
            event["EventData"] = _event_data(section)
        else:
            event[name] = {_tag(c): _element_value(c) for c in section}
    return event


def _event_data(section: ElementTree.Element) -> dict[str, Any] | None:
    named: dict[str, Any] = {}
    unnamed: list[str | None] = []
    for child in section:
        key = child.get("Name")
        if key is not None:
            named[key] = child.text
        else:
            unnamed.append(child.text)
    if unnamed:
        named["Data"] = unnamed if len(unnamed) > 1 else unnamed[0]
    return named or None


def _element_value(element: ElementTree.Element) -> Any:
    attributes = {k: v for k, v in element.attrib.items() if v != ""}
    children = list(element)
    if children:
        value: dict[str, Any] = {_tag(c): _element_value(c) for c in children}
        if attributes:
            value["#attributes"] = attributes
        return value
    text = element.text
    if attributes and text is not None:
        return {"#attributes": attributes, "#text": text}
    if attributes:
        return {"#attributes": attributes}
    return text
