#!/usr/bin/env bash
# Install test of the wharf .deb (run by `make package-test`, in CI through `make test`).
#
#   packaging/test-install.sh [DEB]      default: the newest dist/wharf_*.deb
#
# 1. lintian on the .deb: errors and warnings fail, unless packaging/lintian-overrides
#    overrides them with a reason. The .deb holds one Swift executable, /usr/bin/wharfd, with
#    /usr/bin/wharfctl a symbolic link to it; the copyright file and NOTICE, the plugin
#    directory, wharf-launch, the Python SDK, the OPC UA plugin and the C example, with the
#    right modes.
#    The architecture: `make deb` refuses one other than amd64 and arm64 in one line, before
#    building anything (WHARF_DEB_ARCH=riscv64 stands in for such a machine), and
#    build-deb.sh refuses to label this package's binaries with the other supported one.
# 2. Installs the package with apt into a fresh Debian 12 root made by debootstrap (minbase),
#    which resolves Depends against the archive; the root is cached as a tarball in
#    WHARF_PKG_CACHE (default: out/package-test, gitignored), so a rerun skips debootstrap.
# 3. systemd-analyze verify on the installed unit.
# 4. Checks what postinst did: the wharf user and group, dialout membership, /var/lib/wharf
#    0750 wharf:wharf, /etc/wharf/wharf.yaml 0640 root:wharf and registered as a conffile,
#    the unit enabled.
# 5. `wharfd --check` and `wharfctl check` on the shipped config, as the wharf user; wharfctl
#    through the link says wharfctl in its help and version, wharfd says wharfd; then the
#    plugins' parts (python3 is installed into the root for them): wharf-launch runs a command,
#    Debian's python3 imports the SDK, the OPC UA plugin without asyncua reports health failed
#    naming wharf-opcua-setup, and the setup without python3-venv says what to install. With
#    WHARF_PKG_OPCUA_SETUP=1 (it downloads from PyPI) the setup runs for real and the plugin
#    then starts on its venv.
# 6. Starts wharfd as the wharf user (no systemd in a chroot: setpriv, with no-new-privs, no
#    capabilities and the kernel's memory-deny-write-execute, as the unit asks of systemd) on
#    127.0.0.1:1883, or another free port through --listen if 1883 is taken, and publishes
#    and subscribes from the host with mosquitto_pub/mosquitto_sub; `wharfctl status` reports
#    the running daemon healthy, as root and as the wharf user (runuser, wharfctl found on
#    PATH: the name without a directory).
# 7. Upgrades to a newer revision of the same package after editing the config and leaving
#    data: both survive, and dpkg asks nothing (stdin is closed, so a prompt fails the test).
# 8. Removes (data, config and user stay), then purges: the state directory, the config,
#    the user and the group are gone and no file is left behind.
#
# WHARF_PKG_MODE=host skips debootstrap and does all this on this machine's own root with
# apt and dpkg (for a machine where debootstrap cannot run; it purges the package at the end).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
mode="${WHARF_PKG_MODE:-chroot}"
cache="${WHARF_PKG_CACHE:-$repo/out/package-test}"
mirror="${WHARF_PKG_MIRROR:-http://deb.debian.org/debian}"
failures=0

log() { echo "package-test: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
check() {  # description command...
    local what="$1"
    shift
    if "$@"; then log "ok   $what"; else log "FAIL $what"; failures=$((failures + 1)); fi
}

deb="${1:-$(ls -t "$repo"/dist/wharf_*.deb 2>/dev/null | head -n 1 || true)}"
[ -n "$deb" ] && [ -f "$deb" ] || die "no .deb given and none in dist/ (make deb builds one)"
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
for tool in lintian systemd-analyze mosquitto_pub mosquitto_sub python3 dpkg-deb setpriv; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/install-deps.sh package installs it)"
done
[ "$(id -u)" -eq 0 ] || die "the install test needs root (chroot, apt, dpkg)"
log "package $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p' >&2
dpkg-deb --contents "$deb" >&2

# --- 1. lintian -------------------------------------------------------------------------
log "lintian"
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" >&2 ||
    die "lintian reports errors or warnings that packaging/lintian-overrides does not cover"
