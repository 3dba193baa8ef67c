#!/usr/bin/env bash
# Debian packages the tests use beyond what this kind of machine has: Chromium for the dashboard test,
# Prometheus (with promtool), Alertmanager and the PostgreSQL exporter for the monitoring tests, and a JDK's
# javac for the launcher that binds DynamoDB Local to its host. Java, Maven and PostgreSQL are expected
# already; the stack says in one sentence what to install when one is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || { [[ " ${missing[*]} " == *" prometheus "* ]] || missing+=(prometheus); }
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-postgres-exporter >/dev/null 2>&1 || missing+=(prometheus-postgres-exporter)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "windhash needs these Debian packages for its tests: ${missing[*]} (apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "Installing ${missing[*]} from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
