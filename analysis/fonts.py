"""Finding a CJK font for Chinese figure labels: see :mod:`sim.fonts` (shared with the dashboard)."""

from __future__ import annotations

from sim.fonts import CJK_FONTS, find_cjk_font, use_font_for

__all__ = ["CJK_FONTS", "find_cjk_font", "use_font_for"]
