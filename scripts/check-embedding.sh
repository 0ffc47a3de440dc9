#!/usr/bin/env bash
# Builds the README's "In a Swift program" example as a package of its own that depends on shimmy by version, the
# way SwiftPM builds a remote dependency (no unsafe flags: SHIMMY_TARGET_CPU=none), and runs it on the default model.
# The dependency is a file:// clone of this repository's HEAD tagged 1.1.0; the manifest lines and the program are
# the README's, only the URL replaced. Exits non-zero when the example does not build or does not finish its answer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/shimmy-embedding-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
git clone -q "$root" "$tmp/shimmy"
git -C "$tmp/shimmy" tag 1.1.0
mkdir -p "$tmp/app/Sources/App"
python3 - "$root/README.md" "$tmp" <<'PY'
import re, sys
readme, tmp = open(sys.argv[1]).read(), sys.argv[2]
section = readme.split("## In a Swift program", 1)[1]
blocks = re.findall(r"```swift\n(.*?)```", section, re.S)
manifest = next(b for b in blocks if ".package(url:" in b)
program = next(b for b in blocks if "import Shimmy" in b)
package_line = next(l.strip() for l in manifest.splitlines() if l.strip().startswith(".package("))
target_line = next(l.strip() for l in manifest.splitlines() if l.strip().startswith(".target("))
package_line = re.sub(r'url: "[^"]*"', f'url: "file://{tmp}/shimmy"', package_line)
target_line = target_line.replace(".target(", ".executableTarget(", 1)
open(f"{tmp}/app/Package.swift", "w").write(f"""// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "App",
    platforms: [.macOS(.v15)],
    dependencies: [
        {package_line}
    ],
    targets: [
        {target_line}
    ]
)
""")
open(f"{tmp}/app/Sources/App/main.swift", "w").write(program)
PY
(cd "$tmp/app" && SHIMMY_TARGET_CPU=none swift build -c release -Xswiftc -target-cpu -Xswiftc native)
output="$(cd "$root" && "$tmp/app/.build/release/App")"
printf '%s\n' "$output"
last="$(printf '%s\n' "$output" | tail -n 1)"
if [[ ! "$last" =~ ^[0-9]+\ tokens,\ (stop|length)$ ]]; then
    echo "check-embedding: the README example did not end with its stats line (got: $last)" >&2
    exit 1
fi
echo "check-embedding: the README example builds by version and runs"
