"""Expanding a rules file as an analyst writes it into the rules the loader builds: file-level
defaults a rule overrides only where it differs, and the critical-minerals table that stands for one
rule per row. Runs on the parsed YAML, before its shape is checked; what it returns has exactly the
shape of a rules file written out in full (no `defaults:`, no `minerals:`). About 500 lines, a
third of them this docstring: the two expansions and their file:line checks are one step of the
loader, and the format an analyst writes is documented here, beside the code that reads it.

File-level defaults. A rules file may state once, under `defaults:` beside `section:`, what its
rules share::

    defaults:
      stage: classify
      family: inverter
      line: "3"
      in_force: {from: 2023-01-01}
      cite:
        instructions: Form 7207 instructions (Rev. 01-2024), Part II, line {line}
        irc: 45X(c)(2)

A rule takes every default it does not state itself:

- `stage`, `family`, `enacted` and `in_force` as the defaults write them. `in_force` is taken whole:
  a rule that states its own period states all of it, so a default end never slips into it.
- `line`: the rule's own `line:`, else the line it concludes (`then: {line: 3b}`), else the default.
- `cite`, key by key. A citation the rule does not state is the default's, `{line}` replaced by the
  rule's line. A citation beginning with "(" continues the default's: with `irc: 45X(c)(2)` in the
  defaults, a rule's `irc: (B)` is 45X(c)(2)(B). Any other citation is taken as the rule writes it.
  The citations are listed in the order instructions, irc, form, regulations, statute.
- `cite_as_amended` (a mapping, or a list of them): the citations a later act changed, for
  decisions in taxable years beginning after a date (`{taxable_years_beginning_after: 2025-07-04,
  enacted: 2025-07-04, by: "Pub. L. 119-21, sec. 70514(e)", irc: (S)}`), taken whole like
  `in_force`; a rule's own or the default's, each citation in it continues the default's `cite`
  as `cite` does (`irc: (S)` is 45X(c)(6)(S)). The citations it does not name stay the rule's.

A value taken from the defaults keeps the line of the defaults, so a problem with it is reported
where it is written; the rule's own place (its `where`) stays its `- id:` line.

The critical-minerals table (`minerals:`, rules/part_ii/line_06_critical_minerals.yaml) holds one
row per Form 7207 Part IV line, each becoming one rule after the file's hand-written rules, in row
order. A row's id is `<prefix>.<mineral>.<form>`, its form beginning with the process (`converted`
or `purified`), which give the placeholders {id}, {mineral}, {Mineral} (capitalized), {process};
the row's `part_iv` and `irc` give {part_iv} and {irc}. The table states:

- `rule`: what every row's rule shares: `cite`, `then` and the conditions `when` begins with.
- `clause_only`: for a condition written as its clause alone (`purity: to a minimum purity of 99%
  cobalt by mass`), the rest of that condition.
- `subparagraphs`: by the leading paragraph of a row's `irc` ((A) ... (Z)), the `text` its rules
  quote and whatever else all its rows share (the 25 other minerals of (Z): label and purity).
- `redesignated` (optional; a mapping, or a list in the order enacted): an act that relettered
  subparagraphs, once for the table: `taxable_years_beginning_after`, `enacted`, `by` and `letters`
  ({(R): (S), ..., (Z): (AA)}). A row under a relettered subparagraph gets `cite_as_amended`: the
  citations of `rule.cite` that change when its irc has the new letter ((Z)(iv) becomes (AA)(iv)).
- `rows`: `id`, `part_iv`, `irc`, `label`, optionally `text`, `notes`, `review`, `review_when`;
  every other column is a condition on the fact it is named after ({is: x, clause: ...}), in the
  order written, after the subparagraph's. A condition on a fact that `rule.when` already tests
  changes that condition in place (the words of a process clause).

The rows are YAML, not CSV: each row names its rule on an `id:` line, where a decision record's
`source` points; a column holds a condition with its words, so the few forms that add a condition
(aluminum converted from bauxite, chromium's content, tin's emission rate) are columns, not escapes.
A precedence entry with `order: minerals` is ordered as the table's rows. Each generated rule's
place is its row's `id:` line. Every problem (an unknown column, a missing value, an unknown
subparagraph) names the file and line of the row and the fix; a row with a problem makes no rule.
"""

from __future__ import annotations

import re
from typing import Any

