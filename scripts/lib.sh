# Shared set-up steps for scripts/aio.sh and scripts/run-tests.sh (sourced, not run).
# Installs Debian/Ubuntu packages the host needs and a Python venv with osa-aio in it.

HOST_PACKAGES=(
  python3 python3-venv python3-dev gcc pkg-config   # the venv, and building python-lxc
  lxc lxc-dev mmdebstrap                            # containers and the base image
  iptables iproute2 rsync curl ca-certificates      # host networking, NAT, copying, checks
)

TEST_PACKAGES=(
  openssh-server          # an sshd on loopback for the SSH runner's integration test
  haproxy                 # `haproxy -c` on the generated config in the unit tests
  chromium                # the browser the dashboard test drives (headless), with its driver
  chromium-driver
)

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: run this as root (e.g. sudo $0)" >&2
    exit 2
  fi
}

# install_packages PKG...: apt-get install what is missing, without starting any service it ships.
install_packages() {
  local missing=() guard=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  echo "Installing packages: ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Packages such as openssh-server would start their daemon on install; tests start their own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    guard=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
}

install_host_packages() {
  install_packages "${HOST_PACKAGES[@]}"
}

# make_venv DIR [EXTRAS] [-e]: a venv on the distribution's python3 with osa-aio installed
# (editable with -e, so the checkout's code is what runs).
make_venv() {
  local venv=$1 extras=${2:-} editable=${3:-}
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  # Ignore the host's own pip configuration: osa-aio passes its own options.
  PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q --disable-pip-version-check --upgrade pip
  PIP_CONFIG_FILE=/dev/null "$venv/bin/pip" install -q --disable-pip-version-check $editable ".${extras}"
}
