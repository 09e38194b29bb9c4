"""The generator: loads the rule set, decides every example once, renders each kind of page from
its template (docs/templates/), writes the pages that changed into docs/ and returns the
navigation, in the instructions' order; and `mkdocs build --strict` on the project."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ampc.docs import coverage, editions, facts, interpretations, part_iv, rules_page, sources
from ampc.docs.context import INTERPRETATIONS, Ctx
from ampc.docs.errors import DocsError
from ampc.docs.examples import Example, Runner, exercised, read_examples
from ampc.docs.outline import Page, build_outline
from ampc.docs.text import PROJECT, cell, code, md, tidy
from ampc.errors import ValidationFailed
from ampc.rules.loader import load_ruleset
from ampc.rules.model import RuleSet, When

MANIFEST = ".generated"  # the files the last run wrote, so a renamed rules file leaves no stale page
ASSETS = {"ampc.css": "assets/ampc.css"}
CHECK_PAGE = "reference/overlaps-and-gaps.md"  # copied from docs/templates/ as they are
GUIDES = (("auditors.md", "Reading a decision record (auditors)"), ("analysts.md", "Changing the rules (analysts)"))


@dataclass
class Site:
    pages: list  # (path, title, chapter) of the instruction pages
    nav: list
    written: list


def generate(root: Path | str | None = None, out: Path | str | None = None, *, docs_dir: Path | str | None = None,
             cases_dir: Path | str | None = None, as_of: dt.date | None = None,
             ruleset: RuleSet | None = None) -> Site:
    """Render every page from the rule set at root into out (default docs/); return the navigation."""
    docs = Path(docs_dir or PROJECT / "docs")
    out = Path(out or docs)
    cases_root = Path(cases_dir or PROJECT / "tests" / "cases")
    if ruleset is None:
        try:
            ruleset = load_ruleset(root)
        except ValidationFailed as exc:
            raise DocsError("the rule set does not validate, so the docs cannot be built:\n  "
                            + "\n  ".join(str(p) for p in exc.problems))
    rules_page.check_rules(ruleset)
    pages = build_outline(ruleset, docs / "outline.yaml")
    runner = Runner(ruleset)
    try:
        ctx = Ctx(ruleset, runner, as_of or default_as_of())
        env = _env(docs / "templates")
        env.globals["law_on_date"] = law_on_date(ruleset, ctx.as_of)
        return _render(ctx, pages, env, Path(ruleset.root), out, docs, cases_root)
    finally:
        runner.close()


def default_as_of() -> dt.date:
    text = os.environ.get("AMPC_DOCS_AS_OF", "")
    return dt.date.fromisoformat(text) if text else dt.date.today()


def law_on_date(rs: RuleSet, day: dt.date) -> str:
    """The edition of the law whose thresholds the pages show: the one deciding a sale on that day
    in a calendar taxable year, in words."""
    name = rs.edition_deciding(When(day, day, dt.date(day.year, 1, 1)))
    found = rs.editions.get(name)
    return md(f"the edition {name}, {found.form}" if found else "the rules as given")


def _env(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(md=md, cell=cell, code=code)
    return env


def _index(ctx: Ctx, pages: list[Page]) -> None:
    """Where each rule is documented, the paragraphs that name it, its open reading, the editions."""
    rs = ctx.rs
    for page in pages:
        owned = {s.file for s in page.sections}
        for r in rs.rules:
            if r.file in owned:
                ctx.home[r.id] = page.path
        for para in page.paragraphs:
            for r in para.rules:
                ctx.paragraphs_of.setdefault(r.id, []).append((page, para))
    ctx.reading_of = interpretations.anchors(interpretations.open_readings(rs))
    ctx.editions = editions.editions_of(rs)


def _examples(ctx: Ctx, docs: Path, cases_root: Path) -> tuple[dict, dict, dict]:
    """Every rules file's test cases and worked examples, decided once; and each case's expectation."""
    cases_of: dict[str, list[Example]] = {}
    expect_of: dict[str, dict] = {}
    worked_of: dict[str, list[Example]] = {}
    for section in ctx.rs.sections:
        mirror = section.file.split("rules/", 1)[-1]
        cases, defaults = read_examples(cases_root / mirror, "cases")
        cases_of[section.file] = [ctx.runner.run(item, f"tests/cases/{mirror}") for item, _ in cases]
        expect_of.update({f"{mirror}: {item['product']}": expect for item, expect in cases})
        worked, _ = read_examples(docs / "examples" / mirror, "examples", defaults)
        worked_of[section.file] = [ctx.runner.run(item, f"docs/examples/{mirror}") for item, _ in worked]
    return cases_of, expect_of, worked_of


def _render(ctx: Ctx, pages: list[Page], env: jinja2.Environment, root: Path, out: Path, docs: Path,
            cases_root: Path) -> Site:
    rs = ctx.rs
    _index(ctx, pages)
    files: dict[str, str] = {}
    # the YAML sources first: the rule blocks link to their lines
    source_nav = []
    for rel in sources.rules_files(rs, root):
        chunks, anchors = sources.chunks(root, rel, [r for r in rs.rules if r.where.rpartition(":")[0] == rel])
        ctx.source_of.update({rid: (sources.source_page(rel), a) for rid, a in anchors.items()})
        files[sources.source_page(rel)] = env.get_template("source.md.j2").render(file=rel, chunks=chunks, rs=rs)
        source_nav.append({rel: sources.source_page(rel)})
    fact_files = sources.fact_files(root)
    for rel in fact_files:
        text = (root / rel).read_text(encoding="utf-8").rstrip()
        files[sources.source_page(rel)] = env.get_template("source.md.j2").render(
            file=rel, chunks=[{"id": "", "ids": [], "line": 1, "text": text}], rs=rs)
        source_nav.append({rel: sources.source_page(rel)})
    cases_of, expect_of, worked_of = _examples(ctx, docs, cases_root)
    chapters: dict[str, list] = {}
    summaries: dict[str, dict] = {}
    n_cases = {f: len(v) for f, v in cases_of.items()}
    n_worked = {f: len(v) for f, v in worked_of.items()}
    for page in pages:
        owned = {s.file for s in page.sections}
        rules = [r for r in rs.rules if r.file in owned]
        cases = [c for s in page.sections for c in cases_of.get(s.file, [])]
        worked = [w for s in page.sections for w in worked_of.get(s.file, [])]
        files_view = rules_page.files_view(page, cases_root, n_cases, n_worked, sources.source_page)
        context = rules_page.page_context(ctx, page, rules, cases, worked, files_view)
        files[page.path] = env.get_template("section.md.j2").render(**context)
        chapters.setdefault(page.chapter, []).append({page.title: page.path})
        summaries[page.path] = coverage.page_summary(page, len(rules), len(cases))
    part_iv_context = part_iv.context(ctx)
    if part_iv_context:
        files[part_iv.PAGE] = env.get_template("part_iv.md.j2").render(**part_iv_context)
        chapters[part_iv.CHAPTER] = [{part_iv.TITLE: part_iv.PAGE}]
    common = {"rs": rs, "as_of": ctx.as_of, "short_hash": rs.sha256[:12]}
    files["reference/facts.md"] = env.get_template("facts.md.j2").render(
        groups=facts.groups(ctx, root, fact_files), **common)
    files[coverage.PAGE] = env.get_template("coverage.md.j2").render(
        rows=coverage.rows(ctx, pages, exercised(cases_of, expect_of)), **common)
    files[CHECK_PAGE] = env.get_template("rules_check.md.j2").render(body=_rules_check(ctx), **common)
    files[INTERPRETATIONS] = env.get_template("interpretations.md.j2").render(
        **interpretations.page_context(ctx, interpretations.open_readings(rs)))
    files[editions.CHANGES] = env.get_template("changes.md.j2").render(**editions.changes_context(ctx), **common)
    edition_nav = [{"Changes between editions": editions.CHANGES}]
    for name, _label, _day, _rs in ctx.editions:
        files[editions.page_of(name)] = env.get_template("edition.md.j2").render(
            **editions.edition_context(ctx, name, pages))
        edition_nav.append({f"Edition {name}": editions.page_of(name)})
    for name, target in ASSETS.items():
        files[target] = (docs / "templates" / name).read_text(encoding="utf-8")
    guides = [{title: name} for name, title in GUIDES if (docs / name).is_file()]
    nav: list = [{"Home": "index.md"}, *({c: entries} for c, entries in chapters.items())]
    nav.append({"Reference": [{"Interpretations": INTERPRETATIONS}, {"Fact vocabulary": "reference/facts.md"},
                              {"Coverage": coverage.PAGE}, {"Overlaps and gaps": CHECK_PAGE},
                              {"YAML sources": source_nav}]})
    nav.append({"Editions": edition_nav})
    if guides:
        nav.append({"Guides": guides})
    index_chapters = [(c, [(t, p, summaries[p]) for e in entries for t, p in e.items() if p in summaries])
                      for c, entries in chapters.items()]
    files["index.md"] = env.get_template("index.md.j2").render(
        chapters=[c for c in index_chapters if c[1]], guides=guides, editions=edition_nav[1:],
        part_iv=part_iv.PAGE if part_iv_context else "", **common)
    written = _write(out, {path: tidy(text) if path.endswith(".md") else text for path, text in files.items()})
    return Site([(p.path, p.title, p.chapter) for p in pages], nav, written)


def _rules_check(ctx: Ctx) -> str:
    """The report of `ampc rules check` on the rule set, its witnesses decided by the engine."""
    from ampc.analysis.check import check
    from ampc.analysis.check_render import render_markdown
    return render_markdown(check(ctx.rs), lambda rid: ctx.rule_link(rid, CHECK_PAGE))


def _write(out: Path, files: dict[str, str]) -> list[str]:
    """Write each page only if its text changed (mkdocs serve watches these), and drop stale ones."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    previous = manifest.read_text(encoding="utf-8").split() if manifest.is_file() else []
    written = []
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(rel)
    for rel in previous:
        if rel not in files and (out / rel).is_file():
            (out / rel).unlink()
    listing = "\n".join(sorted(files)) + "\n"
    if not manifest.is_file() or manifest.read_text(encoding="utf-8") != listing:
        manifest.write_text(listing, encoding="utf-8")
    return written


def build_site(site_dir: Path | str | None = None, strict: bool = True) -> int:
    """`mkdocs build --strict` on mkdocs.yml at the project root (its hook generates the pages)."""
    command = [sys.executable, "-m", "mkdocs", "build", "--config-file", str(PROJECT / "mkdocs.yml")]
    if strict:
        command.append("--strict")
    if site_dir:
        command += ["--site-dir", str(site_dir)]
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # mkdocs-material's end-of-life banner, not a warning
    return subprocess.call(command, cwd=PROJECT, env=env)
