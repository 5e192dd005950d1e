#!/usr/bin/env bash
# PostgreSQL for the storage tests: installs the server when missing, starts a
# cluster, and makes sure role `acdd` (password `acdd`, may create databases)
# and database `acdd` exist. Each test creates and drops its own database.
# Idempotent; runs as root (CI) or with sudo.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "installing: postgresql"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  $SUDO pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  $SUDO pg_ctlcluster "$version" main start
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"

as_postgres() { $SUDO runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'acdd'")" != "1" ]; then
  as_postgres -c "CREATE ROLE acdd LOGIN PASSWORD 'acdd' CREATEDB"
fi
if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = 'acdd'")" != "1" ]; then
  as_postgres -c "CREATE DATABASE acdd OWNER acdd"
fi
echo "postgres: cluster $version/main on port $port, role and database acdd ready"
