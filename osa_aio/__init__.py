"""osa-aio: an all-in-one OpenStack deployer in the openstack-ansible style."""

__version__ = "0.1.0"
