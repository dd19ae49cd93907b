"""What the shipped binaries are made of, and what packaging/copyright and NOTICE say about it.

The Swift packages linked into the .deb's binaries come from the manifest, not from a list kept
by hand: the products `make deb` builds (its `--product` arguments), then every target those
products reach through the targets' dependencies in each package's own manifest (`swift package
dump-package`), with the conditions SwiftPM applies on Linux (platforms, enabled traits), down
to the packages `swift package show-dependencies` resolved. Test, plugin and macro targets are
never linked; system library targets are linked dynamically from Debian packages and have their
own copyright files.

The Swift toolchain's libraries (runtime, Dispatch, Foundation, ICU) do not appear in any
manifest: which of them the binaries link is read from the debug build of the same products,
which links them dynamically (`ldd`), where the package links them statically.

Everything here works offline once the packages are resolved (after any build).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SWIFT = os.environ.get("SWIFT", "swift")

# The key of Wharf's own files in packaging/copyright (`Files: *`).
WHARF = "wharf"

# Target kinds whose code never reaches a linked binary.
_NOT_LINKED = {"test", "plugin", "macro"}
# Where SwiftPM looks for a target without an explicit path.
_DEFAULT_TARGET_DIRS = ("Sources", "Source", "src", "srcs")

# The toolchain's libraries, by the source tree they are built from (their key in the
# copyright file). A library not listed here fails the check until it is added here and there.
TOOLCHAIN_LIBRARIES = {
    "swift": {
        "libswiftCore",
        "libswift_Concurrency",
        "libswift_StringProcessing",
        "libswift_RegexParser",
        "libswiftRegexBuilder",
        "libswiftSynchronization",
        "libswiftGlibc",
        "libswift_Builtin_float",
        "libswift_Differentiation",
        "libswiftDistributed",
        "libswiftObservation",
        "libswift_Volatile",
        "libswiftRuntime",
        "libswiftSwiftOnoneSupport",
        "libswiftCxx",
        "libswiftCxxStdlib",
    },
    "swift-corelibs-libdispatch": {"libdispatch", "libswiftDispatch", "libBlocksRuntime"},
    "swift-corelibs-foundation": {"libFoundation", "libFoundationNetworking", "libFoundationXML"},
    "swift-foundation": {
        "libFoundationEssentials",
        "libFoundationInternationalization",
        "lib_FoundationCShims",
        "lib_FoundationCollections",
    },
    "swift-foundation-icu": {"lib_FoundationICU"},
}


@dataclass
class Package:
    """One package of the resolved graph."""

    identity: str
    path: Path
    traits: set[str] = field(default_factory=set)
    dependencies: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The package's name in packaging/copyright: its checkout directory (`swift-nio/*`)."""
        return self.path.name


@dataclass
class Shipped:
    """What the shipped products link, by copyright key."""

    products: list[str]
    # Package key -> the names of its targets that are linked.
    targets: dict[str, set[str]]
    # Package key -> its checkout (or the repository for Wharf itself).
    paths: dict[str, Path]
    # Source trees of other projects inside a linked target (a LICENSE file or a vendoring
    # record of their own), as `package/relative/dir`.
    vendored: dict[str, Path]
    # Toolchain keys (TOOLCHAIN_LIBRARIES) -> the libraries the products link from it.
    toolchain: dict[str, set[str]]

    @property
    def packages(self) -> list[str]:
        """Every linked package's key, Wharf's own first."""
        return [WHARF] + sorted((key for key in self.targets if key != WHARF), key=str.lower)


def shipped_products(repo: Path = REPO_ROOT) -> list[str]:
    """The SwiftPM products `make deb` builds into the package, from the Makefile's deb recipe."""
    recipe: list[str] = []
    in_deb = False
    for line in (repo / "Makefile").read_text().splitlines():
        if re.match(r"^deb\s*:", line):
            in_deb = True
            continue
        if in_deb:
            if line.startswith("\t") or line.strip() == "" or line.startswith(" "):
                recipe.append(line)
            else:
                break
    products = []
    for match in re.finditer(r"--product[ =](\S+)", "\n".join(recipe)):
        if match.group(1) not in products:
            products.append(match.group(1))
    return products


