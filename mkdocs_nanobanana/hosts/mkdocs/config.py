"""The plugin's options as MkDocs Config classes, made from the options table.

Each row of core/options.py that the plugin takes becomes one MkDocs option whose
checker is the row's own (``Checked``), and each section (``avif:``, ``social:``...) one
sub-config (``Section``): so MkDocs reports a bad value in the table's words, naming
the dotted option, as the Markdown extension does:

    Config value 'plugins': Plugin 'nanobanana' option 'avif.speed': expected a whole number from 0 to 10, got 11

The classes below name the sections; the options themselves are the table's, in its
order (what runs, who generates, directive defaults, where files go, what is written,
network and spend, social cards). A name no option has is an error too, where MkDocs
would only warn (see TableConfig.validate).

This module and plugin.py are the MkDocs adapter; everything else is plain Python.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mkdocs.config import base
from mkdocs.config import config_options as c

from ...core.option_kinds import OptionError
from ...core.options import A_MAPPING, MKDOCS, Option, rows_of, sections_of, unknown_option

__all__: list[str] = []


class Checked(base.BaseConfigOption[Any]):
    """One row of the table as a MkDocs option: its default, and its kind's verdict."""

    def __init__(self, option: Option) -> None:
        super().__init__()
        self.option = option
        self.default = option.initial()

    def run_validation(self, value: object) -> Any:
        try:
            return self.option.check(value)
        except OptionError as exc:
            raise base.ValidationError(exc.problem) from None


class SubOptionError(base.ValidationError):
    """A section's option failed: NanobananaConfig.validate names it ``section.key``."""

    def __init__(self, key: str, error: Exception) -> None:
        super().__init__(str(error))
        self.key = key


class Section(c.SubConfig[base.Config]):
    """A section of the table (``avif:``) as a sub-config of TableConfig rows."""

    def __init__(self, config_class: type[TableConfig]) -> None:
        super().__init__(config_class)
        self.config_class = config_class

    def run_validation(self, value: object) -> base.Config:
        if not isinstance(value, dict):
            raise base.ValidationError(A_MAPPING.problem(value))
        config = self.config_class(config_file_path=self._config_file_path)
        config.load_dict(value)
        failed, warnings = config.validate()
        self.warnings.extend(f"Sub-option '{key}': {message}" for key, message in warnings)
        if failed:
            key, error = failed[0]
            raise SubOptionError(key, error)
        return config


class TableConfig(base.Config):
    """A Config whose options are the rows of the table under ``section`` (a keyword of
    the class statement; "" for the top level, whose sections must each have a
    TableConfig subclass declared before it)."""

    _by_section: ClassVar[dict[str, type[TableConfig]]] = {}

    def __init_subclass__(cls, section: str = "", **kwargs: Any) -> None:
        options: dict[str, base.BaseConfigOption[Any]] = {o.key: Checked(o) for o in rows_of(section, MKDOCS)}
        if not section:
            for s in sections_of(MKDOCS):
                if s.name not in TableConfig._by_section:
                    raise TypeError(f"{cls.__name__}: the table's section {s.name!r} has no TableConfig subclass")
                options[s.name] = Section(TableConfig._by_section[s.name])
        for key, option in options.items():
            setattr(cls, key, option)
            option.__set_name__(cls, key)  # what a class statement would have called
        TableConfig._by_section[section] = cls
        super().__init_subclass__(**kwargs)  # MkDocs collects the options into _schema

    def validate(self) -> tuple[base.ConfigErrors, base.ConfigWarnings]:
        """MkDocs' checks, and a name no option has is a failure, as the table says
        (MkDocs only warns): a typo such as ``max_credit: 10`` would spend up to 200."""
        failed, warnings = super().validate()
        known = [key for key, _ in self._schema]
        unknown = [key for key in self if key not in known]
        failed += [(key, base.ValidationError(unknown_option(key, known))) for key in unknown]
        return failed, [(key, message) for key, message in warnings if key not in unknown]


class RefImagesConfig(TableConfig, section="ref_images"):
    """NanoBanana only: how reference images are sent."""


class AvifConfig(TableConfig, section="avif"):
    """AVIF's encoder: its own quality scale, and its speed."""


class ProvenanceConfig(TableConfig, section="provenance"):
    """The XMP packet in every published image, and the figure's AI label."""


class SocialConfig(TableConfig, section="social"):
    """Social cards: a 1200x630 image per page and the meta tags that point at it."""

    enabled: bool  # for the type checker: what the code reads as an attribute


class NanobananaConfig(TableConfig):
    """The plugin's options (docs/configuration.md; docs/reference/options.md lists them)."""

    enabled: bool
    social: SocialConfig

    def validate(self) -> tuple[base.ConfigErrors, base.ConfigWarnings]:
        failed, warnings = super().validate()
        # a section's failure names the option as the table does: 'avif.speed', not 'avif'
        return [(f"{key}.{e.key}", e) if isinstance(e, SubOptionError) else (key, e) for key, e in failed], warnings
