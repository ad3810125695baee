"""Say whether the browser tests can run here (Debian chromium); never downloads a browser."""
import shutil
import sys


def main() -> int:
    """Print what the browser tests will use."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        print(f"browser tests: using {chromium}")
    else:
        print("browser tests: no Debian 'chromium' found; they will be skipped "
              "(apt-get install chromium to run them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
