"""Running a test's writers at the same time."""

import threading


def run_in_threads(target, arguments, *, timeout: float = 60) -> None:
    """`target(*args)` in one thread per entry of `arguments`, all started before any is
    waited for; a thread still running after `timeout` seconds fails the test (a hung
    writer would otherwise pass unseen)."""
    threads = [threading.Thread(target=target, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
