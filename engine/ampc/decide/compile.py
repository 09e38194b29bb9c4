"""The durable-rules adapter (the only module that imports it): compile rules, run one product at a time.

durable-rules keeps process-global state, swallows exceptions raised in actions, reserves the keys
`id` and `sid`, compares numbers as doubles and coerces strings to numbers and 1 to true. So:
  - each Session owns its own engine ruleset (its own C handle), deleted on close; products run
    in one engine state (session id) for up to SHARED products, each of its facts carrying the
    product's place in the state, so that no two facts are alike; every rule matches one fact, so a
    product's facts never match together with another's, and the state is deleted when it is full
    or a run fails (a state made and deleted for every product cost half the engine's time);
  - fact keys are prefixed (f_...), strings are tagged ("v:..."), booleans must be Python bools;
  - a quantity is sent as two exact integers (whole part, and fraction scaled by 10**18), and each
    comparison is compiled to integer comparisons, so the engine's boundaries are exact decimals;
  - every action is wrapped: an exception is recorded and raised after the run, never swallowed;
  - the actions are run by this module's loop over the engine's own calls (start an action for the
    product's state, complete it and start the next, abandon it on an error), the loop of
    durable-rules' `do_actions` without the closure, promise and state re-encoding it makes for
    each action, which ampc's actions do not use; of what the engine schedules only the rule's name
    is read, and each stage's fact carries only the facts that stage's rules read.
Stages chain forward: a stage's rules fire on the stage's fact and record what they conclude;
a lowest-priority rule then asserts the next stage's fact carrying those conclusions. A derived
true/false fact is false when every rule of the product's kind that concludes it fails (as the
explainer reads it), so each such rule is compiled twice: its condition, and its condition negated.
A stage that settles the product (no identity concluded, no class that wins) asserts no next stage.

Every test compares one fact with a constant, so the constants each fact is compared with (collected
as the rules compile) and the eras of the dates cut the products into cells on which every test is
constant: the conclusions for a cell the session has run are reused for the next product in it.

The compiled form is independent of the explainer: it reads each threshold from the rule set
(the parameter's value in force, converted to the fact's unit) and applies the declared precedence
itself, so that the agreement of the two is a check, not a tautology.

Over 400 lines because the design keeps durable-rules behind this one module: the compiler (the
conditions, the periods of the law and their date guards) and the session that runs them both
speak the engine's condition language and its limits (32 expressions a rule, a stack of 64), and
splitting them would spread that knowledge over two modules.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import durable_rules_engine
import msgspec

from ampc.errors import EngineError, written
from ampc.rules.model import All, Cmp, Cond, FactDef, Not, Rule, RuleSet, When, as_when, comparisons, params_of
from ampc.rules.operators import settled_for_every
from ampc.rules.units import convert

SCALE = 10**18
LIMIT = 2**63 - 1
CONCLUDED = 1_024  # the engine's conclusions kept per session, by cell (the oldest dropped first)
ENCODED = 16_384  # facts' engine fields kept per session, by fact and value (all dropped when full)
SHARED = 16  # products run in one engine state before it is deleted and another made
_OTHER = object()  # the cell of an enum or text value no compiled test names
NEVER = {"_never": "v:never"}  # a field no fact carries: a condition that cannot match
_names = itertools.count()
_json = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class EngineResult:
    """What the engine concluded for one product: rules fired, by stage, and the derived facts."""

    fired: dict[str, tuple[str, ...]]
    derived: dict[str, Any]
    stages_run: tuple[str, ...]


@dataclass(frozen=True)
class StageResult:
    """What one stage concluded for a product: the rules it fired, in order, the facts it derived
    or changed, and whether it settles the product (no later stage runs)."""

    fired: tuple[str, ...]
    derived: dict[str, Any]
    last: bool


def _keep(kept: dict, key: tuple, value: Any) -> None:
    """Keep a conclusion by its cell, CONCLUDED at most (the oldest dropped first: memory stays bounded)."""
    if len(kept) >= CONCLUDED:
        kept.pop(next(iter(kept)))
    kept[key] = value


def _key(fact: str) -> str:
    return f"f_{fact}"


def _member(key: str, member: str) -> str:
    """The field of a set fact telling whether the member is in the set."""
    return f"{key}__{member}"


def _parts(key: str) -> tuple[str, str]:
    """The fields of a quantity or date: the whole part, and the fraction scaled by SCALE."""
    return f"{key}__i", f"{key}__f"


def _split(value: Decimal, fact: str) -> tuple[int, int]:
    whole = int(value.to_integral_value(rounding="ROUND_FLOOR"))
    frac = (value - whole) * SCALE
    if frac != frac.to_integral_value():
        raise EngineError(f"'{fact}' = {value} has more than 18 decimal places; the engine compares "
                          "exactly to 18 places (fix: round the input to 18 places)")
    if abs(whole) > LIMIT:
        raise EngineError(f"'{fact}' = {value} is too large for the engine (fix: check the unit)")
    return whole, int(frac)


def fields(name: str, fact: FactDef) -> tuple[str, ...]:
    """The engine fact's fields that carry one fact: a set's one per member (true if it is in the
    set), a quantity's or date's whole part and fraction, else one."""
    key = _key(name)
    if fact.type == "set":
        return tuple(_member(key, member) for member in fact.values)
    if fact.type in ("quantity", "date"):
        return _parts(key)
    return (key,)


def encode(facts: dict[str, Any], vocab: dict[str, FactDef], kept: dict | None = None) -> dict:
    """Normalized facts -> the engine's fact: checked types, prefixed keys, exact integers. With
    `kept`, each fact's fields are kept there by its name and value, and read again from it."""
    out: dict[str, Any] = {}
    for name, value in facts.items():
        if value is None:
            continue
        if kept is None:
            out.update(_fields_of(name, value, vocab[name]))
            continue
        key = (name, value.__class__, value)  # by class too: 1 == True, and 1 == Decimal(1)
        try:
            pairs = kept.get(key)
        except TypeError:  # a value of no vocabulary type: _fields_of names it
            pairs, key = None, None
        if pairs is None:
            pairs = _fields_of(name, value, vocab[name])
            if key is not None:
                if len(kept) >= ENCODED:
                    kept.clear()
                kept[key] = pairs
        out.update(pairs)
    return out


