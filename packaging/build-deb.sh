#!/usr/bin/env bash
# Builds wharf_<version>-<revision>_<arch>.deb with dpkg-deb from release binaries.
#
#   packaging/build-deb.sh --bin-dir DIR [--out DIR] [--revision N]
#   packaging/build-deb.sh --check-arch
#
#   --bin-dir   where wharfd and wharf-launch were built (swift build -c release
#               --static-swift-stdlib --show-bin-path); `make deb` builds them first
#   --out       where the .deb goes (default: dist)
#   --revision  the Debian revision (default: 1, or DEB_REVISION)
#   --check-arch  only check that this machine's architecture is one the package is built
#               for, and exit (`make deb` does this before it builds anything)
#   MAINTAINER  the Maintainer field and changelog signature
#   WHARF_DEB_ARCH  the Debian architecture to assume instead of this machine's, to see the
#               refusal of an unsupported one without such a machine (packaging/test-install.sh
#               does); binaries of another architecture than it are refused as well
#
# The package holds one Swift executable, /usr/bin/wharfd; /usr/bin/wharfctl is a symbolic
# link to it, and wharfd runs wharfctl when started under that name.
# The version comes from the binary (`wharfd --version`), which prints the Swift constant
# `wharfVersion` of Sources/WharfCore/WharfVersion.swift; the build stops if the two differ
# (a stale binary). The architecture is the build machine's (`dpkg --print-architecture`),
# amd64 or arm64: the same script on an arm64 builder makes an arm64 package, and the
# binaries must be of that architecture (their ELF header says so). Depends is computed by
# dpkg-shlibdeps from what the binaries link; the build stops if it cannot be.
# Prints the path of the .deb on the last line.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
bin_dir=""
out_dir="dist"
revision="${DEB_REVISION:-1}"
maintainer="${MAINTAINER:-Wharf maintainers <maintainers@wharf.example.org>}"

check_arch_only=0

while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) bin_dir="$2"; shift 2 ;;
        --out) out_dir="$2"; shift 2 ;;
        --revision) revision="$2"; shift 2 ;;
        --check-arch) check_arch_only=1; shift ;;
        *) echo "usage: $0 --bin-dir DIR [--out DIR] [--revision N] | --check-arch" >&2; exit 2 ;;
    esac
done

fail() {
    echo "build-deb: $*" >&2
    exit 1
}

# The architectures Wharf is packaged for, each with the ELF machine of its binaries (as
# `readelf -h` names it). Swift toolchains for Debian 12 exist for both (docs/install.md,
# "Building the package"); on any other the build would make a package nobody tested.
supported_archs="amd64 arm64"
elf_machine_of() {
    case "$1" in
        amd64) echo "Advanced Micro Devices X86-64" ;;
        arm64) echo "AArch64" ;;
    esac
}
if [ -n "${WHARF_DEB_ARCH:-}" ]; then
    arch="$WHARF_DEB_ARCH"
else
    command -v dpkg >/dev/null 2>&1 || fail "dpkg is missing: the package is built on Debian 12"
    arch="$(dpkg --print-architecture)"
fi
case " $supported_archs " in
    *" $arch "*) ;;
    *) fail "architecture $arch is not supported: Wharf is packaged for ${supported_archs// / and } only" ;;
esac
[ "$check_arch_only" = 0 ] || exit 0

[ -n "$bin_dir" ] || fail "--bin-dir is required (the release build's bin directory)"
for tool in dpkg-deb dpkg-shlibdeps strip readelf gzip; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (scripts/install-deps.sh package installs it)"
done
for binary in wharfd wharf-launch; do
    [ -x "$bin_dir/$binary" ] || fail "$bin_dir/$binary is missing: build it with swift build -c release --static-swift-stdlib"
    machine="$(readelf -h "$bin_dir/$binary" | sed -n 's/^ *Machine: *//p')"
    [ "$machine" = "$(elf_machine_of "$arch")" ] ||
        fail "$bin_dir/$binary is built for '$machine', not for $arch ($(elf_machine_of "$arch"))"
