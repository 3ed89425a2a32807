"""The one registry of console actions: it feeds the key bindings, the help screen and the command palette.

Each action names a method `action_<name>` on the app (scope "app"), the main screen (scope
"main"), the SQL pane (scope "query") or a results viewer (scope "results"), its key, a short
label (footer) and a description (help screen, palette).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

KEY_NAMES = {
    "question_mark": "?",
    "f1": "F1",
    "f5": "F5",
    "ctrl+p": "Ctrl+P",
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "slash": "/",
    "end": "End",
    "colon": ":",
    "ctrl+j": "Ctrl+J",
    "ctrl+g": "Ctrl+G",
    "ctrl+r": "Ctrl+R",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "backslash": "\\",
}


# Where an action is bound: "app" on the app (every screen), "main" on the main screen, "query" on the SQL pane,
# "results" on a results viewer (a preview or a query result, when it has the focus).
ActionScope = Literal["app", "main", "query", "results"]


@dataclass(frozen=True)
class ActionSpec:
    name: str  # the method `action_<name>` of the app or the main screen
    key: str  # Textual key name(s), comma separated
    label: str  # short label for the footer
    description: str  # one sentence for the help screen and the palette
    group: str
    footer: bool = True
    priority: bool = False
    scope: ActionScope = "main"
    rank: int = 99  # the footer shows the lowest ranks that fit (and always help and quit)

    @property
    def display_key(self) -> str:
        return " / ".join(KEY_NAMES.get(k, k) for k in self.key.split(","))

    @property
    def short_key(self) -> str:
        """The first key only (the footer)."""
        first = self.key.split(",")[0]
        return KEY_NAMES.get(first, first)


ACTIONS: tuple[ActionSpec, ...] = (
    # Pipeline
    ActionSpec(
        "run_all",
        "r",
        "Run all",
        "Run every stage in order: prepare, staging, analytics, then the export preview (y exports, Esc cancels)",
        "Pipeline",
        rank=1,
    ),
    ActionSpec(
        "run_selected",
        "s",
        "Run stage",
        "Run only the stage selected in the pipeline (the export shows its preview first)",
        "Pipeline",
        rank=6,
    ),
    ActionSpec("retry_failed", "t", "Retry", "Run the failed (or cancelled) stage again, alone", "Pipeline", rank=3),
    ActionSpec(
        "resume",
        "R",
        "Resume",
        "Run from the failed stage to the end (shows what will run, asks to confirm)",
        "Pipeline",
        rank=9,
    ),
    ActionSpec(
        "cancel_run",
        "c",
        "Cancel",
        "Cancel the running stage (between chunks; running SQL is cancelled)",
        "Pipeline",
        rank=2,
    ),
    ActionSpec(
        "export_preview",
        "e",
        "Export",
        "Preview each analytics table, its destination and checks; "
        "y exports, Esc cancels (the run records the export as cancelled)",
        "Pipeline",
        rank=5,
    ),
    ActionSpec(
        "history",
        "h",
        "History",
        "Past runs with their stages, rows, durations and errors, and the trends per ingestion date",
        "Pipeline",
        rank=7,
    ),
    ActionSpec(
        "days",
        "d",
        "Days",
        "One row per ingestion date of the last 30: status (missing, missing inputs, failed, succeeded, stale), "
        "rows and inputs; r runs the highlighted date, the marked ones (space) or a range (g), dry run first",
        "Pipeline",
        rank=14,
    ),
    ActionSpec(
        "checks",
        "C",
        "Checks",
        "Each check's outcome over the last 30 runs; Enter on one that did not pass opens its rows in the SQL pane",
        "Pipeline",
        rank=12,
    ),
    # Browse
    ActionSpec(
        "toggle_browse",
        "b",
        "Browse",
        "Show or hide the data lake and warehouse trees (hidden at first below 110 columns)",
        "Browse",
        rank=4,
    ),
    ActionSpec(
        "preview_selected",
        "enter",
        "Preview",
        "On an S3 object or a warehouse table: show its first rows; on a preview cell: show it in full",
        "Browse",
        footer=False,
    ),
    ActionSpec(
        "show_cell", "v", "View cell", "Show the selected preview cell in full (long values)", "Browse", footer=False
    ),
    ActionSpec(
        "refresh",
        "f5",
        "Refresh",
        "Reload the data lake and warehouse trees (reconnects if a service was down)",
        "Browse",
        footer=False,
    ),
    ActionSpec(
        "toggle_preview",
        "p",
        "Log/Preview",
        "Switch the bottom pane between the log and the preview",
        "Browse",
        rank=13,
    ),
    ActionSpec("focus_lake", "1", "Lake", "Focus the data lake tree", "Browse", footer=False),
    ActionSpec("focus_warehouse", "2", "Warehouse", "Focus the warehouse tree", "Browse", footer=False),
    ActionSpec("focus_pipeline", "3", "Pipeline", "Focus the pipeline", "Browse", footer=False),
    ActionSpec("focus_log", "4", "Log", "Focus the log (or preview) pane", "Browse", footer=False),
    # Log
    ActionSpec(
        "search_log", "slash", "Search", "Search the log; then n / N go to the next / previous match", "Log", rank=8
    ),
    ActionSpec("next_match", "n", "Next match", "In the log: the next match of the search", "Log", footer=False),
    ActionSpec(
        "previous_match", "N", "Previous match", "In the log: the previous match of the search", "Log", footer=False
    ),
    ActionSpec(
        "follow",
        "end",
        "Follow",
        "In the log: back to the newest line, and keep following (scrolling up pauses it)",
        "Log",
        footer=False,
    ),
    ActionSpec(
        "log_stage",
        "f",
        "Log stage",
        "Filter the log by stage (cycles: all, run, prepare, staging, analytics, export)",
        "Log",
        rank=11,
    ),
    ActionSpec(
        "log_level",
        "l",
        "Log level",
        "Filter the log by level (cycles: INFO+, WARNING+, ERROR, DEBUG+)",
        "Log",
        rank=12,
    ),
    ActionSpec(
        "open_log",
        "o",
        "Full log",
        "Open the last run's full log file in $PAGER (the console comes back when you quit it)",
        "Log",
        rank=10,
    ),
    # Inspect: the SQL pane (scope "query": the query screen), any result or preview (scope "results": the viewer)
    ActionSpec(
        "open_query",
        "colon",
        "SQL",
        "Open the read-only SQL pane over the warehouse (the text is kept between visits)",
        "Inspect",
        rank=5,
    ),  # after Export: still on an 80-column footer
    ActionSpec(
        "insert_name",
        "i",
        "Insert name",
        "On a table or column of the warehouse tree: insert its name into the SQL pane",
        "Inspect",
        footer=False,
    ),
    ActionSpec(
        "run_query",
        "ctrl+j",
        "Run",
        "Run the statement under the cursor (or the selection), read-only, with the statement timeout",
        "Inspect",
        scope="query",
        priority=True,
    ),
    ActionSpec(
        "cancel_query",
        "ctrl+g",
        "Cancel",
        "Cancel the running query (Esc too)",
        "Inspect",
        scope="query",
        priority=True,
    ),
    ActionSpec(
        "close_query",
        "escape",
        "Back",
        "Cancel the running query; when none runs, back to the main screen",
        "Inspect",
        scope="query",
    ),
    ActionSpec(
        "query_history",
        "ctrl+r",
        "History",
        "Recall a query from the history (kept in the state folder)",
        "Inspect",
        scope="query",
        priority=True,
    ),
    ActionSpec(
        "sort_ascending",
        "left_square_bracket",
        "Sort ↑",
        "Sort by the selected column, ascending (on the server for tables and query results)",
        "Inspect",
        scope="results",
        rank=1,
    ),
    ActionSpec(
        "sort_descending",
        "right_square_bracket",
        "Sort ↓",
        "Sort by the selected column, descending",
        "Inspect",
        scope="results",
        rank=2,
    ),
    ActionSpec(
        "filter",
        "slash",
        "Filter",
        "Rows where the selected column equals the selected value, or a typed "
        "condition (on the server for tables and query results)",
        "Inspect",
        scope="results",
        rank=3,
    ),
    ActionSpec(
        "clear_filters",
        "backslash",
        "Unfilter",
        "Remove every filter of this result or preview",
        "Inspect",
        scope="results",
        footer=False,
    ),
    ActionSpec(
        "profile",
        "F",
        "Profile",
        "Profile the selected column: nulls, distinct, min, max, the ten most "
        "frequent values (SQL over the whole table; pandas over an S3 sample)",
        "Inspect",
        scope="results",
        rank=4,
    ),
    ActionSpec(
        "copy_cell",
        "y",
        "Copy",
        "Copy the selected cell to the clipboard (through the terminal)",
        "Inspect",
        scope="results",
        rank=5,
    ),
    ActionSpec(
        "copy_row",
        "Y",
        "Copy row",
        "Copy the selected row to the clipboard as one CSV line",
        "Inspect",
        scope="results",
        footer=False,
    ),
    ActionSpec(
        "save_csv",
        "S",
        "Save CSV",
        "Save every row of the table or query result to a local CSV file "
        "(streamed with COPY, with progress; asks before overwriting)",
        "Inspect",
        scope="results",
        rank=6,
    ),
    # App
    ActionSpec("help", "question_mark,f1", "Help", "This list of keys", "App", scope="app"),
    ActionSpec("command_palette", "ctrl+p", "Palette", "Search every action by name", "App", footer=False, scope="app"),
    ActionSpec(
        "quit",
        "q",
        "Quit",
        "Quit the console (asks first when a run is in progress; says what it stops)",
        "App",
        scope="app",
    ),
)

# Keys the widgets handle themselves (listed in the help, not bound by the app).
WIDGET_ACTIONS = frozenset({"preview_selected", "next_match", "previous_match", "follow"})


def bindings(scope: ActionScope) -> list[BindingType]:
    """The BINDINGS of the app, the main screen, the SQL pane or a results viewer, generated from the registry."""
    return [
        Binding(a.key, a.name, a.label, show=a.footer, priority=a.priority)
        for a in ACTIONS
        if a.name not in WIDGET_ACTIONS and a.scope == scope
    ]