def _fields_of(name: str, value: Any, fact: FactDef) -> tuple[tuple[str, Any], ...]:
    """One fact's fields in the engine's fact (named as `fields` names them), its type checked."""
    names = fields(name, fact)
    if fact.type == "bool":
        if not isinstance(value, bool):
            raise EngineError(f"'{name}' must be true or false before it reaches the engine, got {written(value)}")
        return ((names[0], value),)
    if fact.type in ("enum", "text"):
        if not isinstance(value, str):
            raise EngineError(f"'{name}' must be text before it reaches the engine, got {written(value)}")
        return ((names[0], "v:" + value),)
    if fact.type == "set":
        if not isinstance(value, frozenset):
            raise EngineError(f"'{name}' must be a set before it reaches the engine, got {written(value)}")
        return tuple(zip(names, (member in value for member in fact.values)))
    if fact.type == "quantity":
        if not isinstance(value, Decimal) or isinstance(value, bool):
            raise EngineError(f"'{name}' must be an exact decimal before it reaches the engine, "
                              f"got {written(value)}")
        return tuple(zip(names, _split(value, name)))
    if fact.type == "date":
        if not isinstance(value, dt.date):
            raise EngineError(f"'{name}' must be a date before it reaches the engine, got {written(value)}")
        return tuple(zip(names, (value.toordinal(), 0)))
    return ()


def _numeric(key: str, op: str, whole: int, frac: int) -> dict:
    """One exact comparison of a quantity or date field (whole and fraction) with a threshold."""
    i, f = _parts(key)
    if op == "is":
        return {"$and": [{i: whole}, {f: frac}]}
    if op == "is_not":
        return {"$or": [_numeric(key, "less_than", whole, frac), _numeric(key, "more_than", whole, frac)]}
    strict = {"at_least": "$gte", "more_than": "$gt", "at_most": "$lte", "less_than": "$lt"}[op]
    outer = "$gt" if op in ("at_least", "more_than") else "$lt"
    return {"$or": [{outer: {i: whole}}, {"$and": [{i: whole}, {strict: {f: frac}}]}]}


