#!/usr/bin/env bash
# Thin wrapper: see servers.sh
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/servers.sh" stop "$@"
