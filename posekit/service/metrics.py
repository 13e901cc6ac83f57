"""Request, latency, job and frame counts, written in Prometheus's text exposition format."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping

# Latency histogram bucket bounds in seconds (Prometheus histograms are cumulative).
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _labels(**labels: str) -> str:
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """Counters the service updates; :meth:`exposition` renders them. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._latency_counts: dict[tuple[str, str], list[int]] = {}
        self._latency_sums: dict[tuple[str, str], float] = defaultdict(float)
        self._frames: dict[str, int] = defaultdict(int)
        self._people: dict[str, int] = defaultdict(int)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            key = (method, route)
            counts = self._latency_counts.setdefault(key, [0] * (len(LATENCY_BUCKETS_S) + 1))
            for i, bound in enumerate(LATENCY_BUCKETS_S):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self._latency_sums[key] += seconds

    def add_frames(self, source: str, frames: int, people: int) -> None:
        """``source``: image, stream or job."""
        with self._lock:
            self._frames[source] += frames
            self._people[source] += people

    def exposition(self, gauges: Mapping[str, Callable[[], Mapping[str, float]]]) -> str:
        """The text format; ``gauges`` maps a metric name to a function giving its value per ``state``."""
        lines = ["# HELP posekit_requests_total HTTP requests answered.", "# TYPE posekit_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self._requests.items()):
                lines.append(f"posekit_requests_total{_labels(method=method, route=route, status=status)} {count}")
            lines += [
                "# HELP posekit_request_duration_seconds Time to answer an HTTP request.",
                "# TYPE posekit_request_duration_seconds histogram",
            ]
            for (method, route), counts in sorted(self._latency_counts.items()):
                for bound, count in zip((*LATENCY_BUCKETS_S, "+Inf"), counts, strict=True):
                    labels = _labels(method=method, route=route, le=str(bound))
                    lines.append(f"posekit_request_duration_seconds_bucket{labels} {count}")
                base = _labels(method=method, route=route)
                lines.append(f"posekit_request_duration_seconds_sum{base} {self._latency_sums[(method, route)]:.6f}")
                lines.append(f"posekit_request_duration_seconds_count{base} {counts[-1]}")
            lines += [
                "# HELP posekit_frames_total Images and frames run through the models.",
                "# TYPE posekit_frames_total counter",
            ]
            lines += [f"posekit_frames_total{_labels(source=s)} {n}" for s, n in sorted(self._frames.items())]
            lines += ["# HELP posekit_people_total People found.", "# TYPE posekit_people_total counter"]
            lines += [f"posekit_people_total{_labels(source=s)} {n}" for s, n in sorted(self._people.items())]
        for name, read in gauges.items():
            lines += [f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(state=state)} {value:g}" for state, value in sorted(read().items())]
        return "\n".join(lines) + "\n"
