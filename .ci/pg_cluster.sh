# Sourced: a throwaway PostgreSQL cluster from Debian's binaries (/usr/lib/postgresql/<newest>/bin) on a loopback
# port, trust auth, byte order (C) collation, and user kassa as a provider runs Kassa: no superuser (a superuser
# bypasses the row-level security that keeps tenants apart), allowed to create the tests' databases. PostgreSQL refuses to run as root: as root its
# commands run as the postgres user, which owns the folder.
#
# pg_cluster_start DIR [SERVER OPTIONS]: initdb into DIR/data and start; sets pg_bin and pg_port.
# pg_cluster_stop DIR: stops it (immediately).
pg_cluster_start() {
    local dir=$1
    shift
    pg_bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -1)
    [ -n "$pg_bin" ] || { echo "no /usr/lib/postgresql/*/bin: install Debian's postgresql" >&2; return 1; }
    pg_as=()
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
        pg_as=(runuser -u postgres --)
    fi
    pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${pg_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $dir $*" start >/dev/null
    "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE ROLE kassa LOGIN CREATEDB"
}

pg_cluster_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1 || true
}