from ampc.errors import Problem, did_you_mean, written
from ampc.rules.yamlio import Located, LocatedList

DEFAULT_KEYS = ("stage", "family", "line", "in_force", "enacted", "cite", "cite_as_amended")
CITE_ORDER = ("instructions", "irc", "form", "regulations", "statute")
AMENDED = "cite_as_amended"
AMENDMENT_KEYS = ("taxable_years_beginning_after", "enacted", "by")  # and the citations it replaces
TABLE = "minerals"
TABLE_KEYS = ("rule", "clause_only", "subparagraphs", "rows", "redesignated")
REDESIGNATION_KEYS = (*AMENDMENT_KEYS, "letters")
TEMPLATE_KEYS = ("cite", "when", "then")
ROW_KEYS = ("id", "part_iv", "irc", "label", "text", "notes", "review", "review_when")
SHARED_KEYS = ("text", "label", "notes", "review", "review_when")  # what a subparagraph may give its rows
ROW_ID = re.compile(r"^[a-z0-9_]+\.(?P<mineral>[a-z0-9_]+)\.(?P<process>converted|purified)(_[a-z0-9_]+)?$")
PARAGRAPH = re.compile(r"^\([A-Za-z]+\)")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def expand(data: Any, where: str) -> tuple[Any, list[Problem]]:
    """The rules file's data with its defaults applied and its table expanded, and any problems
    (each naming the file and line)."""
    if not isinstance(data, Located):
        return data, []
    x = _Expansion(where)
    out = _mapping(((k, v) for k, v in data.items() if k not in ("defaults", TABLE)), data)
    rules = data.get("rules")
    if TABLE in data:
        made = x.table(data[TABLE], data)
        if made is not None:
            rules = _sequence([*(rules if isinstance(rules, list) else []), *made],
                              rules if isinstance(rules, list) else data[TABLE])
            if "rules" not in out:
                out.key_lines["rules"] = data.line_of(TABLE)
            out["rules"] = rules
            _order_precedence(out, [str(r["id"]) for r in made])
    defaults = x.defaults(data.get("defaults")) if "defaults" in data else _mapping((), data)
    if isinstance(rules, list):
        out["rules"] = _sequence([x.apply(spec, defaults) if isinstance(spec, dict) else spec for spec in rules],
                                 rules)
    return out, x.problems


