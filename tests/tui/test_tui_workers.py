"""A thread worker replaced by a newer one (exclusive) never overtakes it with its older result."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Static

from tui.workers import in_thread
from tui_helpers import wait_until


@dataclass
class Listed(Message, bubble=False):
    listing: str


class Listing(Static):
    """Lists in a thread on `refresh_listing`, like the warehouse tree; keeps every listing it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.posts_from_threads = 0  # what the workers' threads posted (a result, or the call that delivers it)

    def post_message(self, message: Message) -> bool:
        if threading.current_thread() is not threading.main_thread():
            self.posts_from_threads += 1
        return super().post_message(message)

    def refresh_listing(self, listing: str, gate: threading.Event | None = None) -> None:
        self.started = threading.Event()
        started = self.started

        def job() -> str:
            started.set()
            if gate is not None:
                assert gate.wait(30), "the test never opened the gate"
            return listing

        in_thread(self, f"listing {listing}", job, Listed, group="listing", exclusive=True)

    def on_listed(self, message: Listed) -> None:
        self.shown.append(message.listing)


class ListingApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Listing()


async def test_a_replaced_listing_that_ends_last_is_not_shown() -> None:
    app = ListingApp()
    async with app.run_test() as pilot:
        listing = app.query_one(Listing)
        older_gate = threading.Event()
        listing.refresh_listing("older", older_gate)
        await wait_until(pilot, listing.started.is_set, what="the older listing's thread")
        listing.refresh_listing("newer")  # the older one still runs in its thread
        await wait_until(pilot, lambda: listing.shown == ["newer"], what="the newer listing")
        assert listing.posts_from_threads == 1
        older_gate.set()  # the older thread ends now, after the newer one was shown, and posts
        await wait_until(pilot, lambda: listing.posts_from_threads == 2, what="the older thread's post")
        for _ in range(2):  # handles what it posted, then what that posted
            await pilot.pause()
        assert listing.shown == ["newer"]


async def test_a_listing_not_replaced_is_shown() -> None:
    app = ListingApp()
    async with app.run_test() as pilot:
        listing = app.query_one(Listing)
        listing.refresh_listing("first")
        await wait_until(pilot, lambda: listing.shown == ["first"], what="the first listing")
        listing.refresh_listing("second")
        await wait_until(pilot, lambda: listing.shown == ["first", "second"], what="the second listing")
