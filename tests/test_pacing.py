"""The adaptive width (AIMD) and the signals it is fed: a fake clock, no sleeping, no timings."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credchain import pacing
from credchain.pacing import AdaptiveWidth, Congestion

FAST = 0.002  # seconds: a vault answering on loopback


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def controller(max_width: int = 16, initial: int = 4, **options: float) -> AdaptiveWidth:
    return AdaptiveWidth(max_width, initial=initial, clock=options.pop("clock", Clock()), **options)


def test_slow_start_grows_by_one_per_answer() -> None:
    width = controller(initial=2)
    for _ in range(5):
        width.answered(FAST)
    assert width.width == 7


def test_the_width_never_passes_max() -> None:
    width = controller(max_width=6)
    for _ in range(50):
        width.answered(FAST)
    assert width.width == 6 and width.peak == 6


def test_a_429_halves_the_width_and_ends_slow_start() -> None:
    clock = Clock()
    width = controller(initial=16, clock=clock)
    width.throttled()
    assert width.width == 8
    width.answered(FAST)  # no longer one per answer
    assert width.width == 8


def test_a_burst_of_429s_halves_once_per_period() -> None:
    clock = Clock()
    width = controller(initial=16, period=0.5, clock=clock)
    for _ in range(10):
        width.throttled()
    assert width.width == 8
    clock.now += 0.5
    width.throttled()
    assert width.width == 4


def test_after_a_decrease_the_width_grows_by_one_per_period() -> None:
    clock = Clock()
    width = controller(initial=16, period=0.5, clock=clock)
    width.throttled()
    for _ in range(100):  # answers within one period: no growth
        width.answered(FAST)
    assert width.width == 8
    for _ in range(3):
        clock.now += 0.5
        width.answered(FAST)
    assert width.width == 11


def test_growth_does_not_postpone_the_next_decrease() -> None:
    clock = Clock()
    width = controller(initial=16, period=0.5, clock=clock)
    width.throttled()  # 8
    clock.now += 0.5
    width.answered(FAST)  # 9
    width.throttled()  # a period after the last decrease: 4.5
    assert width.width == 4


def test_the_width_never_goes_below_one() -> None:
    clock = Clock()
    width = controller(initial=2, clock=clock)
    for _ in range(10):
        width.throttled()
        clock.now += 1
    assert width.width == 1


def test_latency_growth_shrinks_the_width() -> None:
    clock = Clock()
    width = controller(initial=16, clock=clock)
    for _ in range(8):
        width.answered(0.05)
    for _ in range(30):
        width.answered(0.5)  # ten times slower, 450 ms more: the vault queues
    assert width.width == 8


def test_a_small_latency_rise_on_a_fast_vault_is_not_a_queue() -> None:
    width = controller(initial=4)
    for _ in range(8):
        width.answered(0.001)
    for _ in range(30):
        width.answered(0.2)  # two hundred times slower, but only 199 ms more
    assert width.width == 16


def test_latency_is_judged_afresh_after_a_decrease() -> None:
    clock = Clock()
    width = controller(initial=16, clock=clock)
    for _ in range(8):
        width.answered(0.05)
    while width.width == 16:
        width.answered(0.5)
    assert width.width == 8
    clock.now += 1
    for _ in range(7):  # fewer than SAMPLES answers since the decrease: no verdict yet
        width.answered(0.5)
    assert width.width == 9  # a period passed: the additive step
    width.answered(0.5)  # still slow at the new width
    assert width.width == 4


@pytest.mark.parametrize(
    "options",
    [{"decrease": 1.0}, {"decrease": 0.0}, {"period": 0.0}, {"latency_factor": 1.0}],
)
def test_bad_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"."):
        AdaptiveWidth(16, **options)  # type: ignore[arg-type]


def test_max_width_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_width"):
        AdaptiveWidth(0)


events = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.floats(0.0, 10.0)),
        st.tuples(st.just("throttle"), st.just(0.0)),
        st.tuples(st.just("tick"), st.floats(0.0, 5.0)),
    ),
    max_size=200,
)


@given(max_width=st.integers(1, 64), initial=st.integers(-5, 100), script=events)
def test_the_width_is_always_within_one_and_max(
    max_width: int, initial: int, script: list[tuple[str, float]]
) -> None:
    clock = Clock()
    width = AdaptiveWidth(max_width, initial=initial, clock=clock)
    assert 1 <= width.width <= max_width
    for kind, value in script:
        if kind == "answer":
            width.answered(value)
        elif kind == "throttle":
            width.throttled()
        else:
            clock.now += value
        assert 1 <= width.width <= max_width
        assert width.width <= width.peak <= max_width


def test_signals_reach_the_listener_of_the_context_only() -> None:
    congestion = Congestion()
    pacing.throttled("vault", 429)  # nobody listening: dropped
    with pacing.listening(congestion):
        pacing.throttled("vault", 429)
        pacing.throttled("vault", 503)
        pacing.throttled("dr", 429)
        pacing.answered("vault", FAST)
    pacing.throttled("vault", 429)
    assert congestion.answers(429) == {"vault": 1, "dr": 1}
    assert congestion.answers(503) == {"vault": 1}


def test_congestion_feeds_its_width() -> None:
    clock = Clock()
    width = controller(initial=16, clock=clock)
    congestion = Congestion(width)
    with pacing.listening(congestion):
        pacing.throttled("vault", 503)
    assert width.width == 8


def test_a_walk_waits_for_its_slot_while_width_walks_run() -> None:
    width = controller(max_width=4, initial=1)
    entered = threading.Event()

    def second() -> None:
        with width.slot():
            entered.set()

    with width.slot():
        waiting = threading.Thread(target=second)
        waiting.start()
        assert not entered.wait(0.05)  # no room at a width of 1
        assert width.in_flight == 1
    waiting.join(10)
    assert entered.is_set() and width.in_flight == 0


def test_growth_makes_room_for_a_waiting_walk() -> None:
    width = controller(max_width=4, initial=1)
    entered = threading.Event()

    def second() -> None:
        with width.slot():
            entered.set()

    with width.slot():
        waiting = threading.Thread(target=second)
        waiting.start()
        width.answered(FAST)  # slow start: a width of 2
        assert entered.wait(10)
    waiting.join(10)