class _Expansion:
    def __init__(self, where: str):
        self.path = where
        self.problems: list[Problem] = []
        self.redesignations: list[Located] = []  # the minerals table's, once read

    def at(self, node: Any, key: Any = None) -> str:
        line = node.line_of(key) if isinstance(node, Located) and key is not None else getattr(node, "line", 0)
        return f"{self.path}:{line}" if line else self.path

    def add(self, node: Any, key: Any, message: str, fix: str) -> None:
        self.problems.append(Problem(self.at(node, key), message, fix, str(key or "")))

    # --- defaults --------------------------------------------------------------------------------

    def defaults(self, node: Any) -> Located:
        if not isinstance(node, Located):
            self.problems.append(Problem(self.path, f"'defaults' must be a mapping, not {written(node)}",
                                         "write defaults as 'key: value' lines, e.g. stage: classify"))
            return _mapping((), node)
        for key in node:
            if key not in DEFAULT_KEYS:
                self.add(node, key, f"unknown key '{key}' in defaults{did_you_mean(str(key), DEFAULT_KEYS)}",
                         f"defaults may give: {', '.join(DEFAULT_KEYS)}; state anything else in each rule")
        if "cite" in node and not isinstance(node["cite"], dict):
            self.add(node, "cite", "'cite' of defaults must map each citation to its base",
                     "write e.g. cite: {instructions: 'Form 7207 instructions (Rev. 01-2024), Part II, line {line}', "
                     "irc: 45X(c)(2)}")
        return node

    def apply(self, spec: Located, defaults: Located) -> Located:
        """One rule with the file's defaults for whatever it does not state."""
        rule = _mapping(spec.items(), spec)
        for key in ("stage", "family", "enacted", "in_force"):
            if key in defaults and key not in rule:
                _put(rule, key, _copy(defaults[key]), defaults.line_of(key))
        if "line" not in rule:
            then = rule.get("then")
            if isinstance(then, Located) and "line" in then:
                _put(rule, "line", then["line"], then.line_of("line"))
            elif "line" in defaults:
                _put(rule, "line", defaults["line"], defaults.line_of("line"))
        base = defaults.get("cite")
        if isinstance(base, Located):
            cite = rule.get("cite")
            if cite is None or isinstance(cite, Located):
                merged = _cite(cite, base, rule.get("line"))
                _put(rule, "cite", merged, rule.line_of("cite") if cite is not None else defaults.line_of("cite"))
        if AMENDED in defaults and AMENDED not in rule:
            _put(rule, AMENDED, _copy(defaults[AMENDED]), defaults.line_of(AMENDED))
        amended = rule.get(AMENDED)
        if isinstance(base, Located) and isinstance(amended, (Located, list)):
            listed = amended if isinstance(amended, list) else [amended]
            entries = [_amended(e, base, rule.get("line")) for e in listed]
            _put(rule, AMENDED, _sequence(entries, amended) if isinstance(amended, list) else entries[0],
                 rule.line_of(AMENDED))
        return rule

    # --- the critical-minerals table -------------------------------------------------------------

    def table(self, node: Any, data: Located) -> list[Located] | None:
        if not isinstance(node, Located):
            self.add(data, TABLE, f"'{TABLE}' must be a mapping with rows", f"write {TABLE}: with rule, rows, ...")
            return None
        for key in node:
            if key not in TABLE_KEYS:
                self.add(node, key, f"unknown key '{key}' in the {TABLE} table{did_you_mean(str(key), TABLE_KEYS)}",
                         f"the table has: {', '.join(TABLE_KEYS)}")
        template = node.get("rule")
        if not isinstance(template, Located) or not isinstance(template.get("when"), list):
            self.add(node, "rule" if "rule" in node else None,
                     f"the {TABLE} table needs 'rule:' with the conditions every row's rule begins with",
                     "write rule: {cite: ..., when: [- {fact: ..., is: ..., clause: ...}], then: ...}")
            return None
        for key in template:
            if key not in TEMPLATE_KEYS:
                self.add(template, key, f"unknown key '{key}' in the table's rule"
                         f"{did_you_mean(str(key), TEMPLATE_KEYS)}", f"the rule every row shares has: "
                         f"{', '.join(TEMPLATE_KEYS)}")
        clause_only = node.get("clause_only") or {}
        paragraphs = node.get("subparagraphs") or {}
        rows = node.get("rows")
        if not isinstance(rows, list) or not isinstance(clause_only, dict) or not isinstance(paragraphs, dict):
            self.add(node, "rows" if not isinstance(rows, list) else None,
                     f"the {TABLE} table needs 'rows:' as a list, and 'clause_only' and 'subparagraphs' as mappings",
                     "write rows: [- {id: ..., part_iv: ..., irc: ...}]")
            return None
        self.redesignations = self.redesignated(node, paragraphs) if "redesignated" in node else []
        made: list[Located] = []
        for row in rows:
            rule = self.row(row, rows, template, clause_only, paragraphs)
            if rule is not None:
                made.append(rule)
        return made

    def redesignated(self, node: Located, paragraphs: dict) -> list[Located]:
        """The table's `redesignated:` (a mapping, or a list of them in the order enacted): an act
        that relettered subparagraphs, with its date and its `letters` ({(R): (S), ...}); the rules of
        the rows under a relettered subparagraph cite the new letter from that date (cite_as_amended)."""
        given = node["redesignated"]
        out = []
        known = {str(k) for k in paragraphs}  # and the letters an earlier redesignation gave
        for entry in given if isinstance(given, list) else [given]:
            if not isinstance(entry, Located):
                self.add(node, "redesignated", f"'redesignated' of the {TABLE} table must be a mapping (or a list "
                         f"of them), not {written(entry)}", "write redesignated: {taxable_years_beginning_after: "
                         "<date>, enacted: <date>, by: <act>, letters: {(R): (S), ...}}")
                continue
            ok = True
            for key in entry:
                if key not in REDESIGNATION_KEYS:
                    self.add(entry, key, f"unknown key '{key}' in 'redesignated' of the {TABLE} table"
                             f"{did_you_mean(str(key), REDESIGNATION_KEYS)}",
                             f"it has: {', '.join(REDESIGNATION_KEYS)}")
                    ok = False
            for key in REDESIGNATION_KEYS:
                if key not in entry:
                    self.add(entry, None, f"'redesignated' of the {TABLE} table is missing '{key}'",
                             f"add '{key}:' ({', '.join(REDESIGNATION_KEYS)} are all needed)")
                    ok = False
            letters = entry.get("letters")
            if "letters" in entry and not isinstance(letters, Located):
                self.add(entry, "letters", "'letters' of 'redesignated' must map each old subparagraph to its new "
                         "one", "write letters: {(R): (S), (S): (T)}")
                ok = False
            elif isinstance(letters, Located):
                for old, new in letters.items():
                    if str(old) not in known:
                        self.add(letters, old, f"'letters' of 'redesignated' names {written(old)}, no subparagraph "
                                 f"of the table{did_you_mean(str(old), [str(k) for k in paragraphs])}",
                                 "name a subparagraph under subparagraphs, e.g. (R)")
                        ok = False
                    if not (isinstance(new, str) and PARAGRAPH.fullmatch(new)):
                        self.add(letters, old, f"'letters' of 'redesignated': the new letter of {old} is "
                                 f"{written(new)}, not a subparagraph", "write it as (S)")
                        ok = False
            if ok:
                out.append(entry)
                known |= {str(v) for v in letters.values()}
        return out

    def amendments(self, irc: str, template: Located, values: dict) -> list[Located]:
        """A row's cite_as_amended: for each redesignation of its subparagraph, the citations of the
        table's rule that change when the row's irc has the new letter."""
        out = []
        before = self.fill(template["cite"], values, template, "cite")
        for entry in self.redesignations:
            found = PARAGRAPH.match(irc)
            new = entry["letters"].get(found.group(0)) if found else None
            if new is None:
                continue
            irc = str(new) + irc[found.end():]
            after = self.fill(template["cite"], {**values, "irc": irc}, template, "cite")
            amendment = _mapping((), entry)
            for key in AMENDMENT_KEYS:
                _put(amendment, key, entry[key], entry.line_of(key))
            for key, value in after.items():
                if before.get(key) != value:
                    _put(amendment, key, value, entry["letters"].line_of(found.group(0)))
            before = after
            out.append(amendment)
        return out

    def row(self, row: Any, rows: Any, template: Located, clause_only: dict, paragraphs: dict) -> Located | None:
        if not isinstance(row, Located):
            self.add(rows, None, f"a row of the {TABLE} table must be a mapping, not {written(row)}",
                     "write each row as '- {id: ..., part_iv: ..., irc: ...}'")
            return None
        rid = str(row.get("id", ""))
        what = f"row '{rid}'" if rid else f"the row at line {row.line}"
        ok = True
        for key in ("id", "part_iv", "irc"):
            if row.get(key) in (None, ""):
                self.add(row, None, f"{what} of the {TABLE} table is missing '{key}'", _ROW_HINTS[key])
                ok = False
        found = ROW_ID.match(rid) if rid else None
        if rid and not found:
            self.add(row, "id", f"{what}: the id is not <prefix>.<mineral>.<form> with a form beginning "
                     "'converted' or 'purified'", "write e.g. id: mineral.cobalt.converted")
            ok = False
        part_iv = str(row.get("part_iv", ""))
        if "part_iv" in row and not part_iv.isdigit():
            self.add(row, "part_iv", f"{what}: part_iv {written(row.get('part_iv'))} is not a Part IV line number",
                     "write the line's number, e.g. part_iv: 17")
            ok = False
        irc = str(row.get("irc", ""))
        paragraph = PARAGRAPH.match(irc)
        shared = paragraphs.get(paragraph.group(0)) if paragraph else None
        if "irc" in row and shared is None:
            self.add(row, "irc", f"{what}: irc {written(row.get('irc'))} names no subparagraph of the table"
                     f"{did_you_mean(paragraph.group(0) if paragraph else irc, [str(k) for k in paragraphs])}",
                     "write its paragraph of 45X(c)(6), e.g. irc: (H) or (Z)(iv), and give the subparagraph "
                     "its text under subparagraphs")
            ok = False
        if shared is not None and not isinstance(shared, Located):
            self.add(paragraphs, paragraph.group(0) if paragraph else None,
                     f"subparagraph {paragraph.group(0) if paragraph else irc} of the table must be a mapping",
                     "write it as text: >- ... (and what all its rows share)")
            ok = False
        if not ok or found is None or not isinstance(shared, Located):
            return None
        mineral, process = found.group("mineral"), found.group("process")
        values = {"id": rid, "mineral": mineral, "Mineral": mineral.capitalize(), "process": process,
                  "part_iv": part_iv, "irc": irc}
        rule = _mapping((), row)
        _put(rule, "id", row["id"], row.line_of("id"))
        for key in ("label", "text"):
            source = row if key in row else shared
            if key not in source:
                self.add(row, None, f"{what} of the {TABLE} table is missing '{key}' (and its subparagraph "
                         f"{paragraph.group(0) if paragraph else ''} gives none)", _ROW_HINTS[key])
                ok = False
                continue
            _put(rule, key, self.fill(source[key], values, source, key), source.line_of(key))
        if "cite" in template:
            _put(rule, "cite", self.fill(template["cite"], values, template, "cite"), row.line_of("irc"))
            amended = self.amendments(irc, template, values)
            if amended:
                _put(rule, AMENDED, _sequence(amended, row), row.line_of("irc"))
        conditions = [self.fill(c, values, template, "when") for c in template["when"]]
        tested = {c["fact"]: i for i, c in enumerate(conditions)
                  if isinstance(c, dict) and isinstance(c.get("fact"), str)}
        for source in (shared, row):
            for key, value in source.items():
                if source is row and key in ROW_KEYS or source is shared and key in SHARED_KEYS:
                    continue
                if source is shared and key in ROW_KEYS:
                    self.add(source, key, f"a subparagraph of the {TABLE} table cannot give its rows '{key}'",
                             f"state '{key}' in each row; a subparagraph gives {', '.join(SHARED_KEYS)} and conditions")
                    ok = False
                    continue
                cond = self.condition(source, key, value, values, clause_only, what)
                if cond is None:
                    ok = False
                    continue
                if key in tested:
                    conditions[tested[key]] = _merge(conditions[tested[key]], cond)
                else:
                    tested[key] = len(conditions)
                    conditions.append(cond)
        if not ok:
            return None
        when = _mapping((), row)
        _put(when, "all", _sequence(conditions, row), row.line)
        _put(rule, "when", when, row.line)
        if "then" in template:
            _put(rule, "then", self.fill(template["then"], values, template, "then"), row.line_of("part_iv"))
        for key in ("notes", "review", "review_when"):
            source = row if key in row else shared
            if key in source:
                _put(rule, key, _copy(source[key]), source.line_of(key))
        return rule

    def condition(self, source: Located, key: Any, value: Any, values: dict, clause_only: dict,
                  what: str) -> Located | None:
        """A column named after a fact: {is: x, clause: ...}, or its clause alone (see clause_only)."""
        line = source.line_of(key)
        if isinstance(value, str) and key in clause_only and isinstance(clause_only[key], dict):
            cond = _mapping((("fact", str(key)),), clause_only[key], line)
            for k, v in clause_only[key].items():
                _put(cond, k, self.fill(v, values, clause_only, key), line)
            _put(cond, "clause", value, line)
            return cond
        if isinstance(value, Located) and value.get("fact", key) == key:
            cond = _mapping((("fact", str(key)),), value, line)
            for k, v in value.items():
                _put(cond, k, self.fill(v, values, value, k), value.line_of(k))
            return cond
        alone = f" (only {', '.join(map(str, clause_only))} may be written as its clause alone)" if clause_only else ""
        if isinstance(value, str) and not did_you_mean(str(key), ROW_KEYS):
            self.add(source, key, f"{what}: '{key}' is written as its clause alone{alone}",
                     f"write the condition on '{key}' as {{is: <value>, clause: <words>}}, or with its operator "
                     "and parameter, e.g. {at_least: {param: <id>}, clause: <words>}")
        else:
            self.add(source, key, f"{what}: unknown column '{key}'{did_you_mean(str(key), ROW_KEYS)}",
                     f"the columns are {', '.join(ROW_KEYS)}, and conditions named after their fact, written "
                     "{is: <value>, clause: <words>}")
        return None

    def fill(self, node: Any, values: dict, parent: Any, key: Any) -> Any:
        """A copy of node with the row's {placeholders} filled in."""
        if isinstance(node, str):
            for name in PLACEHOLDER.findall(node):
                if name not in values:
                    self.add(parent, key, f"unknown placeholder {{{name}}} in the {TABLE} table"
                             f"{did_you_mean(name, values)}", f"use one of {', '.join('{' + v + '}' for v in values)}")
            return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), node)
        if isinstance(node, Located):
            return _mapping(((k, self.fill(v, values, node, k)) for k, v in node.items()), node)
        if isinstance(node, list):
            return _sequence([self.fill(v, values, parent, key) for v in node], node)
        return node