# the operator that holds exactly when the given one fails, on a known value
_NEGATE = {"is": "is_not", "at_least": "less_than", "more_than": "at_most", "at_most": "more_than",
           "less_than": "at_least"}
UNSTATED = object()  # a parameter with no value in force: the law states no threshold for the date
_DATE = {"sale": "_era_sale", "production": "_era_production", "taxable_year": "_era_taxable_year"}


def _narrowed(bounds: dict, key: str, first: dt.date | None, last: dt.date | None) -> dict | None:
    """The bounds with one more on the date `key`; None if no day is left."""
    old_first, old_last = bounds.get(key, (None, None))
    first = max(d for d in (first, old_first) if d is not None) if first or old_first else None
    last = min(d for d in (last, old_last) if d is not None) if last or old_last else None
    if first is not None and last is not None and first > last:
        return None
    return {**bounds, key: (first, last)}


class Compiler:
    """Turns the rule set, as of one date, into an engine ruleset definition.

    A condition holds in the engine only when it is true on the facts given: a comparison on a fact
    not given, or against a threshold the law does not state for the date, never matches, negated or
    not. So a rule fires exactly when its three-valued result is true (`not` of unknown is unknown).
    """

    def __init__(self, ruleset: RuleSet, kind: str | None):
        self.ruleset = ruleset
        self.kind = kind  # the session's kind of component (None: the kind is not given)
        self.values: dict[str, Any] = {}  # the parameters' values in the period being compiled
        # per fact, every value the compiled rules compare it with (for a set, the members tested):
        # the points that cut its domain into the cells on which every compiled test is constant
        self.cuts: dict[str, set[Any]] = {}

    def periods(self, rule: Rule) -> list[tuple[dict, dict[str, Any]]]:
        """The periods in which the rule is in force and each parameter it reads has one value: a list
        of (the date fields' bounds, {parameter: its value in the period, None where the law states none}).
        A bound is (first day, last day), either open (None), on the date the rule or parameter is
        keyed to (sale, production or taxable year)."""
        out = [({rule.keyed_on: (rule.in_force_from, rule.in_force_to)}, {})]
        for pid in dict.fromkeys(params_of(rule.when)):
            param = self.ruleset.params[pid]
            starts = sorted({v.start for v in param.values})
            spans = [(None, starts[0] - dt.timedelta(days=1), None)] if starts else [(None, None, None)]
            for i, start in enumerate(starts):
                last = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else None
                spans.append((start, last, param.at(When(start, start, start))))
            widened = []
            for bounds, values in out:
                for first, last, value in spans:
                    merged = _narrowed(bounds, param.keyed_on, first, last)
                    if merged is not None:
                        widened.append((merged, {**values, pid: value}))
            out = widened
        return out

    @staticmethod
    def guard(bounds: dict, eras: dict[str, list[dt.date]]) -> list[dict]:
        """The engine's test that a product's dates fall in the period, on each date's era: the
        number of the session's change dates on or before it (`eras`, per date). A period bounded on
        both sides is a choice of eras, each an equality the engine looks up, not a range it scans:
        the engine follows every range that matches at once, and a rule's periods are many."""
        out: list[dict] = []
        for key, (first, last) in sorted(bounds.items()):
            field, changes = _DATE[key], eras[key]
            if first is not None and last is not None:
                out.append(Compiler._any([{field: e} for e in range(bisect.bisect_right(changes, first),
                                                                    bisect.bisect_right(changes, last) + 1)]))
            elif first is not None:
                out.append({"$gte": {field: bisect.bisect_right(changes, first)}})
            elif last is not None:
                out.append({"$lte": {field: bisect.bisect_right(changes, last)}})
        return out

    def threshold(self, cmp: Cmp) -> Any:
        """The value the condition compares with: its literal, or its parameter's value in the period
        being compiled, in the fact's canonical unit; UNSTATED if the law states none."""
        if not cmp.param:
            return cmp.literal
        param = self.ruleset.params[cmp.param]
        value = self.values.get(cmp.param)
        if value is None:
            return UNSTATED
        unit = self.ruleset.facts[cmp.fact].unit
        if self.ruleset.facts[cmp.fact].type != "quantity" or param.unit == unit:
            return value
        if isinstance(value, tuple):
            return tuple(convert(v, param.unit, unit) for v in value)
        return convert(value, param.unit, unit)

    def variants(self, cond: Cond, negate: bool = False) -> list[list[tuple[Cmp, bool]]]:
        """The condition in disjunctive normal form: a list of conjunctions of (comparison, negated).

        `not` is pushed down to the comparisons (De Morgan, which holds in three-valued logic too).
        The engine's C core limits one rule to 32 expressions, so each disjunct becomes its own
        engine rule; together they fire exactly when the condition holds.
        """
        if isinstance(cond, Cmp):
            return [[(cond, negate)]]
        if isinstance(cond, Not):
            return self.variants(cond.item, not negate)
        parts = [self.variants(item, negate) for item in cond.items]
        if isinstance(cond, All) != negate:  # a conjunction: the product of the parts
            out: list[list[tuple[Cmp, bool]]] = [[]]
            for part in parts:
                out = [left + right for left in out for right in part]
            return out
        return [conj for part in parts for conj in part]

    def conjunction(self, rule: Rule, conj: list[tuple[Cmp, bool]], guard: list[dict]) -> dict:
        """One disjunct of the rule, on the rule's stage, for the kinds of component it applies to,
        for products whose dates fall in the period (`guard`)."""
        kind = _key(self.ruleset.role("kind"))  # the fact naming the product's kind (role: kind)
        kinds = [] if rule.family == "any" else [{kind: "v:" + str(self.kind)}]
        # The engine walks every test that matches at once, on a stack of 64: the tests shared by a
        # rule's periods come first, then the period's dates, then the comparisons with a parameter
        # (whose value the period sets), so that a rule's periods part only where they differ.
        fixed = [self.comparison(c, neg) for c, neg in conj if not c.param]
        valued = [self.comparison(c, neg) for c, neg in conj if c.param]
        return {"$and": [{"_stage": "v:" + rule.stage}, *kinds, *fixed, *guard, *valued]}

    def comparison(self, cmp: Cmp, negate: bool) -> dict:
        """One comparison, or its negation: matches only a fact that is given and decides it."""
        fact = self.ruleset.facts[cmp.fact]
        key = _key(cmp.fact)
        expected = self.threshold(cmp)
        if expected is UNSTATED:
            return self._unstated(cmp, negate)
        self.cuts.setdefault(cmp.fact, set()).update(
            expected if isinstance(expected, tuple) else (expected,))
        if fact.type == "bool":
            return {key: (not expected) if negate else expected}
        if fact.type in ("enum", "text"):
            wanted = (expected,) if cmp.op == "is" else tuple(expected)
            if negate:  # given, and none of the values
                return {"$and": [{"$ex": {key: 1}}, *({"$neq": {key: "v:" + v}} for v in wanted)]}
            return self._any([{key: "v:" + v} for v in wanted])
        if fact.type == "set":  # one_of: the set includes one of the values (every member is sent)
            if negate:
                return self._all([{_member(key, v): False} for v in expected])
            return self._any([{_member(key, v): True} for v in expected])
        # quantity or date: exact integer comparisons, guarded by the field's presence
        values = tuple(expected) if cmp.op == "one_of" else (expected,)
        op = "is" if cmp.op == "one_of" else cmp.op
        split = [(v.toordinal(), 0) if isinstance(v, dt.date) else _split(v, cmp.fact) for v in values]
        if negate:
            test = self._all([_numeric(key, _NEGATE[op], w, f) for w, f in split])
        else:
            test = self._any([_numeric(key, op, w, f) for w, f in split])
        return {"$and": [{"$ex": {_parts(key)[0]: 1}}, test]}

    def _unstated(self, cmp: Cmp, negate: bool) -> dict:
        """A comparison with a threshold the law does not state for the date: it matches only where
        every threshold in the fact's declared range gives the same result (the bound that settles
        it), and otherwise never, negated or not (undetermined)."""
        fact = self.ruleset.facts[cmp.fact]
        hold, fail = settled_for_every(cmp.op, fact.minimum, fact.maximum)
        settled = fail if negate else hold
        if fact.type != "quantity" or settled is None:
            return NEVER
        op, bound = settled
        self.cuts.setdefault(cmp.fact, set()).add(bound)
        whole, frac = _split(bound, cmp.fact)
        key = _key(cmp.fact)
        return {"$and": [{"$ex": {_parts(key)[0]: 1}}, _numeric(key, op, whole, frac)]}

    @staticmethod
    def _any(parts: list[dict]) -> dict:
        if not parts:
            return NEVER
        return {"$or": parts} if len(parts) > 1 else parts[0]

    @staticmethod
    def _all(parts: list[dict]) -> dict:
        if not parts:  # the loader refuses an empty one_of; a parameter's list is never empty either
            raise EngineError("a negated condition compares with an empty list of values")
        return {"$and": parts} if len(parts) > 1 else parts[0]


