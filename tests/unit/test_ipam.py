import netaddr

from osa_aio.inventory.ipam import Pool


def make_pool(cidr="10.0.0.0/29", used=()):
    return Pool("management", netaddr.IPNetwork(cidr), netaddr.IPSet(used))


def test_allocates_lowest_free_address_skipping_network_address():
    pool = make_pool()
    assert pool.allocate() == "10.0.0.1"
    assert pool.allocate() == "10.0.0.2"


def test_used_ips_are_never_allocated():
    pool = make_pool(used=["10.0.0.1", "10.0.0.2", "10.0.0.4"])
    assert [pool.allocate(), pool.allocate()] == ["10.0.0.3", "10.0.0.5"]


def test_broadcast_is_not_allocated_and_empty_pool_returns_none():
    pool = make_pool()
    got = [pool.allocate() for _ in range(6)]
    assert got == [f"10.0.0.{i}" for i in range(1, 7)]
    assert pool.allocate() is None
    assert pool.free_count() == 0


def test_free_count_ignores_reservations_outside_the_network():
    pool = make_pool(used=["10.0.0.3", "192.168.1.1"])
    assert pool.free_count() == 5


def test_taken_address_is_not_free_and_not_allocated_again():
    pool = make_pool()
    assert pool.is_free("10.0.0.1")
    pool.take("10.0.0.1")
    assert not pool.is_free("10.0.0.1")
    assert pool.allocate() == "10.0.0.2"
    assert not pool.is_free("10.0.1.1")  # outside the network
