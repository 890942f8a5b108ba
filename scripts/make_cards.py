"""Make the card pictures README and docs/social-cards.md show: the example site's lighthouse post, built offline (its
background is the placeholder of its `social: true` directive) once per layout, each
card made by the plugin and saved at half size.

    python scripts/make_cards.py    # from the repository, with the plugin installed
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
LAYOUTS = ("default", "invert", "only_image")
CARD = Path("site/assets/nanobanana/social/posts/lighthouse-weekend.jpg")


def main() -> None:
    mkdocs = str(Path(sys.executable).with_name("mkdocs"))
    env = {**os.environ, "NANOBANANA_MODE": "offline", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "example_site"
        shutil.copytree(REPO / "example_site", site, ignore=shutil.ignore_patterns("site", ".cache", "material"))
        config = (site / "mkdocs.yml").read_text(encoding="utf-8")
        for layout in LAYOUTS:
            (site / "mkdocs.yml").write_text(config + f"        layout: {layout}\n", encoding="utf-8")
            subprocess.run([mkdocs, "build", "-q"], cwd=site, env=env, check=True)
            with Image.open(site / CARD) as card:
                out = REPO / "docs" / "assets" / "cards" / f"card-{layout}.jpg"
                card.resize((600, 315), Image.Resampling.LANCZOS).save(out, "JPEG", quality=80, optimize=True)
            print(out.relative_to(REPO), out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
