"""Make README's card pictures, each a card the plugin drew in a real offline build of the
example site, saved at half size:

- card-<layout>.jpg: the lighthouse post in each built-in layout, on its `social: true`
  directive's image (its placeholder, offline);
- card-text-<layout>.jpg: a page with no image, a text card (the defaults: free), in
  Material's default, accent, invert and variant colourings;
- card-text-ja.jpg, card-text-ar.jpg: Japanese and Arabic titles (fonts-noto-cjk, fonts-noto-core);
- card-brand.jpg: the lighthouse post in docs/assets/cards/brand-layout.yml.

    python scripts/make_cards.py   # from the repository, plugin installed
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
ASSETS = REPO / "docs" / "assets" / "cards"  # README and docs/social-cards.md show them
IMAGE_LAYOUTS = ("default", "invert", "only_image", "accent", "variant")
TEXT_LAYOUTS = ("default", "accent", "invert", "variant")
SOCIAL = Path("site/assets/nanobanana/social")
ABOUT = ("---\ntitle: About this site\ndescription: Who writes here, and why the pictures are generated.\n"
         "author: The editors\n---\n# About this site\n\nNo picture on this page: its card is a text card.\n")
SCRIPTS = {"ja.md": "# 雨の日の読書コーナー、猫と本について\n", "ar.md": "# ركن القراءة في يوم ممطر\n"}


def build(site: Path, social: str, env: dict) -> None:
    config = (site / "mkdocs.yml").read_text(encoding="utf-8").split("      social:\n")[0]
    (site / "mkdocs.yml").write_text(config + "      social:\n" + social, encoding="utf-8")
    subprocess.run([str(Path(sys.executable).with_name("mkdocs")), "build", "-q"], cwd=site, env=env, check=True)


def save(card: Path, name: str, outs: list[Path]) -> None:
    with Image.open(card) as img:
        small = img.convert("RGB").resize((600, 315), Image.Resampling.LANCZOS)
    for out_dir in outs:
        out = out_dir / name
        small.save(out, "JPEG", quality=80, optimize=True)
        print(out.relative_to(REPO), out.stat().st_size, "bytes")


def main() -> None:
    outs = [ASSETS]
    for out_dir in outs:
        out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NANOBANANA_MODE": "offline", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "example_site"
        shutil.copytree(REPO / "example_site", site, ignore=shutil.ignore_patterns("site", ".cache", "material"))
        (site / "docs" / "about.md").write_text(ABOUT, encoding="utf-8")
        for name, text in SCRIPTS.items():
            (site / "docs" / name).write_text(text, encoding="utf-8")
        shutil.copy(ASSETS / "brand-layout.yml", site / "brand.yml")
        post = site / "docs" / "posts" / "lighthouse-weekend.md"  # the field the brand layout shows
        post.write_text(post.read_text(encoding="utf-8").replace("---\n", "---\nauthor: Mira Okafor\n", 1),
                        encoding="utf-8")
        lighthouse = SOCIAL / "posts" / "lighthouse-weekend.jpg"
        for layout in IMAGE_LAYOUTS:
            build(site, f"        layout: {layout}\n", env)
            save(site / lighthouse, f"card-{layout}.jpg", outs)
            if layout in TEXT_LAYOUTS:
                save(site / SOCIAL / "about.jpg", f"card-text-{layout}.jpg", outs)
            if layout == "default":
                for name in SCRIPTS:
                    save(site / SOCIAL / name.replace(".md", ".jpg"), f"card-text-{name[:-3]}.jpg", outs)
        build(site, "        layout: brand.yml\n", env)
        save(site / lighthouse, "card-brand.jpg", outs)


if __name__ == "__main__":
    main()
