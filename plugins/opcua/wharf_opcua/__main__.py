"""`python3 -m wharf_opcua`: run the plugin, or one of its tools (the wharf-opcua launcher does this)."""

import importlib.util
import os
import sys


def load_sdk() -> None:
    """Make `import wharf_plugin` work.

    The .deb installs the SDK where Debian's python3 finds it (/usr/lib/python3/dist-packages), but
    the plugin usually runs on the venv that wharf-opcua-setup makes, which does not look there.
    Putting all of dist-packages on the path would let Debian's older packages shadow the venv's,
    so only this one file is loaded from it.
    """
    if importlib.util.find_spec("wharf_plugin") is not None:
        return
    path = os.environ.get("WHARF_PLUGIN_SDK", "/usr/lib/python3/dist-packages/wharf_plugin.py")
    spec = importlib.util.spec_from_file_location("wharf_plugin", path)
    if not os.path.isfile(path) or spec is None or spec.loader is None:
        sys.exit(f"wharf-opcua: the Wharf plugin SDK is missing: no {path} (reinstall the wharf package)")
    module = importlib.util.module_from_spec(spec)
    sys.modules["wharf_plugin"] = module
    spec.loader.exec_module(module)


load_sdk()
from .main import main  # noqa: E402 - the SDK must be importable first

main()
