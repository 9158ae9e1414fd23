"""A monotonic clock the test moves, for the parts that count seconds rather than dates."""


class Ticker:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
