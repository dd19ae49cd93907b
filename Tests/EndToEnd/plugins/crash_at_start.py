#!/usr/bin/env python3
"""Crashes at start: exits with status 3 before reading `init`. The host counts a failed start."""

import sys

sys.stderr.write("crash_at_start: giving up before the handshake\n")
sys.exit(3)
