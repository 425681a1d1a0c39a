#!/usr/bin/env bash
# Idempotent set-up behind `npm test` and `npm run demo`: Debian packages the tests and the
# demo use, a running Docker engine, npm dependencies, and the compiled CLI.
# Each step is skipped when already done, so repeated runs cost a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: the Docker engine, shellcheck (entry.sh checks), and what the test
# stand-ins are made from (busybox-static for a shell, golang-go for a Go builder),
# docker-registry and awscli for the push/deploy tests.
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v curl >/dev/null 2>&1 || need+=(curl) # the HTTP-front tests call start as users do
# push/deploy tests: a real registry (distribution 2.8) and the AWS CLI that checks our fake control planes.
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v aws >/dev/null 2>&1 || need+=(awscli)
# ip(8): the engine-fault tests give their throw-away second dockerd a bridge of its own.
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# 7-Zip: the layer unpacker is tested against zips it makes (test/unzip-tools.test.ts).
command -v 7zz >/dev/null 2>&1 || command -v 7z >/dev/null 2>&1 || need+=(7zip)
# The shells whose completion scripts the tests load (test/conveniences.test.ts).
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
# Podman: the `podman` test project runs the CLI against its Docker-compatible service.
command -v podman >/dev/null 2>&1 || need+=(podman)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    log "missing ${need[*]}: install them (Debian: apt-get install ${need[*]}); Docker tests will be skipped"
  fi
fi

# A Docker engine: use the one DOCKER_HOST names or the default socket; start dockerd if we can.
if [ -z "${DOCKER_HOST:-}" ] && ! docker info >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/tmp/lambda-image-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then break; fi
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/lambda-image-dockerd.log"; tail -20 /tmp/lambda-image-dockerd.log >&2; exit 1; }
fi

# A rootful Podman service on its own socket for the `podman` test project (never the Docker
# engine's). Without CAP_SYS_RESOURCE Podman cannot raise its default open-file/process
# limits and no container starts: its containers.conf sets limits it may keep.
podman_dir=/tmp/lambda-image-podman
if [ "$(id -u)" = 0 ] && command -v podman >/dev/null 2>&1 && ! podman --url "unix://$podman_dir/podman.sock" version >/dev/null 2>&1; then
  log "starting the Podman service on $podman_dir/podman.sock"
  mkdir -p "$podman_dir"
  printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\n' >"$podman_dir/containers.conf"
  CONTAINERS_CONF="$podman_dir/containers.conf" nohup podman system service --time=0 "unix://$podman_dir/podman.sock" >"$podman_dir/service.log" 2>&1 &
  for _ in $(seq 1 30); do
    podman --url "unix://$podman_dir/podman.sock" version >/dev/null 2>&1 && break
    sleep 1
  done
  podman --url "unix://$podman_dir/podman.sock" version >/dev/null 2>&1 || log "the Podman service did not start; see $podman_dir/service.log (Podman tests will be skipped)"
fi

# npm dependencies, when missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

log "building the CLI"
npx tsc -p tsconfig.json
