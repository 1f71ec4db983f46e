"""Jinja2 templates named after the file they become: <service>/<file>.j2, rendered on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def render(template: str, /, **values: Any) -> str:
    """Render ``<service>/<file>.j2`` with StrictUndefined: a missing value is an error, not a blank."""
    return _ENV.get_template(f"{template}.j2").render(**values)
