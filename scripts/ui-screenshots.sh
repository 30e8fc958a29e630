#!/usr/bin/env bash
# Regenerates the screenshots of the web interface in docs/images by running the browser tests with
# DTR_UI_SCREENSHOTS set. The walkthrough test saves one 1280x800 PNG per main page there, under stable names.
#
# Needs Debian's Chromium at /usr/bin/chromium and skopeo, which scripts/test.sh installs when run as root.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DTR_UI_SCREENSHOTS="$repo_root/docs/images"

mkdir -p "$DTR_UI_SCREENSHOTS"
dotnet test tests/Dtr.Ui.Tests -c Release --filter "FullyQualifiedName~WalkthroughTests" </dev/null
echo "Screenshots written to $DTR_UI_SCREENSHOTS:"
ls -1 "$DTR_UI_SCREENSHOTS"