log "ok   lintian: no error or warning left"

# --- 1b. what the .deb holds: one executable, and the plugins' parts ----------------------
contents="$(dpkg-deb --contents "$deb")"
in_deb() {  # mode path: the .deb holds path (without ./) with this mode, owned by root
    awk -v mode="$1" -v path="./$2" '$1 == mode && $2 == "root/root" && $6 == path { found = 1 } END { exit !found }' \
        <<<"$contents" || { log "     no $1 ./$2 in the .deb"; return 1; }
}
wharfctl_is_a_link() {
    awk '$1 == "lrwxrwxrwx" && $2 == "root/root" && $6 == "./usr/bin/wharfctl" && $7 == "->" && $8 == "wharfd" { found = 1 }
        END { exit !found }' <<<"$contents" || { log "     $(grep ' ./usr/bin/wharfctl' <<<"$contents")"; return 1; }
}
usr_bin_is_wharfd_and_wharfctl() {
    local listed
    listed="$(awk '$6 ~ /^\.\/usr\/bin\/./ { print $6 }' <<<"$contents" | LC_ALL=C sort | tr '\n' ' ')"
    [ "$listed" = "./usr/bin/wharfctl ./usr/bin/wharfd " ] || { log "     /usr/bin holds: $listed"; return 1; }
}
check "/usr/bin/wharfd, the executable" in_deb -rwxr-xr-x usr/bin/wharfd
check "/usr/bin/wharfctl is a symbolic link to wharfd" wharfctl_is_a_link
check "/usr/bin holds nothing else" usr_bin_is_wharfd_and_wharfctl
check "the plugin directory /usr/lib/wharf/plugins/" in_deb drwxr-xr-x usr/lib/wharf/plugins/
check "wharf-launch at /usr/lib/wharf/wharf-launch" in_deb -rwxr-xr-x usr/lib/wharf/wharf-launch
check "the SDK at /usr/lib/python3/dist-packages/wharf_plugin.py" \
    in_deb -rw-r--r-- usr/lib/python3/dist-packages/wharf_plugin.py
