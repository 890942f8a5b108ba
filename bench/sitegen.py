"""A synthetic MkDocs site that looks like a real one: front matter, headings, paragraphs,
code blocks, admonitions, tables, a nav, and image directives of every kind spread
across the pages (mixed ratios, some hd, some num > 1, some with a reference image)."""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image

WORDS = ("reading nook lamp window rain blanket shelf lighthouse coast chair sketch watercolor "
         "morning evening paper ink harbour garden kettle letter map journey quiet corner").split()
RATIOS = ["16:9", "1:1", "4:3", "3:2", "2:3", "3:4"]


def _sentence(rng: random.Random, n: int = 14) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def directive(i: int, rng: random.Random, salt: str = "") -> str:
    lines = [f"prompt: {_sentence(rng, 10)[:-1]}, illustration {i}{salt}",
             f'ratio: "{RATIOS[i % len(RATIOS)]}"', f"alt: Illustration {i}"]
    if i % 10 == 3:
        lines.append("variant: hd")
    if i % 10 == 5:
        lines += ["num: 2", "pick: 2"]
    if i % 20 == 7:
        lines.append("refs: [../img/sketch.png]")  # pages live one folder down
    return "```nanobanana\n" + "\n".join(lines) + "\n```\n"


def page_text(p: int, directives: list[str], rng: random.Random) -> str:
    parts = [f"---\ntitle: Page {p}\ndescription: {_sentence(rng, 12)}\n---\n", f"# Page {p}\n"]
    for s in range(3):
        parts.append(f"## Section {s}\n\n" + " ".join(_sentence(rng) for _ in range(5)) + "\n")
        if s == 0:
            parts.append("```python\ndef corner(n):\n    return [n * i for i in range(10)]\n```\n")
        if s == 1:
            parts.append('!!! note "Aside"\n\n    ' + _sentence(rng) + "\n")
        if s == 2:
            parts.append("| a | b | c |\n|---|---|---|\n" + "".join(f"| {i} | {i * 2} | {i * 3} |\n" for i in range(4)))
        if directives:
            parts.append(directives.pop(0))
    parts.extend(directives)
    return "\n".join(parts)


@dataclass(frozen=True)
class Site:
    """One synthetic site: the same docs built with the plugin (``on``) and without it
    (``off``: not in the plugins list at all, so its import is not paid either)."""

    root: Path
    on: Path
    off: Path

    @property
    def cache(self) -> Path:
        return self.root / ".cache" / "nanobanana"


MINIMAL_THEME = ("<!doctype html><html><head><title>{{ page.title }}</title></head>"
                 "<body>{{ page.content }}</body></html>\n")


def make_site(root: Path, pages: int, images: int, *, plugin: dict | None = None, seed: int = 0, salt: str = "",
              minimal_theme: bool = False) -> Site:
    """Write the site under ``root``. ``salt`` changes every prompt (a cold cache without
    deleting anything). ``minimal_theme``: a one-line template instead of the mkdocs
    theme, whose full nav on every page makes a build quadratic in pages; for figures
    that are about the plugin's own time at thousands of pages."""
    rng = random.Random(seed)
    docs = root / "docs"
    (docs / "img").mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.linear_gradient("L").resize((512, 512)).convert("RGB").save(buf, "PNG")
    (docs / "img" / "sketch.png").write_bytes(buf.getvalue())
    per_page: list[list[str]] = [[] for _ in range(pages)]
    for i in range(images):
        per_page[i * pages // images].append(directive(i, rng, salt))
    nav = []
    for p in range(pages):
        name = f"section-{p // 50}/page-{p}.md"
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(page_text(p, per_page[p], rng), encoding="utf-8")
        nav.append(name)
    (docs / "index.md").write_text("# Bench site\n\nA synthetic site.\n", encoding="utf-8")
    config: dict = {"site_name": "Bench", "nav": ["index.md"] + nav, "markdown_extensions": ["admonition", "tables"]}
    if minimal_theme:
        (root / "theme").mkdir(exist_ok=True)
        (root / "theme" / "main.html").write_text(MINIMAL_THEME, encoding="utf-8")
        config["theme"] = {"name": None, "custom_dir": "theme"}
    options = {"max_credits": 1_000_000, **(plugin or {})}
    return write_configs(root, config, options)


def write_configs(root: Path, config: dict, options: dict, others: list | None = None) -> Site:
    """mkdocs.yml with the plugin and mkdocs-off.yml without it, beside each other so
    that both read the same docs and write the same site folder."""
    others = ["search"] + (others or [])
    on = {**config, "plugins": others + [{"nanobanana": options}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(on, sort_keys=False), encoding="utf-8")
    (root / "mkdocs-off.yml").write_text(yaml.safe_dump({**config, "plugins": others}, sort_keys=False),
                                         encoding="utf-8")
    return Site(root, root / "mkdocs.yml", root / "mkdocs-off.yml")


def edit_one_prompt(site: Site) -> Path:
    """Change the prompt of the first directive of the site; the page changed."""
    page = next(p for p in sorted((site.root / "docs").rglob("page-*.md")) if "```nanobanana" in p.read_text())
    page.write_text(page.read_text(encoding="utf-8").replace("prompt: ", "prompt: Edited, ", 1), encoding="utf-8")
    return page


def make_card_site(root: Path, pages: int, plugin: dict) -> dict[str, Path]:
    """``pages`` pages with a title and a description and no image, under Material for
    MkDocs, in three configurations: no cards (``none``), Material's social plugin
    (``material``, with its default concurrency, and ``material2`` with as many workers
    as ours), and our cards (``ours``, every page a card from the prompt template;
    ``ours_text``, the plugin's defaults: a text card on every page)."""
    rng = random.Random(1)
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for p in range(pages):
        (docs / f"post-{p}.md").write_text(
            f"---\ntitle: {_sentence(rng, 6)[:-1]} {p}\ndescription: {_sentence(rng, 14)}\n---\n\n"
            + "\n\n".join(_sentence(rng) for _ in range(4)) + "\n", encoding="utf-8")
    (docs / "index.md").write_text("# Cards\n", encoding="utf-8")
    base = {"site_name": "Bench cards", "site_url": "https://example.org/", "theme": {"name": "material"}}
    configs = {
        "none": {**base, "plugins": ["search"]},
        "material": {**base, "plugins": ["search", {"social": {"cache_dir": ".cache/plugin/social"}}]},
        "material2": {**base, "plugins": ["search", {"social": {"cache_dir": ".cache/plugin/social",
                                                                 "concurrency": os.cpu_count() or 1}}]},
        "ours": {**base, "plugins": ["search", {"nanobanana": {"max_credits": 1_000_000, **plugin,
                                                               "social": {"generate": True}}}]},
        # the defaults: no directive, so every page gets a text card (social.source: auto), free
        "ours_text": {**base, "plugins": ["search", {"nanobanana": dict(plugin)}]},
    }
    out = {}
    for name, config in configs.items():
        out[name] = root / f"{name}.yml"
        out[name].write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out
