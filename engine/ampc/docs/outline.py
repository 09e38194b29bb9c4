"""The site's skeleton: the instructions' table of contents (docs/outline.yaml), each page with the
rules files it shows and each paragraph with the rules, parameters and credit lines encoding it."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampc.docs.errors import DocsError
from ampc.docs.text import mirror, slug, words
from ampc.rules.model import Cmp, Cond, Not, Rule, RuleSet
from ampc.rules.yamlio import load_yaml

STATUS = {"encoded": "encoded", "open": "open interpretation", "not_modelled": "not modelled",
          "pending": "not modelled yet", "intro": "introductory"}
PARAGRAPH_KEYS = {"heading", "text", "intro", "match", "not_modelled", "pending", "note", "part_iv"}
CHAPTER_OF_PREFIX = {"general": "General Instructions", "special_rules": "General Instructions",
                     "part_i": "Part I—Facility Information", "part_ii": "Part II—Eligible Components",
                     "part_iv": "Part II—Eligible Components"}
MATCH_KEYS = "line, family, stage, part_iv_line, rule, section, fact, param or credit"


@dataclass
class Paragraph:
    heading: str
    text: str
    anchor: str
    intro: bool = False
    match: list = field(default_factory=list)
    not_modelled: str = ""
    pending: str = ""
    note: str = ""
    part_iv: str = ""
    rules: list = field(default_factory=list)  # the Rules that encode it
    params: list = field(default_factory=list)  # the parameters that encode it (a schedule, a rate)
    credits: list = field(default_factory=list)  # the credit lines (column (c) and (d)) that encode it

    @property
    def open(self) -> bool:
        """A rule encoding it declares its reading open (`review:`, which decisions flag too)."""
        return any(r.review for r in self.rules)

    @property
    def status(self) -> str:
        if self.intro:
            return "intro"
        if self.rules or self.params or self.credits:
            return "open" if self.open else "encoded"
        return "pending" if self.match else "not_modelled"


@dataclass
class Page:
    id: str
    title: str
    chapter: str
    path: str
    sections: list = field(default_factory=list)  # the Sections (rules files) this page shows
    paragraphs: list = field(default_factory=list)
    patterns: tuple = ()


def cmps(cond: Cond) -> list[Cmp]:
    """Every comparison in a condition tree, in order."""
    if isinstance(cond, Cmp):
        return [cond]
    if isinstance(cond, Not):
        return cmps(cond.item)
    return [c for item in cond.items for c in cmps(item)]


def build_outline(ruleset: RuleSet, outline_file: Path) -> list[Page]:
    """The pages in the instructions' order; a rules file no page claims gets a page of its own."""
    data, problems = load_yaml(outline_file)
    if problems:
        raise DocsError("; ".join(str(p) for p in problems))
    pages: list[Page] = []
    for chapter in data["chapters"]:
        for spec in chapter["pages"]:
            page = Page(spec["id"], spec["title"], chapter["title"], spec["path"],
                        patterns=tuple(spec.get("sections", ())))
            seen: set[str] = set()
            for para in spec.get("paragraphs", []):
                page.paragraphs.append(_paragraph(para, spec["id"], outline_file, seen))
            pages.append(page)
    for section in ruleset.sections:
        owner = next((p for p in pages if any(fnmatch.fnmatch(section.id, pat) for pat in p.patterns)), None)
        if owner is None:
            chapter = CHAPTER_OF_PREFIX.get(section.id.split(".")[0], "Other rules")
            owner = Page(section.id, section.title, chapter, mirror(section.file))
            last = max((i for i, p in enumerate(pages) if p.chapter == chapter), default=len(pages) - 1)
            pages.insert(last + 1, owner)
        owner.sections.append(section)
    for page in pages:
        if len(page.sections) == 1:
            page.path = mirror(page.sections[0].file)
    paths = [p.path for p in pages]
    for path in paths:
        if paths.count(path) > 1:
            raise DocsError(f"two pages would be written to docs/{path}; rename one rules file or "
                            "give the outline page another path")
    _match_paragraphs(ruleset, pages)
    return pages


def _paragraph(para: dict, page_id: str, outline_file: Path, seen: set[str]) -> Paragraph:
    unknown = set(para) - PARAGRAPH_KEYS
    if unknown or "heading" not in para:
        raise DocsError(f"{outline_file.name}, page '{page_id}', paragraph '{para.get('heading', '?')}': "
                        f"unknown key(s) {sorted(unknown)} or no heading "
                        f"(allowed: {', '.join(sorted(PARAGRAPH_KEYS))})")
    anchor = slug(para["heading"])
    while anchor in seen:
        anchor += "-x"
    seen.add(anchor)
    return Paragraph(heading=para["heading"], text=words(para.get("text", "")), anchor=anchor,
                     intro=bool(para.get("intro")), match=list(para.get("match") or []),
                     not_modelled=words(para.get("not_modelled", "")), pending=words(para.get("pending", "")),
                     note=words(para.get("note", "")), part_iv=str(para.get("part_iv", "")))


def _criterion_holds(rule: Rule, section_id: str, key: str, want: Any) -> bool:
    wanted = [str(w) for w in (want if isinstance(want, list) else [want])]
    if key == "line":
        return rule.line in wanted
    if key == "family":
        return rule.family in wanted
    if key == "stage":
        return rule.stage in wanted
    if key == "part_iv_line":
        return str(rule.then.get("part_iv_line", "")) in wanted
    if key == "rule":
        return any(fnmatch.fnmatch(rule.id, w) for w in wanted)
    if key == "section":
        return any(fnmatch.fnmatch(section_id, w) for w in wanted)
    if key == "fact":
        return any(fnmatch.fnmatch(c.fact, w) for c in cmps(rule.when) for w in wanted)
    raise DocsError(f"docs/outline.yaml: unknown match key '{key}' (use {MATCH_KEYS})")


def _match_paragraphs(ruleset: RuleSet, pages: list[Page]) -> None:
    section_of = {s.file: s.id for s in ruleset.sections}
    credits = ruleset.credits
    for page in pages:
        for para in page.paragraphs:
            rule_criteria = [c for c in para.match if not {"param", "credit"} & set(c)]
            for crit in para.match:
                if {"param", "credit"} & set(crit) and len(crit) > 1:
                    raise DocsError(f"docs/outline.yaml, paragraph '{para.heading}': 'param' and 'credit' "
                                    "stand alone in a criterion")
                if "param" in crit:
                    para.params += [p for pid, p in ruleset.params.items()
                                    if fnmatch.fnmatch(pid, str(crit["param"])) and p not in para.params]
                if "credit" in crit:
                    para.credits += [credits[str(line)] for line in crit["credit"]
                                     if str(line) in credits and credits[str(line)] not in para.credits]
            para.rules = [r for r in ruleset.rules
                          if any(all(_criterion_holds(r, section_of.get(r.file, ""), k, v) for k, v in crit.items())
                                 for crit in rule_criteria)]
