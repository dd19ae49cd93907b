#!/usr/bin/env bash
# Installs the Debian packages Wharf needs for a purpose, only those missing.
#   scripts/install-deps.sh run    what building and running wharfd needs
#   scripts/install-deps.sh test   plus the test peers (Mosquitto, its clients, Python venv)
#   scripts/install-deps.sh bench  plus what the benchmark script needs
#   scripts/install-deps.sh package  what building the .deb and its install test need
#   scripts/install-deps.sh layout   what scripts/gen-order-file.sh needs (valgrind)
set -euo pipefail

purpose="${1:-run}"
packages=(pkg-config)
# The C libraries wharfd links (their -dev packages pull in the runtime libraries).
build_libraries=(libsqlite3-dev libmodbus-dev libcoap3-dev libyaml-dev)
# Real peers the tests and benchmarks talk to: Mosquitto, libcoap's command-line client and
# server, socat for serial (RTU) pairs, OpenSSL for test certificates, Python for pytest,
# RabbitMQ with its MQTT plugin as a 3-node cloud cluster (Tests/EndToEnd/wharf_e2e/rabbitmq.py).
test_peers=(openssl mosquitto mosquitto-clients libcoap3-bin socat python3 python3-venv procps rabbitmq-server)
# The admin page's browser tests drive Debian's headless Chromium through its WebDriver
# (Tests/EndToEnd/test_44_admin_page.py).
test_peers+=(chromium chromium-driver)
# The .deb and its install test: dpkg-shlibdeps (dpkg-dev), strip (binutils), lintian,
# debootstrap for a fresh Debian root, systemd-analyze (systemd), setpriv (util-linux),
# MQTT clients and Python to talk to the installed daemon and time its start.
package_tools=(dpkg-dev binutils lintian debootstrap systemd util-linux mosquitto-clients python3)
case "$purpose" in
    run) packages+=("${build_libraries[@]}") ;;
    test | bench) packages+=("${build_libraries[@]}" "${test_peers[@]}" "${package_tools[@]}") ;;
    package) packages+=("${build_libraries[@]}" "${package_tools[@]}") ;;
    layout) packages+=("${build_libraries[@]}" "${package_tools[@]}" mosquitto-clients valgrind) ;;
    *) echo "usage: $0 run|test|bench|package|layout" >&2; exit 2 ;;
esac

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: the Swift toolchain is not on PATH (see README.md, Requirements)" >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged services (RabbitMQ, and the epmd it pulls in) must not start at install: the tests
# start their own nodes on their own ports. Where no policy-rc.d says so already, one is put in
# place for the length of the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Placed by Wharf scripts/install-deps.sh for one install.\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged Mosquitto on port 1883; the tests start their own brokers.
if [[ " ${missing[*]} " == *" mosquitto "* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
# Debian's RabbitMQ would run as a system service on 5672 and 1883 with a shared epmd on 4369;
# the tests run their own nodes and their own epmd on loopback.
if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now rabbitmq-server epmd.socket epmd.service >/dev/null 2>&1 || true
fi
