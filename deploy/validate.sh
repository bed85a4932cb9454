#!/usr/bin/env bash
# Validates the deployment files offline, as CI does: the Kubernetes manifests
# against the Kubernetes schemas (kubernetes-validate ships them) and the
# compose file against the Compose Specification (check-jsonschema ships it).
# Nothing here needs a cluster or a container engine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${BOARDCAST_VALIDATE_VENV:-$root/target/validate-venv}"

if [[ ! -x $venv/bin/kubernetes-validate || ! -x $venv/bin/check-jsonschema ]]; then
  echo "validate: installing kubernetes-validate and check-jsonschema into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'kubernetes-validate>=1.30' 'check-jsonschema>=0.28'
fi

cd "$root/deploy"
# Every manifest but the kustomization (a kustomize file, not a Kubernetes object).
manifests=()
for file in kubernetes/*.yaml; do
  [[ $(basename "$file") == kustomization.yaml ]] || manifests+=("$file")
done
"$venv/bin/kubernetes-validate" --strict "${manifests[@]}"
# Every file the kustomization names exists.
for listed in $(sed -n 's/^  - \(.*\.yaml\)$/\1/p' kubernetes/kustomization.yaml); do
  [[ -f kubernetes/$listed ]] || { echo "validate: kustomization.yaml lists missing $listed" >&2; exit 1; }
done
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml
echo "validate: deployment files are valid"
