"""Sites as Linux network namespaces, for the partition and site-loss tests (README
"Partitions"; twinteller/devcluster/sites.py).

One namespace per place (`<prefix>-a`, `<prefix>-b`, `<prefix>-witness`, and `<prefix>-ops`,
where the test's own driver runs), each with one address on its loopback from a private
range that exists only inside these namespaces (10.201.0.0/24), and a veth pair between
every two places: a full mesh, so the link between two places can be cut or degraded
without touching the others. `ip`/`tc` (iproute2) do the work; it needs root.

A cut drops every packet both ways (a pfifo queue of length 0 on each end): peers see
silence and time out, as across a real broken link, not a quick "unreachable". A degraded
link is `tc netem` delay, jitter and loss where the kernel has netem; this machine's
kernel has no sch_netem ("Specified qdisc kind is unknown"; only pfifo, tbf, htb), so
there it is a token bucket (`tbf`) at a low rate with a short queue: packets wait in the
queue (delay) and those beyond it are dropped (loss), the link kept. Everything is created inside
the namespaces (a veth is born in one and its peer moved into the other at once), and
`delete` removes exactly the namespaces this object named, with their links.
"""

from __future__ import annotations

import itertools
import subprocess

from twinteller.devcluster.local_cluster import WITNESS

OPS = "ops"  # where the test's driver runs: linked to every site, never cut
PLACES = ("a", "b", WITNESS, OPS)
SUBNET = "10.201.0"


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()}")


class SiteNetwork:
    def __init__(self, prefix: str) -> None:
        if len(prefix) > 20 or not prefix.replace("-", "").isalnum():
            raise ValueError(f"namespace prefix must be short and alphanumeric, got {prefix!r}")
        self.prefix = prefix
        self.created: list[str] = []

    def namespace(self, place: str) -> str:
        return f"{self.prefix}-{place}"

    @staticmethod
    def address(place: str) -> str:
        return f"{SUBNET}.{PLACES.index(place) + 1}"

    def hosts(self) -> dict[str, str]:
        """Each site's address (for the cluster's layout)."""
        return {place: self.address(place) for place in PLACES}

    def exec_prefix(self, place: str) -> list[str]:
        """Run a command inside `place`."""
        return ["ip", "netns", "exec", self.namespace(place)]

    @staticmethod
    def _device(towards: str) -> str:
        return f"to-{towards}"  # unique inside each namespace; at most 15 characters

    def create(self) -> SiteNetwork:
        try:
            for place in PLACES:
                name = self.namespace(place)
                _run("ip", "netns", "add", name)
                self.created.append(name)
                _run("ip", "-n", name, "link", "set", "lo", "up")
                _run("ip", "-n", name, "addr", "add", f"{self.address(place)}/32", "dev", "lo")
            for x, y in itertools.combinations(PLACES, 2):
                nx, ny, dx, dy = self.namespace(x), self.namespace(y), self._device(y), self._device(x)
                _run("ip", "-n", nx, "link", "add", dx, "type", "veth", "peer", "name", dy, "netns", ny)
                for ns, dev, here, there in ((nx, dx, x, y), (ny, dy, y, x)):
                    _run("ip", "-n", ns, "link", "set", dev, "up")
                    route = ("ip", "-n", ns, "route", "add", f"{self.address(there)}/32", "dev", dev)
                    _run(*route, "src", self.address(here))
        except BaseException:
            self.delete()
            raise
        return self

    def delete(self) -> None:
        """Remove the namespaces this object created (their veths go with them)."""
        for name in reversed(self.created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self.created.clear()

    def __enter__(self) -> SiteNetwork:
        return self.create()

    def __exit__(self, *exc: object) -> None:
        self.delete()

    # -- faults ------------------------------------------------------------------------------
    def _qdisc(self, x: str, y: str, *spec: str) -> None:
        for here, there in ((x, y), (y, x)):
            dev = self._device(there)
            _run(*self.exec_prefix(here), "tc", "qdisc", "replace", "dev", dev, "root", *spec)

    def cut(self, x: str, y: str) -> None:
        """Every packet between `x` and `y` dropped, both ways."""
        self._qdisc(x, y, "pfifo", "limit", "0")

    def degrade(self, x: str, y: str, delay_ms: int = 40, jitter_ms: int = 10, loss_percent: float = 2.0) -> str:
        """Packets between `x` and `y` delayed and some dropped, the link kept. Returns
        what was applied (netem, or tbf where the kernel has no netem)."""
        netem = ("netem", "delay", f"{delay_ms}ms", f"{jitter_ms}ms", "loss", f"{loss_percent}%")
        try:
            self._qdisc(x, y, *netem)
            return " ".join(netem)
        except RuntimeError as e:
            if "unknown" not in str(e):
                raise
        # 2 Mbit/s with a queue of `delay_ms` worth: bursts wait up to that long, more is dropped.
        tbf = ("tbf", "rate", "2mbit", "burst", "16kb", "latency", f"{delay_ms}ms")
        self._qdisc(x, y, *tbf)
        return " ".join(tbf)

    def heal(self, x: str, y: str) -> None:
        for here, there in ((x, y), (y, x)):
            dev = self._device(there)
            subprocess.run([*self.exec_prefix(here), "tc", "qdisc", "del", "dev", dev, "root"], capture_output=True)