done

# Version: from the binary, checked against the one place it is written in the source.
upstream_version="$("$bin_dir/wharfd" --version | awk '{ print $2 }')"
source_version="$(sed -n 's/^public let wharfVersion = "\(.*\)"$/\1/p' "$repo/Sources/WharfCore/WharfVersion.swift")"
[ -n "$upstream_version" ] || fail "$bin_dir/wharfd --version printed no version"
[ "$upstream_version" = "$source_version" ] ||
    fail "$bin_dir/wharfd is version '$upstream_version' but WharfVersion.swift says '$source_version': rebuild it"
# Debian sorts '~' before anything: 1.0.0-rc1 becomes 1.0.0~rc1, older than 1.0.0.
deb_version="${upstream_version//-/\~}-$revision"

mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
work="$(mktemp -d "$out_dir/.build-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"

# Reproducible: every timestamp is the last commit's (or SOURCE_DATE_EPOCH).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH="$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)"
fi
export SOURCE_DATE_EPOCH

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/wharf" "$root/lib/systemd/system" \
    "$root/usr/lib/wharf/plugins" "$root/usr/share/doc/wharf" "$root/usr/share/man/man5" \
    "$root/usr/share/man/man8" "$root/usr/share/lintian/overrides"

# The one Swift executable, stripped as dh_strip does it, and wharfctl: a relative symbolic
# link to it (Debian policy 10.5), which wharfd recognises by the name it is started under.
install -m 0755 "$bin_dir/wharfd" "$root/usr/bin/wharfd"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/wharfd"
# The Swift runtime must be inside the binary: Depends can only name Debian libraries.
if ldd "$root/usr/bin/wharfd" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found'; then
    fail "wharfd links the libraries above dynamically: build with --static-swift-stdlib"
fi
ln -s wharfd "$root/usr/bin/wharfctl"
[ "$("$root/usr/bin/wharfctl" version)" = "wharfctl $upstream_version" ] ||
    fail "$bin_dir/wharfd does not run wharfctl when started as wharfctl: rebuild it"

# The plugin launcher: wharfd looks for it next to itself, then at /usr/lib/wharf/wharf-launch.
# SwiftPM links the Swift runtime into it too (it is C): statically, like the others.
install -m 0755 "$bin_dir/wharf-launch" "$root/usr/lib/wharf/wharf-launch"
strip --remove-section=.comment --remove-section=.note "$root/usr/lib/wharf/wharf-launch"
if ldd "$root/usr/lib/wharf/wharf-launch" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found'; then
    fail "wharf-launch links the libraries above dynamically: build with --static-swift-stdlib"
fi

# Plugins (docs/plugins.md): the Python SDK where Debian's python3 finds it, and the OPC UA
# plugin in the plugin directory. Its Python dependency is not a Debian package: the plugin's
# wharf-opcua-setup installs it into a venv under /var/lib/wharf (docs/opcua.md, Installing).
install -d -m 0755 "$root/usr/lib/python3/dist-packages" "$root/usr/lib/wharf/plugins/wharf_opcua" \
    "$root/usr/share/doc/wharf/examples"
