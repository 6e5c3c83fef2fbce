"""A throwaway PostgreSQL server for tests and benchmarks.

Debian's PostgreSQL 15 binaries, a cluster created in a temp directory,
listening on 127.0.0.1 on a free port (no Unix socket outside the temp dir).
When running as root the server runs as the `postgres` user (PostgreSQL
refuses root). The superuser is `postgres` with a password; stop() ends the
server and removes the directory.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def available():
    return all(os.path.exists(os.path.join(PG_BIN, b)) for b in ("initdb", "pg_ctl", "psql"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, admin_password="admin-initial-pw"):
        self.admin_user = "postgres"
        self.admin_password = admin_password
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="coffer-pg-")
        self.data = os.path.join(self.dir, "data")
        self._as = []
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, args, **kw):
        return subprocess.run(self._as + args, check=True, capture_output=True, text=True, **kw)

    def start(self):
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.admin_password)
        if self._as:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", self.admin_user,
                   "--pwfile=" + pwfile, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"])
        os.remove(pwfile)
        opts = ("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                "-c fsync=off -c max_connections=200" % (self.port, self.dir))
        self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-o", opts, "-w", "-t", "60",
                   "-l", os.path.join(self.dir, "log"), "start"])
        return self

    def stop(self):
        try:
            self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                       "stop"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self):
        return "postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable" % (
            self.port)

    def psql(self, user, password, sql, timeout=20):
        """Runs sql as user; (returncode, stdout, stderr)."""
        env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
        p = subprocess.run([os.path.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", user, "-d", "postgres", "-w", "-X", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, env=env, timeout=timeout)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    def admin(self, sql):
        rc, out, err = self.psql(self.admin_user, self.admin_password, sql)
        if rc != 0:
            raise RuntimeError("psql failed: " + err)
        return out

    def role_exists(self, name):
        return self.admin("SELECT count(*) FROM pg_roles WHERE rolname = '%s'"
                          % name.replace("'", "''")) == "1"

    def open_session(self, user, password):
        """A psql process holding a session open (reads SQL on stdin)."""
        env = dict(os.environ, PGPASSWORD=password)
        return subprocess.Popen([os.path.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p",
                                 str(self.port), "-U", user, "-d", "postgres", "-w", "-X", "-q", "-A",
                                 "-t"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)


def poll(predicate, timeout=30.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
