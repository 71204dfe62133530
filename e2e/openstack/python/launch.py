"""Runs an OpenStack service's console-script entry point from Debian's python3-* packages.

The Debian daemon packages (nova-api, neutron-server, ...) are not installed: they only add init
scripts, debconf flows and these tiny launchers. Usage:

    /usr/bin/python3 launch.py PROGRAM MODULE:FUNCTION [ARGS...]

PROGRAM becomes sys.argv[0] (oslo.config derives the program name from it).
"""
import importlib
import sys


def main() -> int:
    if len(sys.argv) < 3 or ":" not in sys.argv[2]:
        print(__doc__, file=sys.stderr)
        return 2
    program, target = sys.argv[1], sys.argv[2]
    module_name, function_name = target.split(":", 1)
    sys.argv = [program] + sys.argv[3:]
    function = getattr(importlib.import_module(module_name), function_name)
    result = function()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
