#!/usr/bin/env bash
# Install LibreOffice Calc (headless) and poppler where we can: used for PDF reports and as an
# independent spreadsheet engine in parity tests. Never fails the caller: without LibreOffice the
# report is written without its PDF and the live parity tests skip.
set -u
if command -v soffice >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice not installed and no apt-get here: install LibreOffice Calc for PDF reports." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "LibreOffice not installed and no root: install libreoffice-calc-nogui for PDF reports." >&2
    exit 0
  fi
fi
echo "Installing LibreOffice Calc (headless) and poppler-utils..." >&2
$SUDO apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  libreoffice-calc-nogui poppler-utils >/dev/null 2>&1 \
  || echo "Could not install LibreOffice; continuing without PDF output." >&2
exit 0