check "the OPC UA plugin wharf-opcua" in_deb -rwxr-xr-x usr/lib/wharf/plugins/wharf-opcua
check "its setup wharf-opcua-setup" in_deb -rwxr-xr-x usr/lib/wharf/plugins/wharf-opcua-setup
for file in "$repo"/plugins/opcua/wharf_opcua/*.py "$repo"/plugins/opcua/wharf_opcua/requirements.txt; do
    check "wharf_opcua/$(basename "$file")" in_deb -rw-r--r-- "usr/lib/wharf/plugins/wharf_opcua/$(basename "$file")"
done
check "the C example at /usr/share/doc/wharf/examples/counter.c" \
    in_deb -rw-r--r-- usr/share/doc/wharf/examples/counter.c
check "the copyright file at /usr/share/doc/wharf/copyright" in_deb -rw-r--r-- usr/share/doc/wharf/copyright
check "the attribution notices at /usr/share/doc/wharf/NOTICE" in_deb -rw-r--r-- usr/share/doc/wharf/NOTICE
for doc in plugins.md plugin-sdk.md opcua.md; do
    check "/usr/share/doc/wharf/$doc" in_deb -rw-r--r-- "usr/share/doc/wharf/$doc"
done

# --- the root to install into -----------------------------------------------------------
work="$(mktemp -d /tmp/wharf-package-test.XXXXXX)"
root="$work/root"
wharfd_pid=""
notify_pid=""
cleanup() {
    if [ -n "$wharfd_pid" ]; then kill "$wharfd_pid" 2>/dev/null || true; fi
    if [ -n "$notify_pid" ]; then kill "$notify_pid" 2>/dev/null || true; fi
    if [ "$mode" = chroot ]; then
        mountpoint -q "$root/proc" && umount "$root/proc"
        rm -rf "$work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# --- 1c. architectures --------------------------------------------------------------------
# `make deb` on a machine of another architecture: one line naming it and the supported
# ones, before anything is built or installed.
refuses_riscv64() {
    local out status=0 lines
    out="$(WHARF_DEB_ARCH=riscv64 timeout 120 make --no-print-directory -s -C "$repo" deb 2>&1)" || status=$?
    lines="$(grep -Ev '^make(\[[0-9]+\])?: \*\*\*' <<<"$out" || true)"  # make's own "*** [deb] Error 1"
    if [ "$status" -ne 0 ] && [ "$(wc -l <<<"$lines")" -eq 1 ] && [[ "$lines" == *riscv64* ]] &&
        [[ "$lines" == *amd64* ]] && [[ "$lines" == *arm64* ]] && ! ls "$repo"/dist/*riscv64* >/dev/null 2>&1; then
        log "     $lines"
        return 0
    fi
    log "     make deb exited $status: $out"
    return 1
}
check "make deb refuses riscv64 in one line naming amd64 and arm64" refuses_riscv64
# This package's binaries labelled as the other supported architecture: refused by build-deb.sh.
refuses_foreign_binaries() {
    local package_arch other out status=0
    package_arch="$(dpkg-deb --field "$deb" Architecture)"
    case "$package_arch" in amd64) other=arm64 ;; *) other=amd64 ;; esac
    dpkg-deb --extract "$deb" "$work/extracted"
    mkdir -p "$work/bin" "$work/out"
    cp "$work/extracted/usr/bin/wharfd" "$work/extracted/usr/lib/wharf/wharf-launch" "$work/bin/"
    out="$(WHARF_DEB_ARCH="$other" "$here/build-deb.sh" --bin-dir "$work/bin" --out "$work/out" 2>&1)" || status=$?
    rm -rf "$work/extracted" "$work/bin"
    if [ "$status" -ne 0 ] && [[ "$out" == *"not for $other"* ]] && [ -z "$(ls -A "$work/out")" ]; then
        log "     $out"
        return 0
    fi
    log "     build-deb.sh exited $status: $out"
    return 1
}
check "build-deb.sh refuses $(dpkg-deb --field "$deb" Architecture) binaries as another architecture" refuses_foreign_binaries

if [ "$mode" = chroot ]; then
    tarball="$cache/bookworm-minbase-$(dpkg --print-architecture).tar"
    if [ ! -f "$tarball" ]; then
        command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (scripts/install-deps.sh package)"
        log "debootstrap: a minimal Debian 12 root (cached in $tarball)"
        mkdir -p "$cache"
        debootstrap --variant=minbase bookworm "$work/fresh" "$mirror" >"$work/debootstrap.log" 2>&1 ||
            { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (WHARF_PKG_MODE=host tests on this machine's root)"; }
        tar -C "$work/fresh" --numeric-owner -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        rm -rf "$work/fresh"
    fi
    mkdir -p "$root"
    tar -C "$root" --numeric-owner -xpf "$tarball"
    mount -t proc proc "$root/proc"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    run() { chroot "$root" "$@"; }
else
    root=""
    run() { "$@"; }
fi
R="$root"

# Every file of the root before the package, to find leftovers after the purge. Logs, apt
# and dpkg's own state, caches and the shadow files' backups change on any installation.
snapshot() {
    (cd "$R/" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
        -o -path ./run -o -path ./var/log -o -path ./var/cache -o -path ./var/lib/apt \
        -o -path ./var/lib/dpkg -o -path ./var/lib/systemd/deb-systemd-helper-enabled \
        -o -path ./var/lib/systemd/deb-systemd-helper-masked -o -path ./root -o -path ./work \
        -o -path ./var/tmp \) -prune -o -print | grep -v -E '^\./etc/(passwd|group|shadow|gshadow|subuid|subgid)-$' |
        grep -v -E '^\./etc/ld\.so\.cache$' | LC_ALL=C sort)
}

# --- 2. install with apt ----------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
if [ "$mode" = chroot ]; then
    run apt-get update -qq >&2 || die "apt-get update in the root failed"
else
    if dpkg-query -W -f='${Status}' wharf 2>/dev/null | grep -q "ok installed"; then
        die "wharf is already installed on this machine: host mode would purge it"
    fi
fi
if [ "$mode" = chroot ]; then
    # Python for the plugins' checks (the package only suggests it), installed before the
    # snapshot: the purge must not remove it, and must leave nothing of the package behind it.
    python_packages=(python3)
    if [ "${WHARF_PKG_OPCUA_SETUP:-0}" = 1 ]; then python_packages+=(python3-venv ca-certificates); fi
    run apt-get install -y -q --no-install-recommends "${python_packages[@]}" </dev/null >"$work/python.log" 2>&1 ||
        { cat "$work/python.log" >&2; die "apt-get install ${python_packages[*]} in the root failed"; }
    snapshot >"$work/before"
    inside="/tmp"
else
    inside="$work"
fi
cp "$deb" "$R$inside/wharf.deb"
log "apt-get install ./$(basename "$deb")"
run apt-get install -y -q --no-install-recommends "$inside/wharf.deb" </dev/null >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; die "apt-get install failed"; }
version="$(run dpkg-query -W -f='${Version}' wharf)"
log "installed wharf $version; installed size $(run dpkg-query -W -f='${Installed-Size}' wharf) KiB"
log "Depends: $(run dpkg-query -W -f='${Depends}' wharf)"
check "the binaries find every library they link" \
    bash -c "! chroot '${R:-/}' ldd /usr/bin/wharfd /usr/lib/wharf/wharf-launch | grep -q 'not found'"

# --- 3. the unit --------------------------------------------------------------------------
# The root has no systemd to load units with, so the host's systemd (the same Debian 12
# version) verifies the installed unit, its ExecStart pointed at the installed binary and
# man looking up its Documentation= pages in the root.
log "systemd-analyze verify"
mkdir -p "$work/unit"
sed "s|=/usr/bin/wharfd |=$R/usr/bin/wharfd |" "$R/lib/systemd/system/wharf.service" >"$work/unit/wharf.service"
if (cd "$work/unit" && MANPATH="$R/usr/share/man" systemd-analyze verify ./wharf.service) >"$work/verify.log" 2>&1 &&
    [ ! -s "$work/verify.log" ]; then
    check "systemd-analyze verify wharf.service" true
else
    cat "$work/verify.log" >&2
    check "systemd-analyze verify wharf.service" false
fi
log "systemd-analyze security: $(cd "$work/unit" && systemd-analyze security --offline=yes ./wharf.service 2>&1 | tail -n 1)"

# --- 4. what postinst did ---------------------------------------------------------------
owner_mode() {  # path expected
    local actual
    actual="$(chroot "${R:-/}" stat -c '%a %U %G' "$1" 2>/dev/null || echo missing)"
    [ "$actual" = "$2" ] || { log "     $1 is '$actual', expected '$2'"; return 1; }
}
passwd_entry="$(run getent passwd wharf || true)"
check "the wharf user exists" test -n "$passwd_entry"
uid="$(echo "$passwd_entry" | cut -d: -f3)"
check "wharf is a system user (uid $uid < 1000)" test "${uid:-1000}" -lt 1000
check "wharf's home is /var/lib/wharf, its shell nologin" \
    test "$(echo "$passwd_entry" | cut -d: -f6,7)" = "/var/lib/wharf:/usr/sbin/nologin"
check "the wharf group exists" bash -c "chroot '${R:-/}' getent group wharf >/dev/null"
groups="$(run id -nG wharf || true)"
check "wharf belongs to wharf and dialout ($groups)" bash -c "[[ ' $groups ' == *' wharf '* && ' $groups ' == *' dialout '* ]]"
check "/var/lib/wharf is 750 wharf:wharf" owner_mode /var/lib/wharf "750 wharf wharf"
check "/etc/wharf/wharf.yaml is 640 root:wharf" owner_mode /etc/wharf/wharf.yaml "640 root wharf"
check "/etc/wharf/wharf.yaml is a conffile" \
    bash -c "chroot '${R:-/}' dpkg-query -W -f='\${Conffiles}' wharf | grep -q '^ /etc/wharf/wharf.yaml '"
check "/etc/wharf/wharf.yaml is the shipped config" cmp -s "$R/etc/wharf/wharf.yaml" "$repo/etc/wharf/wharf.yaml"
check "/bin/kill (the unit's ExecReload) is installed" test -x "$R/bin/kill"
check "/usr/lib/wharf/plugins/ exists" test -d "$R/usr/lib/wharf/plugins"
check "the unit is enabled (multi-user.target.wants)" \
    test -L "$R/etc/systemd/system/multi-user.target.wants/wharf.service"
check "man pages wharfd(8), wharfctl(8), wharf.yaml(5)" test -f "$R/usr/share/man/man8/wharfd.8.gz" -a \
    -f "$R/usr/share/man/man8/wharfctl.8.gz" -a -f "$R/usr/share/man/man5/wharf.yaml.5.gz"
check "copyright and changelog.Debian.gz" test -f "$R/usr/share/doc/wharf/copyright" -a \
    -f "$R/usr/share/doc/wharf/changelog.Debian.gz"

# --- 5. the shipped config is valid, for the daemon's user --------------------------------
as_wharf=(setpriv --reuid=wharf --regid=wharf --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all)
check "wharfd --check on the shipped config" \
    bash -c "chroot '${R:-/}' ${as_wharf[*]} /usr/bin/wharfd --check --config /etc/wharf/wharf.yaml >&2"
check "wharfctl check on the shipped config" \
    bash -c "chroot '${R:-/}' ${as_wharf[*]} /usr/bin/wharfctl check >&2"
check "wharfd --version says $(echo "$version" | sed 's/-[^-]*$//')" \
    bash -c "chroot '${R:-/}' /usr/bin/wharfd --version | grep -qx 'wharfd ${version%-*}'"
check "wharfctl version (wharfd through the link) says wharfctl ${version%-*}" \
    bash -c "chroot '${R:-/}' ${as_wharf[*]} /usr/bin/wharfctl version | grep -qx 'wharfctl ${version%-*}'"
check "wharfctl --help is wharfctl's" \
    bash -c "chroot '${R:-/}' /usr/bin/wharfctl --help | grep -qx 'USAGE: wharfctl <subcommand>'"
check "wharfd --help is wharfd's" \
    bash -c "chroot '${R:-/}' /usr/bin/wharfd --help | grep -q '^USAGE: wharfd \[--config <config>\]'"

# --- 5b. the plugins' parts --------------------------------------------------------------
launch_returns_status() {
    local status
    status="$(run sh -c '/usr/lib/wharf/wharf-launch --parent $$ -- /bin/sh -c "exit 3"; echo $?')"
    [ "$status" = 3 ] || { log "     wharf-launch ... -- sh -c 'exit 3' gave '$status'"; return 1; }
}
check "wharf-launch starts a plugin and passes its exit status on" launch_returns_status
sdk_imports() {  # as root and writing byte code, which prerm must remove (py3clean's job)
    local where
    where="$(run env -u PYTHONDONTWRITEBYTECODE python3 -c 'import wharf_plugin; print(wharf_plugin.__file__)' 2>&1)"
    [ "$where" = /usr/lib/python3/dist-packages/wharf_plugin.py ] || { log "     python3: $where"; return 1; }
}
check "Debian's python3 imports the SDK" sdk_imports
check "the installed SDK is the repository's" cmp -s "$R/usr/lib/python3/dist-packages/wharf_plugin.py" \
    "$repo/plugins/sdk/python/wharf_plugin.py"
opcua_session() {  # config-json seconds: init, a health ping that many seconds later, shutdown; its stdout
    {
        printf '{"type":"init","protocol":{"min":1,"max":1},"name":"line1","config":%s,"credit":8}\n' "$1"
        sleep "$2"
        printf '%s\n' '{"type":"health"}' '{"type":"shutdown","grace_ms":2000}'
    } | run "${as_wharf[@]}" /usr/lib/wharf/plugins/wharf-opcua 2>"$work/opcua.stderr"
}
opcua_names_setup() {
    local out
    out="$(opcua_session '{}' 0)" || { log "     wharf-opcua exited $?: $(cat "$work/opcua.stderr")"; return 1; }
    if grep -q '"status":"failed"' <<<"$out" && grep -q 'wharf-opcua-setup' <<<"$out" &&
        grep -q 'wharf-opcua-setup' "$work/opcua.stderr"; then
        return 0
    fi
    log "     stdout: $out"
    log "     stderr: $(cat "$work/opcua.stderr")"
    return 1
}
setup_names_venv() {
    local out
    if out="$(run /usr/lib/wharf/plugins/wharf-opcua-setup 2>&1)"; then log "     $out"; return 1; fi
    grep -q 'apt install python3-venv' <<<"$out" || { log "     $out"; return 1; }
}
if run python3 -c 'import asyncua' 2>/dev/null; then
    log "skip the OPC UA checks without asyncua: this python3 has it"
elif [ "${WHARF_PKG_OPCUA_SETUP:-0}" = 1 ]; then
    # As from an administrator's shell: the test machine's settings (pip's, the CA bundle
    # variables) name files the root does not have. Its CA bundle, which may hold a proxy's CA,
    # is copied in for pip.
    log "wharf-opcua-setup (from PyPI)"
    pip_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
    if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
        cp "$PIP_CERT" "$R$inside/pip-ca.crt"
        pip_env+=("PIP_CERT=$inside/pip-ca.crt")
    fi
    if run "${pip_env[@]}" /usr/lib/wharf/plugins/wharf-opcua-setup >"$work/setup.log" 2>&1; then
        check "wharf-opcua-setup installs asyncua into /var/lib/wharf/venv/opcua" \
            grep -q 'is installed in /var/lib/wharf/venv/opcua' "$work/setup.log"
    else
        cat "$work/setup.log" >&2
        check "wharf-opcua-setup installs asyncua into /var/lib/wharf/venv/opcua" false
    fi
    opcua_on_venv() {
        local out
        out="$(opcua_session '{"endpoints":[{"name":"plc","url":"opc.tcp://127.0.0.1:9/","nodes":[{"node":"ns=2;i=1"}]}]}' 5)"
        grep -q '"status":"degraded".*plc' <<<"$out" && return 0
        log "     stdout: $out"
        log "     stderr: $(cat "$work/opcua.stderr")"
        return 1
    }
    check "wharf-opcua runs on the venv as wharf and reports its endpoint down" opcua_on_venv
else
    check "wharf-opcua without asyncua reports health failed naming wharf-opcua-setup" opcua_names_setup
    if run python3 -c 'import ensurepip, venv' 2>/dev/null; then
        log "skip wharf-opcua-setup without python3-venv: this python3 has it (WHARF_PKG_OPCUA_SETUP=1 runs the setup)"
    else
        check "wharf-opcua-setup without python3-venv says what to install" setup_names_venv
    fi
fi

# --- 6. the daemon runs as wharf and answers MQTT from the host ---------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=1883
listen=()
if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    port="$(free_port)"
    listen=(--listen "127.0.0.1:$port")
    log "1883 is taken on this machine: wharfd listens on 127.0.0.1:$port instead"
fi
# The admin API's port has no command-line override: a copy of the shipped config moves it.
config=/etc/wharf/wharf.yaml
admin_port=9883
if (exec 3<>/dev/tcp/127.0.0.1/9883) 2>/dev/null; then
    admin_port="$(free_port)"
    config="$inside/package-test.yaml"
    sed "s|^  #listen: \"127.0.0.1:9883\"$|  listen: \"127.0.0.1:$admin_port\"|" "$R/etc/wharf/wharf.yaml" >"$R$config"
    chmod 0644 "$R$config"
    chmod 0755 "$R$inside"
    grep -q "^  listen: \"127.0.0.1:$admin_port\"" "$R$config" || die "cannot move the admin API off 9883"
    log "9883 is taken on this machine: the admin API listens on 127.0.0.1:$admin_port instead"
fi
# The systemd side of Type=notify and WatchdogSec: a datagram socket in the abstract
# namespace (it needs no path inside the root), logging every message wharfd sends.
notify_name="wharf-package-test-$$"
python3 - "$notify_name" "$work/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
        out.flush()
EOF
notify_pid=$!
sleep 0.3
export NOTIFY_SOCKET="@$notify_name" WATCHDOG_USEC=2000000
# PR_SET_MDWE (65) with PR_MDWE_REFUSE_EXEC_GAIN (1): the kernel's form of the unit's
# MemoryDenyWriteExecute=, inherited through exec.
python3 - "${R:-/}" "${as_wharf[@]}" /usr/bin/wharfd --config "$config" "${listen[@]}" \
    >"$work/wharfd.log" 2>&1 <<'EOF' &
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    print("package-test: PR_SET_MDWE unavailable (errno %d): running without it" % ctypes.get_errno(), file=sys.stderr)
os.execvp("chroot", ["chroot"] + sys.argv[1:])
EOF
wharfd_pid=$!
unset NOTIFY_SOCKET WATCHDOG_USEC
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$wharfd_pid" 2>/dev/null || break
    sleep 0.1
done
check "wharfd accepts MQTT connections on 127.0.0.1:$port" bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
# By uid: the host may give the root's uid another name.
check "wharfd runs as the wharf user (uid $uid)" \
    bash -c "[ \"\$(ps -o uid= -p $wharfd_pid 2>/dev/null | tr -d ' ')\" = '$uid' ]"
dialout_gid="$(run getent group dialout | cut -d: -f3)"
check "wharfd has the dialout group (gid $dialout_gid) for serial ports" \
    bash -c "grep '^Groups:' /proc/$wharfd_pid/status | grep -qw '$dialout_gid'"
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'package-test/#' -C 1 -W 10 -v >"$work/sub.out" 2>&1 &
sub_pid=$!
sleep 0.5
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t package-test/live -m 'hello from the host' >&2 || true
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t package-test/retained -m kept >&2 || true
wait "$sub_pid" || true
check "a subscriber on the host receives a publish through wharfd" \
    grep -qx 'package-test/live hello from the host' "$work/sub.out"
check "a retained message is served to a new subscriber" bash -c \
    "[ \"\$(mosquitto_sub -h 127.0.0.1 -p $port -t package-test/retained -C 1 -W 10)\" = kept ]"
check "wharfd keeps its state in /var/lib/wharf as wharf" \
    bash -c "[ \"\$(stat -c %u '$R/var/lib/wharf/wharf.db' 2>/dev/null)\" = '$uid' ]"
check "the admin API answers /healthz from the host" python3 -c \
    "import urllib.request as u; assert u.urlopen('http://127.0.0.1:$admin_port/healthz', timeout=5).status == 200"
check "wharfctl status reports a healthy daemon" \
    bash -c "chroot '${R:-/}' /usr/bin/wharfctl status --url http://127.0.0.1:$admin_port >&2"
# As the daemon's user, found on PATH (the name wharfctl without a directory), reading the
# daemon's configuration (root:wharf 0640) for the admin API's address.
wharfctl_status_as_wharf() {
    local out
    out="$(run runuser -u wharf -- wharfctl status --config "$config" 2>&1)" || { log "     $out"; return 1; }
    grep -Eq '^health: +ok$' <<<"$out" || { log "     $out"; return 1; }
}
check "wharfctl status as the wharf user (runuser -u wharf -- wharfctl) reports a healthy daemon" \
    wharfctl_status_as_wharf
kill -HUP "$wharfd_pid" 2>/dev/null || true
sleep 2.5
check "sd_notify: READY=1 with a STATUS= line" grep -q 'READY=1.*STATUS=\|STATUS=.*READY=1' "$work/notify.log"
check "sd_notify: WATCHDOG=1 pings (WATCHDOG_USEC=2s)" grep -q 'WATCHDOG=1' "$work/notify.log"
check "sd_notify: RELOADING=1 on SIGHUP, then READY=1 again" \
    bash -c "grep -A1000 RELOADING=1 '$work/notify.log' | tail -n +2 | grep -q READY=1"
kill -TERM "$wharfd_pid" 2>/dev/null || true
status=0
wait "$wharfd_pid" || status=$?
wharfd_pid=""
check "wharfd stops cleanly on SIGTERM (exit status $status)" test "$status" -eq 0
check "sd_notify: STOPPING=1 on SIGTERM" grep -q 'STOPPING=1' "$work/notify.log"
kill "$notify_pid" 2>/dev/null || true
wait "$notify_pid" 2>/dev/null || true
notify_pid=""
if [ "$failures" -gt 0 ]; then sed 's/^/    wharfd: /' "$work/wharfd.log" >&2; fi

# --- 7. upgrade: edited config and data survive -----------------------------------------
echo "# edited on this gateway" >>"$R/etc/wharf/wharf.yaml"
echo "data" >"$R/var/lib/wharf/kept-by-upgrade"
chown --reference="$R/var/lib/wharf" "$R/var/lib/wharf/kept-by-upgrade"
next="$work/next"
dpkg-deb --raw-extract "$deb" "$next"
next_version="${version%-*}-$((${version##*-} + 1))"
sed -i "s/^Version: .*/Version: $next_version/" "$next/DEBIAN/control"
dpkg-deb --root-owner-group --build "$next" "$R$inside/wharf-next.deb" >/dev/null
log "apt-get install wharf $next_version (upgrade)"
if run apt-get install -y -q --no-install-recommends "$inside/wharf-next.deb" </dev/null >"$work/upgrade.log" 2>&1; then
    check "upgrade to $next_version" test "$(run dpkg-query -W -f='${Version}' wharf)" = "$next_version"
