"""Finding a CJK font so Chinese figure labels render (never empty boxes).

Design note
-----------
:func:`find_cjk_font` looks for an installed font that covers Chinese in
matplotlib's font list (Noto Sans/Serif CJK, WenQuanYi, Droid Sans Fallback,
...), registering system fonts installed after matplotlib built its cache.
:func:`use_font_for` decides the language of figure labels: Chinese only when
such a font exists, else English, with a warning the report shows. On Debian
``apt-get install fonts-noto-cjk`` provides one (``./dev test`` installs it).
Shared by the reports (:mod:`analysis.report`) and the dashboard
(:mod:`sim.dashboard.views`).
"""

from __future__ import annotations

import matplotlib
from matplotlib import font_manager

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Noto Serif CJK JP",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "SimHei",
             "Microsoft YaHei", "PingFang SC")

_found: list[str | None] = []


def find_cjk_font() -> str | None:
    """Name of an installed CJK font known to matplotlib, or None (result cached)."""
    if _found:
        return _found[0]
    names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((n for n in CJK_FONTS if n in names), None)
    if found is None:
        for path in font_manager.findSystemFonts():
            low = path.lower()
            if "cjk" in low or "wqy" in low or "droidsansfallback" in low or "simhei" in low:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
        found = next((n for n in CJK_FONTS if n in names), None)
    _found.append(found)
    return found


def use_font_for(lang: str) -> tuple[str, str | None]:
    """Configure matplotlib for ``lang``; returns (language figures use, CJK font or None).

    For ``zh`` the CJK font is appended to ``font.family`` (glyph fallback), so
    Latin text keeps the default font. Without a CJK font, figures use English.
    """
    if lang != "zh":
        return "en", None
    font = find_cjk_font()
    if font is None:
        return "en", None
    fams = list(matplotlib.rcParams["font.family"])
    if font not in fams:
        matplotlib.rcParams["font.family"] = [*fams, font]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return "zh", font
