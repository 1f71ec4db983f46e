"""osa-aio: an all-in-one OpenStack deployer in the openstack-ansible style."""

from glob import glob

from setuptools import find_packages, setup

setup(
    name="osa-aio",
    version="0.1.0",
    description="All-in-one OpenStack in LXC containers, openstack-ansible style, fast for developers",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["osa_aio", "osa_aio.*"]),
    package_data={"osa_aio": ["templates/*/*.j2", "data/*.txt", "data/*.yml", "data/guest/*"]},
    data_files=[
        ("share/osa-aio/env.d", sorted(glob("env.d/*.yml"))),
        ("share/osa-aio/user_config", sorted(glob("user_config/*.yml"))),
    ],
    install_requires=[
        "click>=8.1",
        "PyYAML>=6.0",
        "Jinja2>=3.1",
        "netaddr>=0.10",
        "paramiko>=3.4",
        "rich>=13.0",
        "PyMySQL>=1.1",  # `osa-aio verify` asks galera through the VIP
        # python-lxc bindings; building them needs Debian's lxc-dev and pkg-config.
        "lxc>=3.0",
    ],
    # ansible-core: only to check that `inventory --export ansible` is an inventory Ansible reads.
    extras_require={"test": ["pytest>=8.0", "ansible-core>=2.16", "selenium>=4.20"]},
    entry_points={"console_scripts": ["osa-aio = osa_aio.cli:main"]},
)
