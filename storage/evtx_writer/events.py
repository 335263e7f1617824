"""Event types: what one kind of event looks like (provider, channel, ids, data layout).

An `EventType` fixes everything about an event except its per-record values, and maps to
BinXML templates the way Windows does: one template for the whole `<Event>` (System +
EventData), or, for `UserData` events (LSM, RCM, Eventlog), an outer template whose UserData is
one BinXML substitution holding a nested template instance. Knows nothing of chunks or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .binxml import Elem, Sub, Template
from .values import VT

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
N_SYSTEM = 18  # substitutions 0..17 are System values; data values follow


@dataclass(frozen=True)
class Field:
    """One data value: `<Data Name="name">` (EventData) or `<name>` (UserData child)."""

    name: str | None
    vtype: int = VT.STRING
    tag: str = "Data"


@dataclass(frozen=True)
class Layout:
    """The shape of EventData or UserData. UserData has a root element (e.g. EventXML)."""

    kind: str  # "EventData" | "UserData"
    fields: tuple[Field, ...] = ()
    root: str = "EventXML"
    xmlns: str | None = "Event_NS"

    @property
    def names(self) -> tuple[str | None, ...]:
        return tuple(f.name if self.kind == "EventData" else f.tag for f in self.fields)


def event_data(*fields: tuple[str, int] | str) -> Layout:
    """EventData layout from (name, type) pairs; a bare name means a string."""
    out = []
    for f in fields:
        name, vtype = (f, VT.STRING) if isinstance(f, str) else f
        out.append(Field(name, vtype))
    return Layout("EventData", tuple(out))


def user_data(root: str, xmlns: str | None, *fields: tuple[str, int] | str) -> Layout:
    """UserData layout: `<root xmlns=...>` with one child element per field."""
    out = []
    for f in fields:
        tag, vtype = (f, VT.STRING) if isinstance(f, str) else f
        out.append(Field(None, vtype, tag))
    return Layout("UserData", tuple(out), root, xmlns)


def _system() -> Elem:
    s = Sub
    return Elem(
        "System",
        children=(
            Elem(
                "Provider", attrs=(("Name", s(14, VT.STRING, True)), ("Guid", s(15, VT.GUID, True)))
            ),
            Elem(
                "EventID",
                attrs=(("Qualifiers", s(4, VT.UINT16, True)),),
                children=(s(3, VT.UINT16, True),),
            ),
            Elem("Version", children=(s(11, VT.UINT8, True),)),
            Elem("Level", children=(s(0, VT.UINT8, True),)),
            Elem("Task", children=(s(2, VT.UINT16, True),)),
            Elem("Opcode", children=(s(1, VT.UINT8, True),)),
            Elem("Keywords", children=(s(5, VT.HEX64, True),)),
            Elem("TimeCreated", attrs=(("SystemTime", s(6, VT.FILETIME, True)),)),
            Elem("EventRecordID", children=(s(10, VT.UINT64, True),)),
            Elem(
                "Correlation",
                attrs=(
                    ("ActivityID", s(7, VT.GUID, True)),
                    ("RelatedActivityID", s(13, VT.GUID, True)),
                ),
            ),
            Elem(
                "Execution",
                attrs=(("ProcessID", s(8, VT.UINT32, True)), ("ThreadID", s(9, VT.UINT32, True))),
            ),
            Elem("Channel", children=(s(16, VT.STRING, True),)),
            Elem("Computer", children=(s(17, VT.STRING, True),)),
            Elem("Security", attrs=(("UserID", s(12, VT.SID, True)),)),
        ),
    )


_SYSTEM = _system()
_TEMPLATES: dict[Layout, tuple[Template, Template | None]] = {}


def templates_for(layout: Layout) -> tuple[Template, Template | None]:
    """(outer template, nested UserData template or None), built once per layout."""
    got = _TEMPLATES.get(layout)
    if got is not None:
        return got
    if layout.kind == "EventData":
        children = tuple(
            Elem(
                f.tag,
                attrs=(("Name", f.name),) if f.name is not None else (),
                children=(Sub(N_SYSTEM + i, f.vtype),),
            )
            for i, f in enumerate(layout.fields)
        )
        body = Elem("EventData", children=children)
        outer = Template.build(Elem("Event", (("xmlns", EVENT_NS),), (_SYSTEM, body)))
        got = (outer, None)
    elif layout.kind == "UserData":
        body = Elem("UserData", children=(Sub(N_SYSTEM, VT.BINXML),))
        outer = Template.build(Elem("Event", (("xmlns", EVENT_NS),), (_SYSTEM, body)))
        attrs = (("xmlns", layout.xmlns),) if layout.xmlns else ()
        inner_root = Elem(
            layout.root,
            attrs,
            tuple(Elem(f.tag, children=(Sub(i, f.vtype),)) for i, f in enumerate(layout.fields)),
        )
        got = (outer, Template.build(inner_root))
    else:
        raise ValueError(f"layout kind must be EventData or UserData, not {layout.kind!r}")
    _TEMPLATES[layout] = got
    return got


@dataclass(frozen=True)
class EventType:
    """Everything about one kind of event but the per-record values."""

    provider: str
    provider_guid: str | None
    channel: str
    event_id: int
    layout: Layout = field(default_factory=lambda: Layout("EventData"))
    version: int | None = 0
    level: int = 4
    task: int = 0
    opcode: int | None = 0
    keywords: int = 0x8000000000000000
    qualifiers: int | None = None
