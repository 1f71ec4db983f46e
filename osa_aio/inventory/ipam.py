"""Address pools: a cidr_networks entry minus used_ips, host addresses and assigned addresses."""

from __future__ import annotations

from typing import Iterator

import netaddr


class Pool:
    """The free addresses of one network; allocation takes the lowest free one (deterministic)."""

    def __init__(self, name: str, network: netaddr.IPNetwork, reserved: netaddr.IPSet) -> None:
        self.name = name
        self.network = network
        self._taken = netaddr.IPSet(reserved) & netaddr.IPSet([network])
        # The network and broadcast addresses are never handed out.
        self._taken.add(network.network)
        if network.size > 2:
            self._taken.add(network.broadcast)

    def free_count(self) -> int:
        return self.network.size - self._taken.size

    def is_free(self, address: str) -> bool:
        return netaddr.IPAddress(address) in self.network and address not in self._taken

    def take(self, address: str) -> None:
        """Mark an address as used (one kept from the saved inventory, say)."""
        self._taken.add(address)

    def allocate(self) -> str | None:
        """The lowest free address, now taken; None when the pool is empty."""
        for candidate in self._candidates():
            if candidate not in self._taken:
                self._taken.add(candidate)
                return str(candidate)
        return None

    def _candidates(self) -> Iterator[netaddr.IPAddress]:
        for value in range(self.network.first, self.network.last + 1):
            yield netaddr.IPAddress(value, self.network.version)
