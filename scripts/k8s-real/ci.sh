#!/usr/bin/env bash
# CI entry for the suite that runs against a real Kubernetes 1.20 control plane (.ci/run calls it).
# Builds the control plane first as its own step (5–10 min on a fresh machine, instant with a warm
# $K8S_HOME cache) so a build failure is reported as such, then runs `npm run test:real-k8s`, which
# starts the control plane, runs test-real/ and stops everything. Exit code: the suite's (non-zero when
# the build fails). Arguments are passed to vitest.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
if ! bin_dir=$(bash scripts/k8s-real/build.sh); then
  echo "k8s-real/ci: the real control plane could not be built (reason above); failing" >&2
  exit 2
fi
echo "k8s-real/ci: control plane binaries in $bin_dir ($((SECONDS - started)) s)" >&2
exec npm run --silent test:real-k8s -- "$@"
