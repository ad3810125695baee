"""Say whether the browser tests can run here (Debian chromium); never downloads a browser."""
import importlib.util
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


def main() -> int:
    """Print what the browser tests (tests/browser/, marked `browser`) will use."""
    if importlib.util.find_spec("playwright") is None:
        print("browser tests: the playwright package is missing (make install-dev); they will fail to import")
    elif CHROMIUM.exists():
        print(f"browser tests: using {CHROMIUM} through playwright (headless)")
    else:
        print(f"browser tests: {CHROMIUM} not found; they will be SKIPPED "
              "(apt-get install chromium to run them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
