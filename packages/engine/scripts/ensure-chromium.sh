#!/bin/sh
# Makes sure Debian's chromium is at /usr/bin/chromium for the dashboard's
# end-to-end tests (test/e2e/), which drive it with playwright-core and
# never let playwright download a browser of its own. Installs it with apt
# when missing; does nothing when it is there.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available; install chromium with your package manager." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-chromium: $CHROMIUM is missing; run 'apt-get install -y chromium' as root." >&2
    exit 1
  fi
fi

echo "ensure-chromium: installing chromium with apt-get…"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: refresh them once, only if the first try fails.
if ! $SUDO apt-get install -y chromium; then
  $SUDO apt-get update
  $SUDO apt-get install -y chromium
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing." >&2
  exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) is ready."