install -m 0644 "$repo/plugins/sdk/python/wharf_plugin.py" "$root/usr/lib/python3/dist-packages/"
install -m 0755 "$repo/plugins/opcua/wharf-opcua" "$repo/plugins/opcua/wharf-opcua-setup" "$root/usr/lib/wharf/plugins/"
install -m 0644 "$repo"/plugins/opcua/wharf_opcua/*.py "$repo/plugins/opcua/wharf_opcua/requirements.txt" \
    "$root/usr/lib/wharf/plugins/wharf_opcua/"
install -m 0644 "$repo/plugins/examples/counter.c" "$root/usr/share/doc/wharf/examples/"

# Configuration (a conffile; postinst gives it to group wharf), unit, docs, man pages.
install -m 0640 "$repo/etc/wharf/wharf.yaml" "$root/etc/wharf/wharf.yaml"
install -m 0644 "$repo/systemd/wharf.service" "$root/lib/systemd/system/wharf.service"
# The licenses of everything linked into the binaries, and the attribution notices they ask
# to be carried (Apache-2.0 §4(d), OpenSSL, SSLeay): Tests/EndToEnd/test_95_license.py.
install -m 0644 "$here/copyright" "$root/usr/share/doc/wharf/copyright"
install -m 0644 "$repo/NOTICE" "$root/usr/share/doc/wharf/NOTICE"
install -m 0644 "$repo/README.md" "$repo/docs/install.md" "$repo/docs/configuration.md" \
    "$repo/docs/operations.md" "$repo/docs/plugins.md" "$repo/docs/plugin-sdk.md" "$repo/docs/opcua.md" \
    "$repo/docs/remote-config.md" \
    "$root/usr/share/doc/wharf/"
sed -e "s|@VERSION@|$deb_version|" -e "s|@UPSTREAM_VERSION@|$upstream_version|" \
    -e "s|@MAINTAINER@|$maintainer|" -e "s|@DATE@|$(date -u -R -d "@$SOURCE_DATE_EPOCH")|" \
    "$here/changelog.in" | gzip -9n >"$root/usr/share/doc/wharf/changelog.Debian.gz"
for page in wharfd.8 wharfctl.8 wharf.yaml.5; do
    gzip -9n <"$here/man/$page" >"$root/usr/share/man/man${page##*.}/$page.gz"
done
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/wharf"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo "/etc/wharf/wharf.yaml" >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"

# Depends: what the binaries link, as dpkg-shlibdeps finds it from the installed packages'
# shlibs and symbols files. It fails on a library no package provides.
mkdir -p "$work/shlibdeps/debian"
printf 'Source: wharf\n\nPackage: wharf\nArchitecture: any\n' >"$work/shlibdeps/debian/control"
shlibs="$(cd "$work/shlibdeps" && dpkg-shlibdeps -O "-e$root/usr/bin/wharfd" "-e$root/usr/lib/wharf/wharf-launch")" ||
    fail "dpkg-shlibdeps could not compute the dependencies (see above)"
shlibs_depends="${shlibs#shlibs:Depends=}"
[ "$shlibs" != "$shlibs_depends" ] && [[ "$shlibs_depends" == *libc6* ]] ||
    fail "dpkg-shlibdeps printed no usable dependency line: '$shlibs'"
# Packed relative relocations (DT_RELR) need glibc 2.36. The binaries say so with a version
# need, not with a symbol, and dpkg-shlibdeps counts only symbols: raise libc6 to match.
if readelf -V "$root/usr/bin/wharfd" "$root/usr/lib/wharf/wharf-launch" |
    grep GLIBC_ABI_DT_RELR >/dev/null; then
    shlibs_depends="$(sed -E 's/libc6 \(>= 2\.(3[0-5]|[12][0-9])\)/libc6 (>= 2.36)/' <<<"$shlibs_depends")"
fi
# wharfd loads libcoap (libcoap-3-openssl.so.3) when a CoAP adapter starts instead of linking
# it (Sources/CCoAPLoader), so dpkg-shlibdeps does not see it: the version is the one its
# functions are tested with.
case "$shlibs_depends" in
*libcoap3*) fail "wharfd links libcoap again; drop the explicit libcoap3 dependency" ;;
esac
# postinst and postrm use adduser, addgroup, deluser and delgroup; the unit's ExecReload
# runs /bin/kill, which is procps's.
depends="adduser, procps, libcoap3 (>= 4.3.1), $shlibs_depends"

installed_size="$(du -s -k --apparent-size --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s|@VERSION@|$deb_version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|$depends|" \
    "$here/control.in" >"$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +

deb="$out_dir/wharf_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "build-deb: Depends: $depends" >&2
echo "$deb"
