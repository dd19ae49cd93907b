"""Suite 95: the licenses of what the package ships.

Wharf is under the Apache License 2.0 (LICENSE). Its .deb ships wharfd and wharfctl linked
statically with the Swift runtime and with Swift packages; packaging/copyright (installed as
/usr/share/doc/wharf/copyright) must name every one of them with its license, and NOTICE must
carry the NOTICE files of the Apache-licensed ones (Apache-2.0 §4(d)).

What is linked is computed, not listed: the products `make deb` builds, the targets they reach
through Package.swift and the packages' own manifests (wharf_e2e/licenses.py), and the Swift
toolchain libraries the debug build of the same products loads. A package that starts being
linked without a stanza fails here, and so does a stanza for something no longer linked.
No network: the package checkouts are those of the last build.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from wharf_e2e import licenses
from wharf_e2e.licenses import REPO_ROOT, WHARF, Paragraph

# swift package dump-package of every dependency (about 30) on a busy machine.
pytestmark = pytest.mark.timeout(900)

COPYRIGHT = REPO_ROOT / "packaging" / "copyright"
DEBIAN_APACHE = Path("/usr/share/common-licenses/Apache-2.0")


@pytest.fixture(scope="module")
def shipped() -> licenses.Shipped:
    wharfd = os.environ.get("WHARFD")
    return licenses.shipped(debug_bin=Path(wharfd).parent if wharfd else None)


@pytest.fixture(scope="module")
def paragraphs() -> list[Paragraph]:
    return licenses.parse_dep5(COPYRIGHT.read_text(encoding="utf-8"))


def files_paragraphs(paragraphs: list[Paragraph]) -> list[Paragraph]:
    return [p for p in paragraphs if p.get("Files") is not None]


def stanza_for(paragraphs: list[Paragraph], pattern: str) -> Paragraph | None:
    """The Files paragraph that names this pattern (`swift-nio/*`, or `*` for Wharf's own files)."""
    for paragraph in files_paragraphs(paragraphs):
        if pattern in (paragraph.get("Files") or "").split():
            return paragraph
    return None


def pattern_of(key: str) -> str:
    return "*" if key == WHARF else f"{key}/*"


def test_license_is_the_apache_license_2_0() -> None:
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text
    if DEBIAN_APACHE.is_file():
        assert text == DEBIAN_APACHE.read_text(), "LICENSE is not the Apache License 2.0 as Debian ships it"


def test_the_products_shipped_are_found(shipped: licenses.Shipped) -> None:
    # The rest of the suite would pass vacuously on an empty list.
    assert "wharfd" in shipped.products
    assert {"swift-nio", "swift-log"} <= set(shipped.packages), shipped.packages
    assert "swift" in shipped.toolchain, shipped.toolchain


def test_copyright_is_machine_readable(paragraphs: list[Paragraph]) -> None:
    header, *rest = paragraphs
    assert header.get("Format") == "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    assert header.get("Upstream-Name") == "wharf"
    problems = []
    for paragraph in rest:
        if paragraph.get("Files") is not None:
            for field in ("Copyright", "License"):
                if not (paragraph.get(field) or "").strip():
                    problems.append(f"line {paragraph.line}: Files paragraph without {field}")
        elif paragraph.get("License") is None:
            problems.append(f"line {paragraph.line}: neither a Files nor a License paragraph")
        elif paragraph.get("Copyright") is not None:
            problems.append(f"line {paragraph.line}: a stand-alone License paragraph with a Copyright field")
    assert not problems, "\n".join(problems)


def test_every_license_named_has_its_text(paragraphs: list[Paragraph]) -> None:
    standalone: dict[str, str] = {}
    problems = []
    for paragraph in paragraphs[1:]:
        if paragraph.get("Files") is None and paragraph.get("License") is not None:
            value = paragraph.get("License") or ""
            name, _, text = value.partition("\n")
            if name.strip().lower() in standalone:
                problems.append(f"line {paragraph.line}: license {name.strip()!r} has two paragraphs")
            standalone[name.strip().lower()] = text
    used: set[str] = set()
    for paragraph in files_paragraphs(paragraphs):
        value = paragraph.get("License") or ""
        has_own_text = "\n" in value and value.partition("\n")[2].strip()
        for name in licenses.license_names(value):
            used.add(name.lower())
            if not has_own_text and len(standalone.get(name.lower(), "").strip()) < 100:
                problems.append(f"line {paragraph.line}: license {name!r} has no text (no License paragraph of it)")
    for name in sorted(set(standalone) - used):
        problems.append(f"License paragraph {name!r} is used by no Files paragraph")
    # Debian policy 12.5: the Apache License is referred to, not copied (lintian errors otherwise).
    for name, text in standalone.items():
        if name.startswith("apache-2.0") and "/usr/share/common-licenses/Apache-2.0" not in text:
            problems.append(f"License {name!r} does not refer to /usr/share/common-licenses/Apache-2.0")
        if "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text:
            problems.append(f"License {name!r} copies the Apache License text (refer to common-licenses)")
    assert not problems, "\n".join(problems)


def test_every_linked_package_has_a_stanza_with_its_license(
    shipped: licenses.Shipped, paragraphs: list[Paragraph]
) -> None:
    problems = []
    for key in shipped.packages:
        root = shipped.paths[key]
        found = licenses.license_file(root)
        if found is None:
            problems.append(f"{key}: no license file in {root}")
            continue
        expected = licenses.license_of(found.read_text(errors="replace"))
        if expected is None:
            problems.append(f"{key}: {found} is a license this test does not know: teach licenses.license_of")
            continue
        stanza = stanza_for(paragraphs, pattern_of(key))
        if stanza is None:
            problems.append(f"{key} is linked into {', '.join(shipped.products)} but has no 'Files: {pattern_of(key)}'")
            continue
        names = licenses.license_names(stanza.get("License") or "")
        if expected not in names:
            problems.append(f"{key}: its stanza says License: {' and '.join(names)}, its {found.name} is {expected}")
    assert not problems, "\n".join(problems)


def test_code_of_other_projects_inside_linked_targets_has_a_stanza(
    shipped: licenses.Shipped, paragraphs: list[Paragraph]
) -> None:
    # llhttp in swift-nio, BoringSSL in swift-nio-ssl and swift-crypto: their own license
    # files or records of where they were copied from.
    problems = []
    for tree, evidence in sorted(shipped.vendored.items()):
        stanza = stanza_for(paragraphs, f"{tree}/*")
        if stanza is None:
            problems.append(f"{tree} ({evidence.name}) is linked but has no 'Files: {tree}/*'")
            continue
        if evidence.name != "hash.txt":
            expected = licenses.license_of(evidence.read_text(errors="replace"))
            names = licenses.license_names(stanza.get("License") or "")
            if expected is None or expected not in names:
                problems.append(f"{tree}: its stanza says {' and '.join(names)}, {evidence.name} is {expected}")
    assert not problems, "\n".join(problems)


def test_every_toolchain_library_linked_has_a_stanza(shipped: licenses.Shipped, paragraphs: list[Paragraph]) -> None:
    missing = [
        f"{tree} ({', '.join(sorted(libraries))}) is linked but has no 'Files: {tree}/*'"
        for tree, libraries in sorted(shipped.toolchain.items())
        if stanza_for(paragraphs, f"{tree}/*") is None
    ]
    assert not missing, "\n".join(missing)


def test_no_stanza_names_what_is_not_linked(shipped: licenses.Shipped, paragraphs: list[Paragraph]) -> None:
    linked = set(shipped.packages) | set(shipped.toolchain)
    stale = []
    for paragraph in files_paragraphs(paragraphs):
        for pattern in (paragraph.get("Files") or "").split():
            top = pattern.split("/", 1)[0]
            if pattern != "*" and top not in linked:
                stale.append(f"line {paragraph.line}: {pattern} is not linked into {', '.join(shipped.products)}")
    assert not stale, "\n".join(stale)


def test_notice_carries_the_notice_of_every_linked_apache_package(shipped: licenses.Shipped) -> None:
    notice = " ".join((REPO_ROOT / "NOTICE").read_text(encoding="utf-8").split())
    missing = []
    for key in shipped.packages:
        found = licenses.notice_file(shipped.paths[key]) if key != WHARF else None
        if found is not None and " ".join(found.read_text(errors="replace").split()) not in notice:
            missing.append(f"{key}: NOTICE does not carry its {found.name} (Apache-2.0 §4(d))")
    assert not missing, "\n".join(missing)


def test_notice_carries_the_openssl_and_ssleay_acknowledgements(paragraphs: list[Paragraph]) -> None:
    used = {name for p in files_paragraphs(paragraphs) for name in licenses.license_names(p.get("License") or "")}
    notice = " ".join((REPO_ROOT / "NOTICE").read_text(encoding="utf-8").split())
    if "OpenSSL" in used:
        assert re.search(r"This product includes software developed by the OpenSSL Project", notice)
    if "SSLeay" in used:
        assert "This product includes cryptographic software written by Eric Young" in notice
