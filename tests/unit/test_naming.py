import re

from osa_aio.inventory.naming import (container_mac, container_name, looks_like_container_name,
                                      normalize)

HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def test_container_name_shape_and_validity():
    name = container_name("aio1", "keystone_container", 0)
    assert re.fullmatch(r"aio1-keystone-container-[0-9a-f]{8}", name)
    assert HOSTNAME.match(name)


def test_container_name_is_deterministic_and_distinct_per_slot():
    names = {container_name("aio1", "galera_container", i) for i in range(3)}
    assert len(names) == 3
    assert container_name("aio1", "galera_container", 1) == container_name("aio1", "galera_container", 1)
    assert container_name("aio2", "galera_container", 0) != container_name("aio1", "galera_container", 0)


def test_osa_older_form_normalizes_to_the_same_name():
    assert normalize("aio1_keystone_container-821e7cf8") == "aio1-keystone-container-821e7cf8"
    assert normalize("AIO1-Keystone-Container-821E7CF8") == "aio1-keystone-container-821e7cf8"
    assert looks_like_container_name("aio1_keystone_container-821e7cf8")
    assert not looks_like_container_name("keystone_container")


def test_mac_is_locally_administered_unicast_and_stable():
    mac = container_mac("aio1-keystone-container-821e7cf8", "eth1")
    assert re.fullmatch(r"02(:[0-9a-f]{2}){5}", mac)
    first = int(mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01
    assert mac == container_mac("aio1-keystone-container-821e7cf8", "eth1")
    assert mac != container_mac("aio1-keystone-container-821e7cf8", "eth2")
    assert mac != container_mac("aio1-keystone-container-821e7cf8", "eth1", attempt=1)
