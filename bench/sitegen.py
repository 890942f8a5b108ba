"""A synthetic MkDocs site that looks like a real one: front matter, headings, paragraphs,
code blocks, admonitions, tables, a nav, and image directives of every kind spread
across the pages (mixed ratios, some hd, some num > 1, some with a reference image)."""

from __future__ import annotations

import io
import random
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


def make_site(root: Path, pages: int, images: int, *, plugin: dict | None = None, enabled: bool = True,
              seed: int = 0, salt: str = "") -> Path:
    """Write the site under ``root``; returns its mkdocs.yml. ``salt`` changes every
    prompt (a cold cache without deleting anything)."""
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
    options = {"enabled": enabled, "max_credits": 1_000_000, **(plugin or {})}
    config = {"site_name": "Bench", "nav": ["index.md"] + nav,
              "markdown_extensions": ["admonition", "tables"], "plugins": ["search", {"nanobanana": options}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root / "mkdocs.yml"


def set_enabled(config_file: Path, enabled: bool) -> None:
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["plugins"][1]["nanobanana"]["enabled"] = enabled
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
