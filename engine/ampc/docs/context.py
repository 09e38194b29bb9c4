"""What every page's view functions read: the rule set, the pages' date, the runner that decided
the examples, where each rule is documented, and the open readings; with the links between them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ampc.docs.examples import Runner
from ampc.docs.text import code, link, md, value
from ampc.rules.model import Cmp, RuleSet

INTERPRETATIONS = "reference/interpretations.md"


@dataclass
class Ctx:
    rs: RuleSet
    runner: Runner
    as_of: dt.date
    home: dict[str, str] = field(default_factory=dict)  # rule id -> the page documenting it
    paragraphs_of: dict[str, list] = field(default_factory=dict)  # rule id -> [(Page, Paragraph)]
    reading_of: dict[str, str] = field(default_factory=dict)  # rule or precedence id -> its anchor on
    # the interpretations page, for a reading declared open
    editions: list = field(default_factory=list)  # [(name, label, enacted_by, RuleSet)], in order
    source_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # rule id -> (source page, anchor)

    def rule_link(self, rule_id: str, from_page: str) -> str:
        if rule_id not in self.home:
            return code(rule_id)
        return f"[{code(rule_id)}]({link(from_page, self.home[rule_id], rule_id)})"

    def reading_link(self, item_id: str, from_page: str, words: str = "open interpretation") -> str:
        """A link to the entry of an open reading on the interpretations page, or nothing."""
        anchor = self.reading_of.get(item_id)
        return f"[{words}]({link(from_page, INTERPRETATIONS, anchor)})" if anchor else ""

    def reading_title(self, interpretation_id: str) -> str:
        """The open question an interpretation id names, in words (empty for none)."""
        reading = self.rs.interpretations.get(interpretation_id)
        return md(f"{reading.title} ({interpretation_id})") if reading else md(interpretation_id)

    def expected(self, cmp: Cmp) -> str:
        """A condition's threshold as in force on the pages' date, in the fact's unit, in words."""
        return value(self.runner.expected(cmp, self.as_of), self.rs.facts[cmp.fact].unit)

    def in_editions(self, enacted: dt.date | None) -> list[str]:
        """The editions that hold an item enacted on that date (every edition when it has none)."""
        return [name for name, _label, day, _rs in self.editions if enacted is None or day is None or enacted <= day]
