"""deliver_interrupts left last by a side thread (export_all's GIF beside a bundle)."""

from __future__ import annotations

import signal
import threading

from playnano.io.guard import deliver_interrupts


def test_side_thread_leaving_last_does_not_touch_signal_handlers():
    before = signal.getsignal(signal.SIGINT)
    entered, main_left = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def side() -> None:
        try:
            with deliver_interrupts():
                entered.set()
                main_left.wait(5)
        except BaseException as exc:  # ValueError: signal only works in main thread
            errors.append(exc)

    with deliver_interrupts():
        worker = threading.Thread(target=side)
        worker.start()
        entered.wait(5)
    main_left.set()
    worker.join(5)
    assert errors == []
    with deliver_interrupts():  # the main thread's next exit restores the handler
        pass
    assert signal.getsignal(signal.SIGINT) is before
