#!/usr/bin/env bash
# What `make test` needs besides Python, installed from Debian when missing (as root, or with
# sudo): a Java 17 JDK and Maven (the Kafka jars; the HAPI FHIR validator is compiled),
# Chromium (the browser tests), Node.js and npm (the AsyncAPI parser). Nothing else is touched.
set -euo pipefail

need=()
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
((${#need[@]})) || exit 0

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "missing: ${need[*]}; install them (Debian: apt-get install ${need[*]}) and run again" >&2
  exit 1
fi
echo "installing ${need[*]} (apt-get)" >&2
"${as_root[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${need[@]}"
