"""A tiny document model (sections of text, tables, code and images) rendered to Markdown and to a
self-contained HTML page (inline CSS, images embedded as base64 PNG, no external resources); tables also
render as LaTeX (booktabs) for papers."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field


@dataclass
class Text:
    """A paragraph; may use ``code`` and **bold** inline markup."""

    text: str


@dataclass
class Code:
    """A preformatted block (e.g. the params file)."""

    text: str
    language: str = ""


@dataclass
class Table:
    """Cells as display strings; ``bold`` holds ``(row, column)`` positions to emphasise."""

    columns: list[str]
    rows: list[list[str]]
    bold: set[tuple[int, int]] = field(default_factory=set)
    caption: str = ""


@dataclass
class Image:
    """A figure rendered in several formats (``files``: ``{"png": bytes, "svg": ..., "pdf": ...}``, PNG
    required); ``name`` is its file stem under the report's ``plots/`` directory."""

    name: str
    files: dict[str, bytes]
    caption: str = ""

    @property
    def png(self) -> bytes:
        return self.files["png"]

    @property
    def filename(self) -> str:
        """The PNG's file name (the one the pages show)."""
        return f"{self.name}.png"

    @property
    def filenames(self) -> dict[str, bytes]:
        """File name → bytes of every format."""
        return {f"{self.name}.{fmt}": data for fmt, data in self.files.items()}


Block = Text | Code | Table | Image


@dataclass
class Section:
    """A heading (``level`` 2 or 3) and its blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Document:
    title: str
    intro: list[Block]
    sections: list[Section]

    @property
    def images(self) -> list[Image]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Image)]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    """A GitHub pipe table; bold cells wrapped in ``**``."""
    lines = ["| " + " | ".join(_md_cell(c) for c in table.columns) + " |",
             "|" + "|".join(" --- " for _ in table.columns) + "|"]
    for i, row in enumerate(table.rows):
        cells = [f"**{_md_cell(c)}**" if (i, j) in table.bold and c else _md_cell(c) for j, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# characters of our tables that LaTeX text mode does not take as they are
LATEX_TEXT = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
              "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
LATEX_SYMBOLS = {"±": r"$\pm$", "↑": r"$\uparrow$", "↓": r"$\downarrow$", "τ": r"$\tau$", "²": r"$^2$",
                 "✓": r"\checkmark{}", "✗": r"$\times$", "—": "---", "–": "--", "·": r"$\cdot$",
                 "×": r"$\times$",
                 "≥": r"$\geq$", "≤": r"$\leq$"}


def latex_escape(text: str) -> str:
    """``text`` for LaTeX text mode (needs ``amssymb`` for ✓): specials escaped, symbols as math, the inline
    markup of :class:`Text` (`code`, **bold**) as ``\\texttt`` / ``\\textbf``."""
    escaped = "".join(LATEX_TEXT.get(c) or LATEX_SYMBOLS.get(c) or c for c in text)
    escaped = re.sub(r"`([^`]+)`", r"\\texttt{\1}", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"\\textbf{\1}", escaped)


def latex_table(table: Table, label: str) -> str:
    """A ``table`` float with a booktabs ``tabular`` (first column left, the others right), bold cells as
    ``\\textbf``, the caption and ``\\label{tab:<label>}``; needs ``booktabs`` and ``amssymb``."""
    def cell(i: int, j: int, text: str) -> str:
        escaped = latex_escape(text)
        return rf"\textbf{{{escaped}}}" if (i, j) in table.bold and text else escaped

    spec = "l" + "r" * (len(table.columns) - 1)
    lines = [r"\begin{table}[t]", r"\centering"]
    if table.caption:
        lines.append(rf"\caption{{{latex_escape(table.caption)}}}")
    lines += [rf"\label{{tab:{label}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
              " & ".join(latex_escape(c) for c in table.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(cell(i, j, c) for j, c in enumerate(row)) + r" \\" for i, row in enumerate(table.rows)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _markdown_block(block: Block, image_dir: str) -> str:
    if isinstance(block, Text):
        return block.text
    if isinstance(block, Code):
        return f"```{block.language}\n{block.text.rstrip()}\n```"
    if isinstance(block, Table):
        return (f"{block.caption}\n\n" if block.caption else "") + markdown_table(block)
    return f"![{block.name}]({image_dir}/{block.filename})" + (f"\n\n*{block.caption}*" if block.caption else "")


def render_markdown(doc: Document, image_dir: str = "plots") -> str:
    """The document as Markdown; images are linked as ``<image_dir>/<name>.png``."""
    parts = [f"# {doc.title}"] + [_markdown_block(b, image_dir) for b in doc.intro]
    for section in doc.sections:
        parts.append(f"{'#' * section.level} {section.title}")
        parts.extend(_markdown_block(b, image_dir) for b in section.blocks)
    return "\n\n".join(parts) + "\n"


def _inline_html(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)


def _html_block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{_inline_html(block.text)}</p>"
    if isinstance(block, Code):
        return f"<pre><code>{html.escape(block.text.rstrip())}</code></pre>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in block.columns)
        body = "".join(
            "<tr>" + "".join(
                f"<td><b>{html.escape(c)}</b></td>" if (i, j) in block.bold and c else f"<td>{html.escape(c)}</td>"
                for j, c in enumerate(row)) + "</tr>"
            for i, row in enumerate(block.rows))
        caption = f"<caption>{_inline_html(block.caption)}</caption>" if block.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    data = base64.b64encode(block.png).decode("ascii")
    alt = html.escape(block.caption or block.name)
    caption = f"<figcaption>{_inline_html(block.caption)}</figcaption>" if block.caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{caption}</figure>'


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
caption { caption-side: top; text-align: left; padding-bottom: 0.4rem; color: #555; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f3f3f3; }
img { max-width: 100%; }
figure { margin: 1rem 0; }
figcaption { color: #555; font-size: 0.9rem; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
nav ul { columns: 2; }
"""


def render_html(doc: Document) -> str:
    """The document as one self-contained HTML page with a table of contents."""
    toc = "".join(f'<li><a href="#{s.anchor}">{_inline_html(s.title)}</a></li>' for s in doc.sections if s.level == 2)
    body = [f"<h1>{html.escape(doc.title)}</h1>"] + [_html_block(b) for b in doc.intro]
    body.append(f"<nav><ul>{toc}</ul></nav>")
    for s in doc.sections:
        body.append(f'<h{s.level} id="{s.anchor}">{_inline_html(s.title)}</h{s.level}>')
        body.extend(_html_block(b) for b in s.blocks)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(doc.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
