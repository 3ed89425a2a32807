"""WCAG contrast of what a widget draws, as the terminal gets it: the widget's lines after the app's
own line filters (ANSI colours made truecolor by the theme, dim blended), in truecolor and in 256
colours (each colour as rich downgrades it, the xterm palette)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.color import Color, ColorSystem
from rich.segment import Segment
from textual._context import visible_screen_stack
from textual.app import App
from textual.widget import Widget

AA = 4.5  # WCAG 2 AA, normal text
# The marks that carry a status without a letter (a check's ✔, a flagged row's ⚠, a stage's ▶ ...).
STATUS_GLYPHS = set("✔✘✖⚠!·○▶■↷?◐")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = rgb
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rgb(color: Color, system: ColorSystem) -> tuple[int, int, int]:
    shown = color.downgrade(system) if system != ColorSystem.TRUECOLOR else color
    triplet = shown.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


@dataclass(frozen=True)
class Measured:
    text: str
    ratio: float
    system: str
    where: str = ""  # the widget that drew it (measure_screen)


def _is_text(text: str) -> bool:
    return any(ch.isalnum() or ch in STATUS_GLYPHS for ch in text)


def _pair(style: Any, default_bg: Color | None) -> tuple[Color, Color]:
    fg, bg = style.color, style.bgcolor or default_bg
    if style.reverse:
        fg, bg = bg, fg
    assert fg is not None and bg is not None, style
    return fg, bg


def measure_screen(app: App[Any]) -> list[Measured]:
    """Every piece of text the top screen's widgets draw, as the terminal gets it (the screen composed,
    the app's line filters applied), with its contrast in truecolor and in 256 colours. What a modal
    screen lets show of the screen below it (dimmed on purpose) is not measured, nor a disabled control."""
    screen = app.screen
    visible_screen_stack.set([*app._background_screens, screen])
    background = screen.background_colors[1]
    found = []
    for y, strip in enumerate(screen._compositor.render_strips()):
        segments: list[Segment] = list(strip)
        for line_filter in app.get_line_filters():
            segments = line_filter.apply(segments, background)
        x = 0
        for segment in segments:
            start, x = x, x + segment.cell_length
            if segment.style is None or not _is_text(segment.text):
                continue
            widget, _region = screen.get_widget_at(start, y)
            if widget is screen or widget.disabled:
                continue  # a disabled control is exempt (WCAG 1.4.3): it is meant to read as unavailable
            fg, bg = _pair(segment.style, None)
            for system in (ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT):
                ratio = contrast(_rgb(fg, system), _rgb(bg, system))
                where = f"{widget.__class__.__name__}#{widget.id} {_rgb(fg, system)} on {_rgb(bg, system)}"
                found.append(Measured(segment.text.strip(), ratio, system.name, where))
    return found


def measure_line(app: App[Any], widget: Widget, y: int) -> list[Measured]:
    """Each piece of text on line `y` of `widget` with its contrast, in truecolor and in 256 colours."""
    strip = widget.render_line(y)
    segments: list[Segment] = list(strip)
    background = widget.background_colors[1]
    for line_filter in app.get_line_filters():
        segments = line_filter.apply(segments, background)
    found = []
    default_bg = background.rich_color
    for segment in segments:
        if not any(ch.isalnum() for ch in segment.text) or segment.style is None:
            continue  # spaces, and the progress bar's blocks (a graphic, not text)
        style = segment.style
        fg, bg = style.color, style.bgcolor or default_bg
        if style.reverse:
            fg, bg = bg, fg
        assert fg is not None and bg is not None, segment
        for system in (ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT):
            found.append(Measured(segment.text.strip(), contrast(_rgb(fg, system), _rgb(bg, system)), system.name))
    return found


def row_background(app: App[Any], widget: Widget, y: int) -> str:
    """The background of line `y`'s first text, as the terminal gets it (truecolor hex)."""
    segments: list[Segment] = list(widget.render_line(y))
    for line_filter in app.get_line_filters():
        segments = line_filter.apply(segments, widget.background_colors[1])
    style = next(s.style for s in segments if s.text.strip() and s.style is not None)
    assert style.bgcolor is not None
    return style.bgcolor.get_truecolor().hex