_ROW_HINTS = {
    "id": "add 'id: <prefix>.<mineral>.<form>', e.g. id: mineral.cobalt.converted",
    "part_iv": "add 'part_iv: <n>', the row's Form 7207 Part IV line",
    "irc": "add 'irc: (<letter>)', its paragraph of 45X(c)(6), e.g. irc: (H)",
    "label": "add 'label:', the Part IV line's words",
    "text": "add the statute's text to the row's subparagraph under subparagraphs",
}


def _cite(own: Located | None, base: Located, line: Any) -> Located:
    """A rule's citations over the file's citation base (see the module's docstring)."""
    merged: dict[Any, tuple[Any, int]] = {}
    for key, value in base.items():
        merged[key] = (_line_in(value, line), base.line_of(key))
    for key, value in (own or {}).items():
        if isinstance(value, str) and value.startswith("(") and isinstance(base.get(key), str):
            value = _line_in(base[key], line) + value
        merged[key] = (value, own.line_of(key) if own is not None else base.line)
    order = sorted(merged, key=lambda k: CITE_ORDER.index(k) if k in CITE_ORDER else len(CITE_ORDER))
    cite = _mapping((), own if own is not None else base)
    for key in order:
        _put(cite, key, *merged[key])
    return cite


def _amended(entry: Any, base: Located, line: Any) -> Any:
    """One `cite_as_amended` entry with its citations continued over the file's citation base, as
    `cite` is: with `irc: 45X(c)(6)` in the defaults, an amended `irc: (S)` is 45X(c)(6)(S)."""
    if not isinstance(entry, Located):
        return entry
    out = _mapping((), entry)
    for key, value in entry.items():
        if key in CITE_ORDER and isinstance(value, str):
            value = _line_in(value, line)
            if value.startswith("(") and isinstance(base.get(key), str):
                value = _line_in(base[key], line) + value
        _put(out, key, value, entry.line_of(key))
    return out