else
    cat "$work/upgrade.log" >&2
    check "upgrade to $next_version" false
fi
check "the edited config survives the upgrade" grep -qx '# edited on this gateway' "$R/etc/wharf/wharf.yaml"
check "no .dpkg-dist/.dpkg-new config was left" bash -c "! ls '$R'/etc/wharf/*.dpkg-* >/dev/null 2>&1"
check "the config is still 640 root:wharf" owner_mode /etc/wharf/wharf.yaml "640 root wharf"
check "the data survives the upgrade" test -f "$R/var/lib/wharf/kept-by-upgrade"
check "the wharf user keeps its uid" test "$(run getent passwd wharf | cut -d: -f3)" = "$uid"

# --- 8. remove, then purge --------------------------------------------------------------
log "apt-get remove wharf"
run apt-get remove -y -q wharf </dev/null >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; die "remove failed"; }
check "remove keeps /var/lib/wharf" test -f "$R/var/lib/wharf/kept-by-upgrade"
check "remove keeps the config" test -f "$R/etc/wharf/wharf.yaml"
check "remove keeps the wharf user" bash -c "chroot '${R:-/}' getent passwd wharf >/dev/null"
check "remove deletes the binaries" test ! -e "$R/usr/bin/wharfd"
log "apt-get purge wharf, then autoremove its dependencies"
run apt-get purge -y -q wharf </dev/null >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; die "purge failed"; }
check "purge deletes /var/lib/wharf" test ! -e "$R/var/lib/wharf"
check "purge deletes /etc/wharf" test ! -e "$R/etc/wharf"
check "purge deletes the wharf user and group" \
    bash -c "! grep -q '^wharf:' '$R/etc/passwd' '$R/etc/group' '$R/etc/shadow' '$R/etc/gshadow'"
check "wharf is no longer in the dialout group" bash -c "! grep -E '^dialout:' '$R/etc/group' | grep -qw wharf"
check "dpkg forgot the package" bash -c "! chroot '${R:-/}' dpkg-query -W wharf >/dev/null 2>&1"
if [ "$mode" = chroot ]; then
    run apt-get autoremove --purge -y -q </dev/null >"$work/autoremove.log" 2>&1 || true
    snapshot >"$work/after"
    if diff "$work/before" "$work/after" >"$work/leftovers"; then
        check "nothing is left behind" true
    else
        sed 's/^/    /' "$work/leftovers" >&2
        check "nothing is left behind" false
    fi
else
    # The machine's other packages may change anything; look for what is Wharf's.
    check "nothing of wharf is left behind" bash -c \
        "! find /etc /usr /lib /var/lib /run -xdev -name '*wharf*' 2>/dev/null | grep -q ."
fi

if [ "$failures" -gt 0 ]; then
    die "$failures check(s) failed"
fi
log "PASS: $(basename "$deb") installs, runs, upgrades and purges cleanly ($mode mode)"
