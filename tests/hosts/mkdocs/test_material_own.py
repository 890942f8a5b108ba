"""Issue 37 with Material for MkDocs around the figures: themes built on Material get
its column's ``sizes``, and the blog plugin's views (index, archive, category and their
pagination pages) load their first figure eagerly, as a post page does. Real `mkdocs
build` subprocesses; the themes are installed the way a theme package is (a dist-info
with a ``mkdocs.themes`` entry point on PYTHONPATH)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from mkdocs_nanobanana.core.settings import THEME_SIZES
from mkdocs_nanobanana.imaging.html_images import images
from tests.support.commands import bin_path, run

material = pytest.importorskip("material", reason="the test extra installs mkdocs-material")


def themes_on_path(folder: Path) -> dict[str, str]:
    """Two themes of other names built on Material, as packages on PYTHONPATH:
    ``materialx``, a fork that ships its own copy of Material's templates (as
    materialx does), and ``ontop``, whose mkdocs_theme.yml says ``extends: material``."""
    shutil.copytree(Path(material.__file__).parent / "templates", folder / "materialx_theme")
    (folder / "ontop_theme").mkdir()
    (folder / "ontop_theme" / "__init__.py").write_text("")
    (folder / "ontop_theme" / "mkdocs_theme.yml").write_text("extends: material\n")
    (folder / "plain_theme").mkdir()  # a theme of its own: no Material in it
    (folder / "plain_theme" / "__init__.py").write_text("")
    (folder / "plain_theme" / "mkdocs_theme.yml").write_text("{}\n")
    (folder / "plain_theme" / "main.html").write_text("<html><body>{{ page.content }}</body></html>\n")
    info = folder / "forks-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: forks\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mkdocs.themes]\nmaterialx = materialx_theme\nontop = ontop_theme\n"
                                           "plain = plain_theme\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (os.environ.get("PYTHONPATH"), str(folder))))}


def photo(path: Path, size=(1600, 1000), colour=(40, 90, 160)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, quality=80)


def write_config(root: Path, theme: dict, plugins: list | None = None, **plugin) -> None:
    config = {"site_name": "Material", "theme": theme, "markdown_extensions": ["attr_list"],
              "plugins": (plugins or []) + [{"nanobanana": {"responsive_images": True, "widths": [480, 768],
                                                            **plugin}}]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def sizes_of(html: str) -> list[str]:
    return [dict(t.tag.attrs)["sizes"] for t in images(html) if dict(t.tag.attrs).get("sizes")]


@pytest.mark.parametrize("theme", ["materialx", "ontop"])
def test_a_theme_built_on_material_gets_materials_sizes_on_every_kind_of_page(tmp_path, theme):
    env = themes_on_path(tmp_path / "themes")
    root = tmp_path / "proj"
    photo(root / "docs" / "photo.jpg")
    page = '```nanobanana\nprompt: A wide image\n```\n\n![A photo](photo.jpg)\n'
    (root / "docs" / "index.md").write_text("# Home\n\n" + page)
    (root / "docs" / "bare.md").write_text("---\nhide: [navigation, toc]\n---\n# Bare\n\n" + page)
    write_config(root, {"name": theme})
    run([bin_path("mkdocs"), "build"], cwd=root, env=env)
    assert sizes_of((root / "site" / "index.html").read_text()) == [THEME_SIZES["material"]] * 2
    bare = sizes_of((root / "site" / "bare" / "index.html").read_text())
    assert bare == [THEME_SIZES["material hide navigation toc"]] * 2


def test_another_theme_gets_each_images_own_width_or_the_sizes_option(tmp_path):
    env = themes_on_path(tmp_path / "themes")
    root = tmp_path / "proj"
    photo(root / "docs" / "photo.jpg")
    (root / "docs" / "index.md").write_text("# Home\n\n![A photo](photo.jpg)\n")
    write_config(root, {"name": "plain"})
    run([bin_path("mkdocs"), "build"], cwd=root, env=env)
    assert sizes_of((root / "site" / "index.html").read_text()) == ["(max-width: 1600px) 100vw, 1600px"]
    write_config(root, {"name": "plain"}, sizes="(min-width: 50em) 720px, 100vw")  # said once, for every image
    run([bin_path("mkdocs"), "build"], cwd=root, env=env)
    assert sizes_of((root / "site" / "index.html").read_text()) == ["(min-width: 50em) 720px, 100vw"]


#: (day, the excerpt's picture) of four posts, newest last; two a page, newest first:
#: page 1 shows 04 (generated) then 03 (own), page 2 shows 02 (own) then 01 (generated)
POSTS = [(1, '```nanobanana\nprompt: Post one image\n```'), (2, "![Post two photo](../../img/two.jpg)"),
         (3, "![Post three photo](../../img/three.jpg)"), (4, '```nanobanana\nprompt: Post four image\n```')]
#: each view page: the alt texts of its pictures, in order
VIEWS = {"blog/index.html": ["Post four image", "Post three photo"],
         "blog/page/2/index.html": ["Post two photo", "Post one image"]}
for _kind in ("archive/2026", "category/corners"):
    VIEWS[f"blog/{_kind}/index.html"] = VIEWS["blog/index.html"]
    VIEWS[f"blog/{_kind}/page/2/index.html"] = VIEWS["blog/page/2/index.html"]


def content_images(html: str) -> list[dict]:
    """The attributes of each <img> in the page's content (not the theme's logo)."""
    start = html.find('class="md-content')  # md-content, or a post's "md-content md-content--post"
    return [dict(t.tag.attrs) for t in images(html[start:])]


def test_blog_views_load_their_first_figure_eagerly_with_high_priority(tmp_path):
    root = tmp_path / "proj"
    photo(root / "docs" / "img" / "two.jpg", colour=(200, 40, 40))
    photo(root / "docs" / "img" / "three.jpg", colour=(40, 200, 40))
    (root / "docs" / "index.md").write_text("# Home\n")
    (root / "docs" / "blog" / "posts").mkdir(parents=True)
    (root / "docs" / "blog" / "index.md").write_text("# Blog\n")
    for day, picture in POSTS:
        (root / "docs" / "blog" / "posts" / f"p{day}.md").write_text(
            f"---\ndate: 2026-11-0{day}\ncategories: [Corners]\n---\n\n# Post {day}\n\n{picture}\n\n"
            "<!-- more -->\n\nThe rest.\n")
    write_config(root, {"name": "material"}, plugins=[{"blog": {"pagination_per_page": 2}}])
    run([bin_path("mkdocs"), "build"], cwd=root)
    site = root / "site"
    for view, alts in VIEWS.items():
        shown = [i for i in content_images((site / view).read_text()) if i.get("srcset")]
        assert [i["alt"] for i in shown] == alts, view
        first, second = shown
        assert (first["loading"], first.get("fetchpriority")) == ("eager", "high"), f"{view}: {first}"
        assert (second["loading"], second.get("fetchpriority")) == ("lazy", None), f"{view}: {second}"
    # and each post page, as before: its own first figure
    for day, _ in POSTS:
        post = next(site.glob(f"blog/2026/11/0{day}/*/index.html"))
        first, = [i for i in content_images(post.read_text()) if i.get("srcset")]
        assert (first["loading"], first.get("fetchpriority")) == ("eager", "high"), post
    assert all(re.search(r"-(480|768)\.(webp|jpg)$", i["src"]) for v in VIEWS
               for i in content_images((site / v).read_text()) if i.get("srcset"))