def _line_in(value: Any, line: Any) -> Any:
    return value.replace("{line}", str(line)) if isinstance(value, str) and line is not None else value


def _order_precedence(out: Located, ids: list[str]) -> None:
    """A precedence entry with `order: minerals` ordered as the table's rows."""
    entries = out.get("precedence")
    if not isinstance(entries, list):
        return
    ordered = []
    for entry in entries:
        if isinstance(entry, Located) and entry.get("order") == TABLE:
            entry = _mapping(entry.items(), entry)
            seq = LocatedList(ids)
            seq.line = entry.line_of("order")
            entry["order"] = seq
        ordered.append(entry)
    out["precedence"] = _sequence(ordered, entries)


def _merge(first: Any, more: Located) -> Any:
    """A condition of the table's rule, changed by a row's condition on the same fact."""
    if not isinstance(first, Located):
        return more
    out = _mapping(first.items(), first)
    for key, value in more.items():
        _put(out, key, value, more.line_of(key))
    return out


def _mapping(items: Any, like: Any, line: int | None = None) -> Located:
    """A Located mapping of items, with the line of `like` (and its keys' lines where it has them)."""
    out = Located()
    out.line = line if line is not None else getattr(like, "line", 0)
    out.key_lines = {}
    lines = getattr(like, "key_lines", {}) if line is None else {}
    for key, value in items:
        out[key] = value
        out.key_lines[key] = lines.get(key, out.line)
    return out


def _sequence(items: list, like: Any) -> LocatedList:
    out = LocatedList(items)
    out.line = getattr(like, "line", 0)
    return out


def _put(node: Located, key: Any, value: Any, line: int) -> None:
    node[key] = value
    node.key_lines[key] = line or node.line


def _copy(node: Any) -> Any:
    """A deep copy that keeps the lines (a default given to many rules is not shared between them)."""
    if isinstance(node, Located):
        return _mapping(((k, _copy(v)) for k, v in node.items()), node)
    if isinstance(node, list):
        return _sequence([_copy(v) for v in node], node)
    return node
