"""One document, two renderings: report.html (everything inside the file: images as data URIs, charts as inline SVG)
and report.md (images as files in a folder next to it, for a repository or a notes app).

The report is assembled as a list of blocks; each block knows how to write itself both ways.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html import escape

_NUMERIC = re.compile(r"^[-+0-9.,%± /()a-z]*$")


def _numeric_columns(rows: list[list[str]], width: int) -> list[bool]:
    """Columns of numbers are right-aligned; the first column and columns of words stay left."""
    return [i > 0 and all(_NUMERIC.match(row[i]) and any(ch.isdigit() for ch in row[i]) or row[i] == "n/a"
                          for row in rows) for i in range(width)]

SVG_NAMESPACE = ' xmlns="http://www.w3.org/2000/svg"'

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; }
.warning { background: #fff3cd; border: 1px solid #e0b400; padding: 0.6em 1em; margin: 1em 0; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0.5em 0; } figcaption { font-size: 0.85em; color: #555; max-width: 520px; }
img { image-rendering: auto; border: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
"""


@dataclass
class Image:
    name: str  # file name under the md report's folder
    png: bytes
    caption: str


@dataclass
class Doc:
    title: str
    folder: str  # the md rendering's image folder, relative to report.md
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("p", text))

    def warning(self, text: str) -> None:
        self.blocks.append(("warning", text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self.blocks.append(("table", headers, rows))

    def images(self, images: list[Image]) -> None:
        """Shown side by side."""
        self.blocks.append(("images", images))

    def chart(self, name: str, svg: str, caption: str) -> None:
        self.blocks.append(("svg", name, svg, caption))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    # -- files -----------------------------------------------------------------------------------------------------

    def files(self) -> dict[str, bytes]:
        """The md rendering's image files: {name: bytes}."""
        out: dict[str, bytes] = {}
        for block in self.blocks:
            if block[0] == "images":
                out.update({image.name: image.png for image in block[1]})
            elif block[0] == "svg":
                out[block[1]] = block[2].encode()
        return out

    # -- renderings ------------------------------------------------------------------------------------------------

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind == "h2":
                out += [f"## {block[1]}", ""]
            elif kind == "p":
                out += [block[1], ""]
            elif kind == "warning":
                out += [f"> **Warning:** {block[1]}", ""]
            elif kind == "ul":
                out += [f"- {item}" for item in block[1]] + [""]
            elif kind == "table":
                headers, rows = block[1], block[2]
                numeric = _numeric_columns(rows, len(headers))
                out.append("| " + " | ".join(headers) + " |")
                out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
                out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
                out.append("")
            elif kind == "images":
                out += [f"![{image.caption}]({self.folder}/{image.name})" for image in block[1]]
                out += [""] + [f"*{image.caption}*  " for image in block[1]] + [""]
            elif kind == "svg":
                out += [f"![{block[3]}]({self.folder}/{block[1]})", ""]
            elif kind == "code":
                out += ["```", block[1].rstrip("\n"), "```", ""]
        return "\n".join(out).rstrip("\n") + "\n"

    def html(self) -> str:
        out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
               f"<title>{escape(self.title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
               f"<h1>{escape(self.title)}</h1>"]
        for block in self.blocks:
            kind = block[0]
            if kind == "h2":
                out.append(f"<h2>{escape(block[1])}</h2>")
            elif kind == "p":
                out.append(f"<p>{escape(block[1])}</p>")
            elif kind == "warning":
                out.append(f'<div class="warning"><strong>Warning:</strong> {escape(block[1])}</div>')
            elif kind == "ul":
                out.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block[1]) + "</ul>")
            elif kind == "table":
                headers, rows = block[1], block[2]
                numeric = _numeric_columns(rows, len(headers))
                head = "".join(f"<th>{escape(h)}</th>" for h in headers)
                body = "".join("<tr>" + "".join(f'<td class="{"num" if n else "text"}">{escape(c)}</td>'
                                                for c, n in zip(row, numeric)) + "</tr>" for row in rows)
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif kind == "images":
                figures = "".join(
                    f'<figure><img alt="{escape(image.caption)}" src="data:image/png;base64,'
                    f'{base64.b64encode(image.png).decode()}"><figcaption>{escape(image.caption)}</figcaption>'
                    "</figure>" for image in block[1])
                out.append(f'<div class="row">{figures}</div>')
            elif kind == "svg":
                svg = block[2].replace(SVG_NAMESPACE, "")  # inline SVG in HTML needs no namespace
                out.append(f"<figure>{svg}<figcaption>{escape(block[3])}</figcaption></figure>")
            elif kind == "code":
                out.append(f"<pre>{escape(block[1])}</pre>")
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"