def _swift_json(args: list[str], cwd: Path) -> dict:
    result = subprocess.run(
        [SWIFT, "package", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"swift package {' '.join(args)} in {cwd} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def _resolved_packages(repo: Path) -> tuple[dict[str, Package], set[str]]:
    """Every package of the resolved graph, and the identities the root package depends on."""
    tree = _swift_json(["show-dependencies", "--format", "json"], repo)
    packages: dict[str, Package] = {}

    def walk(node: dict) -> None:
        for child in node.get("dependencies", []):
            package = packages.setdefault(child["identity"], Package(child["identity"], Path(child["path"])))
            package.traits.update(child.get("traits", []))
            package.dependencies.update(grandchild["identity"] for grandchild in child.get("dependencies", []))
            walk(child)

    walk(tree)
    return packages, {child["identity"] for child in tree.get("dependencies", [])}


def _manifest(path: Path, scratch: Path) -> dict:
    # A scratch path of its own: dump-package then writes nothing into the checkout.
    return _swift_json(["--package-path", str(path), "--scratch-path", str(scratch), "dump-package"], path)


def _enabled_traits(manifest: dict, requested: set[str]) -> set[str]:
    declared = {trait["name"]: set(trait.get("enabledTraits", [])) for trait in manifest.get("traits") or []}
    enabled: set[str] = set()
    pending = list(requested)
    while pending:
        trait = pending.pop()
        if trait in enabled:
            continue
        enabled.add(trait)
        pending.extend(declared.get(trait, ()))
    return enabled


def _applies(condition: dict | None, traits: set[str]) -> bool:
    """Whether a dependency with this condition is linked on Linux (in either configuration)."""
    if not condition:
        return True
    platforms = condition.get("platformNames") or []
    if platforms and "linux" not in platforms:
        return False
    needed = condition.get("traits") or []
    return not needed or any(trait in traits for trait in needed)


def _target_dir(root: Path, target: dict) -> Path:
    if target.get("path"):
        return root / target["path"]
    for folder in _DEFAULT_TARGET_DIRS:
        candidate = root / folder / target["name"]
        if candidate.is_dir():
            return candidate
    return root / "Sources" / target["name"]


def _vendored_trees(key: str, package_root: Path, target_dir: Path) -> dict[str, Path]:
    """Directories inside a linked target that hold another project's code: a license file of
    their own, or a record of where they were copied from (BoringSSL's hash.txt)."""
    found: dict[str, Path] = {}
    if not target_dir.is_dir():
        return found
    for path in sorted(target_dir.rglob("*")):
        if not path.is_file():
            continue
        name = path.name.upper()
        vendored = name.startswith(("LICENSE", "LICENCE", "COPYING"))
        if path.name == "hash.txt":
            vendored = "derived from" in path.read_text(errors="replace")
        if vendored:
            relative = path.parent.relative_to(package_root).as_posix()
            found[f"{key}/{relative}"] = path
    return found


def toolchain_libraries(binaries: list[Path]) -> dict[str, set[str]]:
    """The toolchain's libraries these (dynamically linked, debug) binaries load, by source tree."""
    libraries: set[str] = set()
    for binary in binaries:
        result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
        for line in result.stdout.splitlines():
            match = re.match(r"\s*(\S+?)\.so\S*\s+=>\s+(\S+)", line)
            if match and "/lib/swift/" in match.group(2):
                libraries.add(match.group(1))
    by_tree: dict[str, set[str]] = {}
    for library in sorted(libraries):
        tree = next((key for key, names in TOOLCHAIN_LIBRARIES.items() if library in names), None)
        if tree is None:
            raise LookupError(
                f"{library} comes from the Swift toolchain but is not in TOOLCHAIN_LIBRARIES "
                "(Tests/EndToEnd/wharf_e2e/licenses.py): name its source tree there and give that "
                "tree a stanza in packaging/copyright"
            )
        by_tree.setdefault(tree, set()).add(library)
    return by_tree


def shipped(repo: Path = REPO_ROOT, debug_bin: Path | None = None) -> Shipped:
    """What the .deb's binaries link: packages and their targets, vendored trees, toolchain libraries."""
    products = shipped_products(repo)
    if not products:
        raise LookupError("the Makefile's deb recipe builds no --product: cannot tell what is shipped")
    packages, root_dependencies = _resolved_packages(repo)
    roots = {WHARF: repo, **{identity: package.path for identity, package in packages.items()}}
    with tempfile.TemporaryDirectory(prefix="wharf-licenses-") as scratch, ThreadPoolExecutor(4) as pool:
        loading = {identity: pool.submit(_manifest, root, Path(scratch) / identity) for identity, root in roots.items()}
        manifests = {identity: future.result() for identity, future in loading.items()}

    traits = {WHARF: _enabled_traits(manifests[WHARF], {"default"})}
    for identity, package in packages.items():
        traits[identity] = _enabled_traits(manifests[identity], package.traits)
    keys = {WHARF: WHARF, **{identity: package.key for identity, package in packages.items()}}
    declared_dependencies = {WHARF: root_dependencies} | {i: p.dependencies for i, p in packages.items()}

    def package_named(name: str, within: str) -> str:
        lowered = name.lower()
        for identity in declared_dependencies[within]:
            if lowered in (identity.lower(), manifests[identity]["name"].lower(), keys[identity].lower()):
                return identity
        raise LookupError(f"{within} depends on package {name!r}, which show-dependencies did not resolve")

    def product_targets(identity: str, name: str) -> list[str]:
        for product in manifests[identity]["products"]:
            if product["name"] == name:
                return list(product["targets"])
        raise LookupError(f"package {identity} has no product {name!r}")

    targets_of = {identity: {t["name"]: t for t in manifest["targets"]} for identity, manifest in manifests.items()}
    linked: dict[str, set[str]] = {}
    pending: list[tuple[str, str]] = []
    for product in products:
        pending.extend((WHARF, target) for target in product_targets(WHARF, product))
    while pending:
        identity, name = pending.pop()
        if name in linked.get(identity, set()):
            continue
        target = targets_of[identity][name]
        if target["type"] in _NOT_LINKED:
            continue
        linked.setdefault(identity, set()).add(name)
        for dependency in target.get("dependencies", []):
            kind, value = next(iter(dependency.items()))
            if kind in ("byName", "target"):
                dependency_name, condition = value[0], value[-1]
                if not _applies(condition, traits[identity]):
                    continue
                if dependency_name in targets_of[identity]:
                    pending.append((identity, dependency_name))
                    continue
                # A product named without its package: the dependency package that has it.
                owner = next(
                    (
                        other
                        for other in declared_dependencies[identity]
                        if any(p["name"] == dependency_name for p in manifests[other]["products"])
                    ),
                    None,
                )
                if owner is None:
                    raise LookupError(f"{identity}: target {name} depends on unknown {dependency_name!r}")
                pending.extend((owner, t) for t in product_targets(owner, dependency_name))
            elif kind == "product":
                product_name, package_name, condition = value[0], value[1], value[-1]
                if not _applies(condition, traits[identity]):
                    continue
                owner = package_named(package_name, identity) if package_name else identity
                pending.extend((owner, t) for t in product_targets(owner, product_name))
            else:
                raise LookupError(f"{identity}: target {name} has a dependency of unknown kind {kind!r}")

    targets: dict[str, set[str]] = {}
    paths: dict[str, Path] = {}
    vendored: dict[str, Path] = {}
    for identity, names in linked.items():
        statically = {n for n in names if targets_of[identity][n]["type"] != "system"}
        if not statically:
            continue  # only Debian libraries, linked dynamically
        key = keys[identity]
        targets[key] = statically
        paths[key] = roots[identity]
        if identity != WHARF:
            for name in sorted(statically):
                target_dir = _target_dir(roots[identity], targets_of[identity][name])
                vendored.update(_vendored_trees(key, roots[identity], target_dir))
    targets.setdefault(WHARF, set())
    paths.setdefault(WHARF, repo)

    bin_dir = debug_bin or repo / ".build" / "debug"
    binaries = [bin_dir / product for product in products]
    missing = [str(b) for b in binaries if not b.is_file()]
    if missing:
        raise FileNotFoundError(f"debug builds of the shipped products are missing ({', '.join(missing)}): swift build")
    return Shipped(products, targets, paths, vendored, toolchain_libraries(binaries))


# --- licenses -----------------------------------------------------------------------------


def license_of(text: str) -> str | None:
    """The DEP-5 short name of a package's license file, or None if it is not one Wharf knows."""
    flat = " ".join(text.split())
    if "Apache License" in flat and "Version 2.0" in flat and "TERMS AND CONDITIONS" in flat:
        if "Runtime Library Exception" in flat:
            return "Apache-2.0 with Swift exception"
        return "Apache-2.0"
    if "Permission is hereby granted, free of charge" in flat and "WITHOUT WARRANTY OF ANY KIND" in flat:
        return "Expat"
    return None


def license_file(root: Path) -> Path | None:
    """A package's (or a vendored tree's) license file."""
    candidates = sorted(
        p for p in root.iterdir() if p.is_file() and p.name.upper().startswith(("LICENSE", "LICENCE", "COPYING"))
    )
    return candidates[0] if candidates else None


def notice_file(root: Path) -> Path | None:
    """A package's Apache NOTICE file (§4(d)), if it has one."""
    for name in ("NOTICE", "NOTICE.txt", "NOTICE.md"):
        if (root / name).is_file():
            return root / name
    return None


# --- packaging/copyright (DEP-5) ------------------------------------------------------------


@dataclass
class Paragraph:
    """One paragraph of a DEP-5 file: field names (as written) to values (continuation lines kept)."""

    fields: dict[str, str]
    line: int

    def get(self, name: str) -> str | None:
        for key, value in self.fields.items():
            if key.lower() == name.lower():
                return value
        return None


def parse_dep5(text: str) -> list[Paragraph]:
    """Splits a deb822 file into paragraphs; raises ValueError on a line that is no field."""
    paragraphs: list[Paragraph] = []
    current: dict[str, str] = {}
    start = 0
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if current:
                paragraphs.append(Paragraph(current, start))
            current, last = {}, None
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t":
            if last is None:
                raise ValueError(f"line {number}: continuation line outside a field")
            current[last] += "\n" + line[1:]
            continue
        match = re.match(r"^([^\s:][^:]*):(.*)$", line)
        if not match:
            raise ValueError(f"line {number}: not a field: {line!r}")
        if not current:
            start = number
        last = match.group(1)
        if last in current:
            raise ValueError(f"line {number}: field {last} repeated in one paragraph")
        current[last] = match.group(2).strip()
    if current:
        paragraphs.append(Paragraph(current, start))
    return paragraphs


def license_names(value: str) -> list[str]:
    """The short names of a License field's first line (`A and B`, `A or B`)."""
    first = value.split("\n", 1)[0].strip()
    return [name.strip() for name in re.split(r"\s+(?:and|or)\s+", first) if name.strip()]
