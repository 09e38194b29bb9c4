"""The fact vocabulary page: every fact a product is described by, file by file, with its type,
unit, allowed values and the rules that test or conclude it; then the sales ledger's columns."""

from __future__ import annotations

from pathlib import Path

from ampc.docs.context import Ctx
from ampc.docs.outline import cmps
from ampc.docs.sources import source_page
from ampc.docs.text import cell, code, link
from ampc.rules.model import FactDef
from ampc.rules.yamlio import load_yaml

PAGE = "reference/facts.md"


SHOWN = 8  # words shown per value; the YAML file lists the rest


def _values(fact: FactDef) -> str:
    """The allowed values, each with the words a catalog may write for it (the first few)."""
    out = []
    for value in fact.values:
        words = fact.value_aliases.get(value, ())
        text = value
        if words:
            more = f", and {len(words) - SHOWN} more" if len(words) > SHOWN else ""
            text += " (" + ", ".join(f'"{w}"' for w in words[:SHOWN]) + more + ")"
        out.append(text)
    return "; ".join(out) if any(fact.value_aliases.values()) else ", ".join(fact.values)


def _fact_row(name: str, fact: FactDef, rules: str) -> dict:
    return {"name": code(name), "anchor": name, "type": fact.type, "unit": cell(fact.unit),
            "values": cell(_values(fact)), "label": cell(fact.label), "description": cell(fact.description),
            "headers": cell(", ".join(f'"{a}"' for a in fact.aliases)),
            "source": cell(fact.source), "derived": fact.derived, "bare": fact.bare_number, "rules": rules}


def groups(ctx: Ctx, root: Path, files: list[str]) -> list[dict]:
    rs = ctx.rs
    users: dict[str, list[str]] = {}
    for rule in rs.rules:
        for name in [c.fact for c in cmps(rule.when)] + list(rule.then):
            users.setdefault(name, [])
            if rule.id not in users[name]:
                users[name].append(rule.id)
    out = []
    for rel in [f for f in files if f.startswith("definitions/facts/")]:
        data, _ = load_yaml(root / rel)
        names = [str(n) for n in ((data or {}).get("facts") or {}) if str(n) in rs.facts]
        out.append({"file": rel, "source": link(PAGE, source_page(rel)),
                    "facts": [_fact_row(n, rs.facts[n], ", ".join(ctx.rule_link(r, PAGE) for r in users.get(n, [])))
                              for n in names]})
    if rs.ledger and (root / "definitions" / "ledger.yaml").is_file():
        out.append({"file": "definitions/ledger.yaml (the columns of a sales ledger)",
                    "source": link(PAGE, source_page("definitions/ledger.yaml")),
                    "facts": [dict(_fact_row(n, f, ""), derived=False) for n, f in rs.ledger.items()]})
    return out
