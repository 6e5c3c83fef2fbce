#!/usr/bin/env python3
"""database/creds/:role per second against a local PostgreSQL 15, with
PostgreSQL's own CREATE ROLE rate (the same statements, same concurrency,
through psql) measured in the same run as the reference.

Usage: bench/db_creds.py --coffer BUILD/coffer [--duration S] [--clients N]
The role grants pg_read_all_data (a membership row): GRANT SELECT ON ALL
TABLES from concurrent sessions fails with "tuple concurrently updated" in
PostgreSQL itself, which would measure retries, not CREATE ROLE.
Prints "coffer_rate R", "pg_rate R", "errors N" lines (bench/run parses them).
Starts and stops its own PostgreSQL (temp dir, 127.0.0.1, free port) and a
coffer -dev server.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness  # noqa: E402
import pg_helper  # noqa: E402

CREATION = ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
            "VALID UNTIL '{{expiration}}';",
            "GRANT pg_read_all_data TO \"{{name}}\";"]


def coffer_rate(server, token, duration, clients):
    host, port = server.addr.replace("http://", "").split(":")
    count = [0] * clients
    errors = [0] * clients
    first_error = []
    stop = time.monotonic() + duration

    def worker(i):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", "/v1/database/creds/bench", headers={"X-Vault-Token": token})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200:
                count[i] += 1
            else:
                errors[i] += 1
                if not first_error:
                    first_error.append("%d %s" % (resp.status, body[:300]))
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if first_error:
        print("first error: " + first_error[0], file=sys.stderr)
    return sum(count) / (time.monotonic() - t0), sum(errors)


def pg_rate(pg, duration, clients):
    """The same two statements in one transaction per role, `clients` psql
    sessions fed as fast as they take them."""
    count = [0] * clients
    stop = time.monotonic() + duration

    def worker(i):
        p = pg.open_session(pg.admin_user, pg.admin_password)
        n = 0
        batch = 50
        while time.monotonic() < stop:
            sql = []
            for _ in range(batch):
                name = "ref_%d_%d" % (i, n)
                n += 1
                sql.append("BEGIN; CREATE ROLE \"%s\" WITH LOGIN PASSWORD 'Abcdefgh-1234567890xy' "
                           "VALID UNTIL '2099-01-01 00:00:00+0000'; GRANT pg_read_all_data "
                           "TO \"%s\"; COMMIT;" % (name, name))
            sql.append("SELECT 'batch-done';")
            p.stdin.write("\n".join(sql) + "\n")
            p.stdin.flush()
            while p.stdout.readline().strip() != "batch-done":
                pass
            count[i] += batch
        p.stdin.close()
        p.wait()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coffer", required=True)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    if not pg_helper.available():
        print("skip: PostgreSQL 15 binaries not found", file=sys.stderr)
        return 2
    harness.COFFER_BIN = args.coffer
    pg = pg_helper.Postgres().start()
    server = None
    try:
        pg.admin("CREATE TABLE t (id int)")
        server = harness.start_dev()
        token = server.root_token

        def call(method, path, body):
            st, out, _ = server.request(method, path, body, token=token)
            if st >= 300:
                raise RuntimeError("%s %s: %s %s" % (method, path, st, out))

        call("POST", "/v1/sys/mounts/database", {"type": "database"})
        call("POST", "/v1/database/config/pg", {
            "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(),
            "username": pg.admin_user, "password": pg.admin_password, "allowed_roles": "*",
            "max_open_connections": args.clients})
        call("POST", "/v1/database/roles/bench", {
            "db_name": "pg", "creation_statements": CREATION, "default_ttl": "1h"})
        # Warm-up (connections in the pool).
        coffer_rate(server, token, 1, args.clients)
        c, errors = coffer_rate(server, token, args.duration, args.clients)
        r = pg_rate(pg, args.duration, args.clients)
        print("coffer_rate %.1f" % c)
        print("pg_rate %.1f" % r)
        print("errors %d" % errors)
        print("clients %d" % args.clients)
    finally:
        if server:
            server.cleanup()
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