class Session:
    """One engine ruleset for one rule set and one kind of component: the rules for that kind and for
    any kind. decide() runs one product of that kind, on its dates, in isolation. The engine reads
    the dates too: each rule is compiled once per period in which it is in force and the parameters
    it reads keep their values, guarded by the product's dates, so one session serves every date."""

    def __init__(self, ruleset: RuleSet, kind: str | None, reuse: bool = True):
        self.ruleset = ruleset
        self.reuse = reuse  # False: the engine runs every product, even one in a cell it has decided
        self.stages = [s.name for s in ruleset.stages]
        self.rules = [r for r in ruleset.rules if r.applies_to(kind)]
        self._sids = itertools.count()
        self._state: str | None = None  # the engine state products run in, and how many have (each
        self._in_state = 0  # product's facts carry its place in the state: no two facts are alike)
        self._run: dict[str, Any] = {}
        self._errors: list[str] = []
        self._handle = None
        self._encoding: dict[tuple, tuple] = {}  # each fact's engine fields, by its name and value
        compiler = self._compiler = Compiler(ruleset, kind)
        # the facts this session's rules read: a product's other facts are not sent (the engine
        # limits the fields of one fact, and an unread field only costs)
        self._read = frozenset(c.fact for r in self.rules for c in comparisons(r.when)) | {ruleset.role("kind")}
        # and each stage's fact carries only what that stage's rules read (and the kind, and the dates' eras)
        self._stage_reads = {s: frozenset(c.fact for r in self.rules if r.stage == s for c in comparisons(r.when))
                             | {ruleset.role("kind")} for s in self.stages}
        self._stage_fields = {s: frozenset(f for name in reads for f in fields(name, ruleset.facts[name]))
                              for s, reads in self._stage_reads.items()}
        # per derive stage, each true/false fact it concludes and the rules that conclude it
        self._concluding: dict[str, dict[str, list[Rule]]] = {s: {} for s in self.stages}
        definition: dict[str, dict] = {}
        self._actions: dict[str, Callable[[], None]] = {}  # each engine rule's action, by the engine rule's name
        periods = {rule.id: compiler.periods(rule) for rule in self.rules}
        changes: dict[str, set[dt.date]] = {key: set() for key in _DATE}  # the first day of each period
        for bounds, _ in (p for ps in periods.values() for p in ps):
            for key, (first, last) in bounds.items():
                changes[key].update(d for d in (first, last and last + dt.timedelta(days=1)) if d is not None)
        self._eras = {key: sorted(days) for key, days in changes.items()}
        for rule in self.rules:
            action = self._guard(self._fire(rule))
            booleans = [f for f in rule.then if ruleset.facts[f].type == "bool"]
            derives = ruleset.stage_kind(rule.stage) == "derive" and booleans
            failed = self._guard(self._fail(rule)) if derives else None
            for fact in booleans if derives else ():
                self._concluding[rule.stage].setdefault(fact, []).append(rule)
            for p, (bounds, values) in enumerate(periods[rule.id], start=1):
                compiler.values = values
                guard = compiler.guard(bounds, self._eras)
                for n, conj in enumerate(compiler.variants(rule.when), start=1):
                    match = compiler.conjunction(rule, conj, guard)
                    self._define(definition, f"{rule.id}#{p}.{n}", 1, match, action)
                if failed is None:
                    continue
                for n, conj in enumerate(compiler.variants(rule.when, negate=True), start=1):
                    match = compiler.conjunction(rule, conj, guard)
                    self._define(definition, f"{rule.id}#{p}.fails{n}", 1, match, failed)
        for index, stage in enumerate(self.stages):
            following = self.stages[index + 1] if index + 1 < len(self.stages) else None
            self._define(definition, f"$advance.{stage}", 1000, {"_stage": "v:" + stage},
                         self._guard(self._advance(stage, following)))
        try:  # the engine's own ruleset, made directly: durable.Ruleset would keep the definition and a
            # promise for each action, which this module's loop does not use
            self._handle = durable_rules_engine.create_ruleset(f"ampc{next(_names)}", _json(definition).decode())
        except Exception as exc:
            raise EngineError(f"the rule engine refused the compiled rule set ({exc}); a rule is too large "
                              "for one engine rule (fix: split its conditions into smaller any/all groups)")
        self._staged = {stage: [r for r in self.rules if r.stage == stage] for stage in self.stages}
        self._cells = tuple(self._cell_reader(name, compiler.cuts.get(name, set())) for name in sorted(self._read))
        self._concluded: dict[tuple, EngineResult] = {}
        # each stage's cell reads only the facts that stage's rules read (positions in a product's cell)
        self._stage_cells = {s: tuple(i for i, (name, _, _) in enumerate(self._cells, start=1)
                                      if name in self._stage_reads[s]) for s in self.stages}
        self._stage_concluded: dict[str, dict[tuple, StageResult]] = {s: {} for s in self.stages}

    def _cell_reader(self, name: str, cuts: set[Any]) -> tuple[str, str, Any]:
        """(fact, its type, what its cell is read against): for a quantity or date the sorted points
        the compiled tests compare it with, for an enum, text or set the values they name."""
        kind = self.ruleset.facts[name].type
        if kind in ("quantity", "date"):
            return name, kind, sorted(cuts)
        return name, kind, frozenset(cuts)

    def cells(self, facts: dict[str, Any], eras: tuple[int, ...]) -> tuple:
        """The cell the product falls in: for each fact the session reads, which side of (or which of)
        the values its compiled tests compare it with, and the eras of its dates. Every test the
        engine makes is constant on a cell, so products in the same cell get the same conclusions."""
        out: list[Any] = [eras]
        for name, kind, against in self._cells:
            value = facts.get(name)
            if value is None or kind == "bool":
                out.append(value)
            elif kind in ("quantity", "date"):
                i = bisect.bisect_left(against, value)
                out.append(2 * i + 1 if i < len(against) and against[i] == value else 2 * i)
            elif kind == "set":
                out.append(value & against if isinstance(value, frozenset) else value)
            else:  # enum or text: a value no test names is like any other such value
                out.append(value if value in against else _OTHER)
        return tuple(out)

    def _define(self, definition: dict, name: str, priority: int, match: dict, action: Callable[[], None]) -> None:
        """One engine rule: its match on the stage's fact and its action, which `_drive` calls."""
        definition[name] = {"pri": priority, "all": [{"m": match}]}
        self._actions[name] = action

    def _guard(self, action: Callable[[], None]) -> Callable[[], None]:
        def guarded() -> None:
            try:
                action()
            except Exception as exc:  # recorded, and the run abandoned with it
                self._errors.append(f"{type(exc).__name__}: {exc}")
                raise
        return guarded

    def _stage_fact(self, stage: str, sid: str) -> dict:
        """The fact one stage's rules match: the product's facts they read, what the stages before
        concluded, the eras of its dates, the stage's name."""
        reads, wanted, run = self._stage_reads[stage], self._stage_fields[stage], self._run
        fact = {k: v for k, v in run["encoded"].items() if k in wanted}
        fact.update(encode({k: v for k, v in run["derived"].items() if k in reads}, self.ruleset.facts,
                           self._encoding))
        fact.update(run["eras"])
        fact["sid"], fact["_stage"], fact["_product"] = sid, "v:" + stage, run["serial"]
        return fact

    def _drive(self, state: Any) -> None:
        """Run the actions the engine schedules for one product's state, one at a time, in its
        order: each is called with the fact it matched, then completed, which starts the next.
        This is the loop durable-rules' own `do_actions` runs, without its per-action closure,
        promise and re-encoded state, which ampc's actions do not use (they change no state)."""
        handle = self._handle
        started = durable_rules_engine.start_action_for_state(handle, state)
        if not started:
            return
        state_text, scheduled = started[0], started[1]
        while scheduled:
            # '{"<engine rule>":{"m":{...the fact matched...}}}': only the rule's name is read (the
            # actions take what they need from the product's run, not from the fact sent back)
            if not scheduled.startswith('{"'):
                raise EngineError(f"the rule engine scheduled an action ampc cannot read ({scheduled[:80]}). "
                                  "This is a bug in ampc")
            name = json.decoder.scanstring(scheduled, 2)[0]
            try:
                self._actions[name]()
            except Exception:
                durable_rules_engine.abandon_action(handle, state)
                raise
            durable_rules_engine.update_state(handle, state_text)
            scheduled = durable_rules_engine.complete_and_start_action(handle, state)

    def _post(self, fact: dict) -> Any:
        """Assert one stage's fact; the handle of the state it joins."""
        result = durable_rules_engine.assert_fact(self._handle, _json(fact).decode())
        if result[0] in (1, 2):  # not handled or already observed: no rule matches the stage's fact
            raise EngineError(f"the rule engine did not take the fact of stage {fact.get('_stage', '?')[2:]} "
                              f"(status {result[0]}). This is a bug in ampc")
        return result[1]

    def _fire(self, rule: Rule) -> Callable[[], None]:
        def action() -> None:
            fired = self._run["fired"][rule.stage]
            if rule.id in fired:  # another disjunct of the same rule matched too
                return
            fired.append(rule.id)
            if self.ruleset.stage_kind(rule.stage) == "derive":
                self._run["derived"].update(rule.then)
        return action

    def _fail(self, rule: Rule) -> Callable[[], None]:
        def action() -> None:
            self._run["failed"].add(rule.id)
        return action

    def _advance(self, stage: str, following: str | None) -> Callable[[], None]:
        def action() -> None:
            self._run["stages_run"].append(stage)
            kind = self._run["kind"]
            for fact, rules in self._concluding[stage].items():
                mine = [r.id for r in rules if r.applies_to(kind) and r.in_force(self._run["when"])]
                if mine and all(rid in self._run["failed"] for rid in mine):  # none holds, none is open
                    self._run["derived"].setdefault(fact, False)
            if self.ruleset.stage_kind(stage) == "choose":
                fired = self._run["fired"][stage]
                by_family: dict[str, list[str]] = {}
                for rid in fired:
                    by_family.setdefault(self.ruleset.rule(rid).family, []).append(rid)  # choose rules: one family
                for family, ids in by_family.items():
                    won = self.ruleset.winner(family, ids)
                    if won:
                        self._run["derived"].update(self.ruleset.rule(won).then)
            if following is None or (kind is not None and self._settles(stage, kind)):
                self._run["done"] = True
        return action

    def _settles(self, stage: str, kind: str) -> bool:
        """Whether the stage just run settles the product, so that no later stage is run: an identity
        no rule of the product's kind concludes, or no class that wins (none in force, none that
        holds, or several that hold with no precedence between them). The decider settles it there too."""
        fired = self._run["fired"][stage]
        role = self.ruleset.stage_kind(stage)
        if role == "derive":
            return not fired and any(r.applies_to(kind) and r.in_force(self._run["when"]) for r in self._staged[stage])
        if role == "choose":
            return not fired or self.ruleset.winner(kind, list(fired)) is None
        return False

    def decide(self, facts: dict[str, Any], when: When | dt.date) -> EngineResult:
        """The engine's conclusions on one product sold, produced and taxed on the dates `when`."""
        if self._handle is None:
            raise EngineError("the engine session is closed")
        when = as_when(when)
        eras = tuple(bisect.bisect_right(self._eras[k], when.date_for(k)) for k in _DATE)
        try:
            cell = self.cells(facts, eras) if self.reuse else None
        except TypeError:  # a value of no vocabulary type (the encoder below names it)
            cell = None
        if cell is not None and cell in self._concluded:
            return self._concluded[cell]
        self._run = run = {
            "fired": {s: [] for s in self.stages}, "failed": set(), "derived": {}, "stages_run": [],
            "done": False, "when": when, "eras": dict(zip(_DATE.values(), eras)), "sid": None,
            "kind": kind if isinstance(kind := facts.get(self.ruleset.role("kind")), str) else None,
            "encoded": encode({k: v for k, v in facts.items() if k in self._read}, self.ruleset.facts,
                              self._encoding)}
        try:
            for stage in self.stages:
                key = None
                if cell is not None:
                    try:
                        key = (eras, tuple(sorted(run["derived"].items())),
                               tuple(cell[i] for i in self._stage_cells[stage]))
                        hash(key)
                    except TypeError:  # a concluded value that cannot be a key: the engine runs the stage
                        key = None
                concluded = self._stage_concluded[stage]
                done = concluded.get(key) if key is not None else None
                if done is None:
                    done = self._run_stage(stage)
                    if key is not None:
                        _keep(concluded, key, done)
                run["fired"][stage] = list(done.fired)
                run["derived"].update(done.derived)
                run["stages_run"].append(stage)
                if done.last:
                    break
            else:
                raise EngineError(f"the engine stopped after stages {', '.join(run['stages_run'])} without "
                                  "reaching the last stage: no decision was made. This is a bug in ampc")
        except BaseException:  # a run that failed may leave an action open: its state is not used again
            self._drop_state()
            raise
        result = EngineResult({k: tuple(v) for k, v in run["fired"].items()},
                              dict(run["derived"]), tuple(run["stages_run"]))
        if cell is not None:
            _keep(self._concluded, cell, result)
        return result

    def _run_stage(self, stage: str) -> StageResult:
        """Run one stage of the current product through the engine: its fact asserted (in the
        product's state, made on its first stage run) and the actions the engine schedules run."""
        run = self._run
        if run["sid"] is None:  # the product's first stage run: it joins the shared state
            if self._state is None or self._in_state >= SHARED:
                self._drop_state()
                self._state = str(next(self._sids))
            self._in_state += 1
            run["sid"], run["serial"] = self._state, self._in_state
        before = dict(run["derived"])
        self._errors.clear()
        failed: str | None = None  # the engine refused the fact or failed in C
        try:
            self._drive(self._post(self._stage_fact(stage, run["sid"])))
        except EngineError:
            raise
        except Exception as exc:  # an action's error is in self._errors too
            failed = f"{type(exc).__name__}: {exc}"
        if failed is not None:
            if any("error code: 303" in p for p in (*self._errors, failed)):  # ERR_MAX_STACK_SIZE in its C core
                raise EngineError("the rule engine ran out of room matching this product: more than 64 of "
                                  "its tests held at once (a limit of durable-rules). This is a bug in how "
                                  "ampc compiles the rules; please report it with this product's facts")
            if self._errors:
                raise EngineError("a rule action failed inside the engine: " + "; ".join(self._errors))
            raise EngineError(f"the rule engine failed: {failed}")
        if run["stages_run"][-1:] != [stage]:
            raise EngineError(f"the engine did not complete stage {stage} (its closing rule did not run): "
                              "no decision was made. This is a bug in ampc")
        run["stages_run"].pop()  # decide() appends it, for a stage run or served from its cell alike
        derived = {k: v for k, v in run["derived"].items() if k not in before or before[k] != v}
        return StageResult(tuple(run["fired"][stage]), derived, run["done"])

    def _drop_state(self) -> None:
        """Delete the shared engine state (its products' facts with it); the next product makes another."""
        if self._state is not None:
            try:
                durable_rules_engine.delete_state(self._handle, self._state)
            except Exception:  # nothing left to free
                pass
        self._state, self._in_state = None, 0

    def close(self) -> None:
        if self._handle is not None:
            durable_rules_engine.delete_ruleset(self._handle)
            self._handle = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
