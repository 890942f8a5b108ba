"""One real `mkdocs build` in this process, and what it cost, as JSON on the last line of
stdout: {"seconds", "cpu_s", "peak_rss_mb", "summary", "pillow_imported", "plugin_s", "hooks_s"}.

    python -m bench.measure mkdocs.yml [--hooks]

The bench runs every build through this, in a fresh process, as a user runs
`mkdocs build`: imports, startup and all. The parent times the process from outside;
this reports what only the process itself can know:

- cpu_s: the process's CPU time, all threads (user + system): what the build cost the
  machine, whatever else ran beside it.
- peak_rss_mb: VmHWM, the high-water mark of this address space. Not getrusage's
  ru_maxrss, which Linux carries across execve from the forked parent: a child of a
  large bench process would report the bench's size.
- plugin_s (with --hooks): wall time spent inside the nanobanana plugin's hooks on the
  main thread, the waits for its worker threads included; hooks_s, the same by hook.
  Without --hooks the plugin's module is not imported here, so a plugin-off build pays
  nothing for it.
"""

from __future__ import annotations

import json
import logging
import sys
import time

HOOKS = ("on_startup", "on_config", "on_files", "on_nav", "on_page_markdown", "on_page_content",
         "on_post_page", "on_post_build", "on_shutdown")


def instrument_hooks() -> dict[str, float]:
    """Wrap each hook of the plugin class to add its wall time to the returned dict."""
    import functools

    from mkdocs.plugins import CombinedEvent

    from mkdocs_nanobanana.hosts.mkdocs.plugin import NanobananaPlugin

    spent: dict[str, float] = {}

    def timed(name, fn):
        if isinstance(fn, CombinedEvent):  # one event, several methods at their own priorities
            return CombinedEvent(*(timed(name, method) for method in fn.methods))

        @functools.wraps(fn)  # keeps event_priority's mkdocs_priority
        def hook(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return hook

    for name in HOOKS:
        if name in vars(NanobananaPlugin):
            setattr(NanobananaPlugin, name, timed(name, vars(NanobananaPlugin)[name]))
    return spent


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class SummaryLine(logging.Handler):
    """Keeps the plugin's summary line, which ``-q`` would hide (a figure counts its encodes)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.line = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " cached, " in message:
            self.line = message


def main(argv: list[str]) -> None:
    config_file = argv[0]
    spent = instrument_hooks() if "--hooks" in argv else None
    from mkdocs.__main__ import cli

    summary = SummaryLine()
    plugin_log = logging.getLogger("mkdocs.plugins.nanobanana")
    plugin_log.setLevel(logging.INFO)
    plugin_log.addHandler(summary)
    start = time.perf_counter()
    # the command itself, so on_startup and on_shutdown run as for a user
    cli(["build", "-q", "-f", config_file], standalone_mode=False)
    seconds = time.perf_counter() - start
    # a build that decoded or drew any image imported Pillow (it is imported where pixels are touched)
    pillow = any(m == "PIL" or m.startswith("PIL.") for m in sys.modules)
    print(json.dumps({"seconds": seconds, "cpu_s": time.process_time(), "peak_rss_mb": peak_rss_mb(),
                      "summary": summary.line, "pillow_imported": pillow,
                      "plugin_s": sum(spent.values()) if spent is not None else None, "hooks_s": spent}))


if __name__ == "__main__":
    main(sys.argv[1:])
