"""The SQL editor of the query pane: a multi-line TextArea with SQL highlighting (tree-sitter's SQL grammar).

It knows which statement is under the cursor (our lexer splits the text, so a `;` inside a
string or a comment does not end one), and marks the place an error names.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import TextArea
from textual.widgets.text_area import Document, Selection

from etl_core.inspect.sql_lexer import SqlTextError, statement_at


def sql_language() -> str | None:
    """ "sql" when the tree-sitter grammar is installed (the `sql` extra), else plain text."""
    return "sql" if "sql" in TextArea().available_languages else None


class SqlEditor(TextArea):
    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(
            text, language=sql_language(), show_line_numbers=True, soft_wrap=False, tab_behavior="focus", **kwargs
        )

    @property
    def plain_document(self) -> Document:
        document = self.document
        assert isinstance(document, Document)  # a TextArea with a language or not keeps a plain Document
        return document

    def offset_of(self, location: tuple[int, int]) -> int:
        return self.plain_document.get_index_from_location(location)

    def statement(self) -> tuple[str, int] | None:
        """The selection, else the statement under the cursor: its text and its offset in the whole text."""
        text = self.text
        if not self.selection.is_empty:
            start, end = sorted((self.selection.start, self.selection.end))
            begin = self.offset_of(start)
            return text[begin : self.offset_of(end)], begin
        try:
            span = statement_at(text, self.offset_of(self.cursor_location))
        except SqlTextError:  # an unclosed quote or comment: run it all, the session says where
            return (text, 0) if text.strip() else None
        if span is None:
            return None
        return text[span.start : span.end], span.start

    def mark(self, offset: int) -> None:
        """Select the word at `offset` of the whole text (where an error is), and scroll to it."""
        text = self.text
        offset = max(0, min(offset, len(text)))
        end = offset
        while end < len(text) and (text[end].isalnum() or text[end] in "_$\"'."):
            end += 1
        document = self.plain_document
        self.selection = Selection(
            document.get_location_from_index(offset),
            document.get_location_from_index(min(len(text), max(end, offset + 1))),
        )
        self.scroll_cursor_visible()
