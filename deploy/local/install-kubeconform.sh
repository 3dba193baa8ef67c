#!/usr/bin/env bash
# kubeconform (a Kubernetes manifest validator) for tests/integration/test_deploy_manifests.py, built from the
# Go module proxy into .windhash/tools where missing. The Kubernetes JSON schemas it validates against come
# from the kubernetes-validate package on PyPI (a dev dependency), so the check needs no other network.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=v0.7.0
tools="$PWD/.windhash/tools"
# `go install` builds report "development" as their version: a stamp beside the binary says which it is.
if [ -x "$tools/kubeconform" ] && [ "$(cat "$tools/kubeconform.version" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "windhash needs Go to build kubeconform for its tests (apt-get install golang)." >&2
  exit 1
fi
mkdir -p "$tools"
GOBIN="$tools" go install "github.com/yannh/kubeconform/cmd/kubeconform@$version"
echo "$version" > "$tools/kubeconform.version"
