"""python-evtx's record XML, rendered with each template walked once per chunk.

`Record.xml()` re-walks the record's template node by node for every record (~100 records/s),
which made the fallback parser the slowest step of an ingest that needs it. The walk below is
python-evtx's own (`Views.render_root_node_with_subs`, node for node and with its escaping and
name checks) but it stops at each substitution: the walked template is kept as text segments
and substitution indexes, cached by the template's offset in the chunk, and each record only
fills in its substitutions. The output is the same string `Record.xml()` returns (a test holds
the two equal); a record python-evtx cannot render raises here too.
"""

from __future__ import annotations

from typing import Any

import Evtx.Nodes as N
import Evtx.Views as V

# A template walked once: literal XML text, or the index of a substitution to fill in.
Segments = list[str | int]


def _walk(template: Any) -> Segments:
    out: Segments = []

    def rec(node: Any) -> None:
        if isinstance(node, N.OpenStartElementNode):
            out.append("<" + node.tag_name())
            for child in node.children():
                if isinstance(child, N.AttributeNode):
                    out.append(" " + V.validate_name(child.attribute_name().string()) + '="')
                    rec(child.attribute_value())
                    out.append('"')
            out.append(">")
            for child in node.children():
                rec(child)
            out.append("</" + V.validate_name(node.tag_name()) + ">\n")
        elif isinstance(node, N.ValueNode):
            out.append(V.escape_value(node.children()[0].string()))
        elif isinstance(node, N.CDataSectionNode):
            out.append("<![CDATA[" + V.escape_value(node.cdata()) + "]]>")
        elif isinstance(node, N.EntityReferenceNode):
            out.append(V.escape_value(node.entity_reference()))
        elif isinstance(node, N.ProcessingInstructionTargetNode):
            out.append(V.escape_value(node.processing_instruction_target()))
        elif isinstance(node, N.ProcessingInstructionDataNode):
            out.append(V.escape_value(node.string()))
        elif isinstance(node, N.TemplateInstanceNode):
            raise V.UnexpectedElementException("TemplateInstanceNode")
        elif isinstance(node, (N.NormalSubstitutionNode, N.ConditionalSubstitutionNode)):
            out.append(node.index())
        # the stream, close and end-of-stream nodes render as nothing, as in python-evtx

    for child in template.children():
        rec(child)
    return out


def render(root: Any, cache: dict[int, Segments]) -> str:
    """The XML of a record's root node (`record.root()`), as `Record.xml()` gives it.

    `cache` maps template offsets to their walk; use one per chunk (offsets are chunk-local)."""
    subs = root.substitutions()
    if any(sub is None or isinstance(sub, str) for sub in subs):
        raise RuntimeError("bad substitution")  # python-evtx refuses these records too
    key = root.template().offset()
    segments = cache.get(key)
    if segments is None:
        segments = cache[key] = _walk(root.template())
    parts = []
    for seg in segments:
        if isinstance(seg, int):
            sub = subs[seg]
            if isinstance(sub, N.BXmlTypeNode):
                parts.append(render(sub.root(), cache))
            else:
                parts.append(V.escape_value(sub.string()))
        else:
            parts.append(seg)
    return "".join(parts)
