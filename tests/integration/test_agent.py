"""coffer agent against a real server: AppRole auto-auth writing a 0600 sink
(and a response-wrapped sink), renewal across several TTLs with a re-login
after the max TTL, a template re-rendered after KV writes with its mode and a
command run exactly once per change, recovery after a server restart, and exec
mode with env_template and restart on change; change events re-rendering a
template within 1 s despite a 5 minute interval, and polling when the token
may not subscribe; auto_auth method "cert" over mTLS (token sink, re-login,
an untrusted certificate refused clearly). The agent's log is checked for
tokens and secret values (never present)."""

import json
import os
import sys
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness

ROOT = "agent-test-root"


def wait_for(pred, timeout=30, what="condition", step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class Agent:
    def __init__(self, workdir, config_text, log_level="debug"):
        self.dir = workdir
        self.config = os.path.join(workdir, "agent.hcl")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log_path = os.path.join(workdir, "agent.log")
        env = {k: v for k, v in os.environ.items()
               if k not in ("COFFER_ADDR", "VAULT_ADDR", "COFFER_TOKEN", "VAULT_TOKEN")}
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [harness.COFFER_BIN, "agent", "-config=" + self.config, "-log-level=" + log_level],
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env, cwd=workdir)

    def log(self):
        return read(self.log_path) or ""

    def count(self, text):
        return self.log().count(text)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


class AgentTestBase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-agent-")
        self.agents = []
        self.canaries = []

    def tearDown(self):
        for a in self.agents:
            a.stop()
            log = a.log()
            for c in self.canaries:
                self.assertNotIn(c, log, "a token or secret value reached the agent log")
        shutil.rmtree(self.dir, ignore_errors=True)

    def req(self, server, method, path, body=None, token=ROOT, status=None, headers=None):
        st, data, _ = server.request(method, "/v1/" + path, body, token=token, headers=headers)
        if status is not None:
            self.assertIn(st, status if isinstance(status, tuple) else (status,),
                          (method, path, data))
        return st, data

    def setup_server(self, server, token=ROOT, role_fields=None):
        """approle at auth/approle, policy app-read, role app; returns the
        paths of the role-id and secret-id files."""
        self.req(server, "POST", "sys/auth/approle", {"type": "approle"}, token=token,
                 status=(200, 204))
        self.req(server, "PUT", "sys/policies/acl/app-read",
                 {"policy": 'path "secret/data/app*" { capabilities = ["read"] }'},
                 token=token, status=(200, 204))
        fields = {"token_policies": "app-read"}
        fields.update(role_fields or {})
        self.req(server, "POST", "auth/approle/role/app", fields, token=token, status=(200, 204))
        _, rid = self.req(server, "GET", "auth/approle/role/app/role-id", token=token, status=200)
        _, sid = self.req(server, "POST", "auth/approle/role/app/secret-id", {}, token=token,
                          status=200)
        role_file = os.path.join(self.dir, "role_id")
        secret_file = os.path.join(self.dir, "secret_id")
        with open(role_file, "w") as f:
            f.write(rid["data"]["role_id"] + "\n")
        with open(secret_file, "w") as f:
            f.write(sid["data"]["secret_id"] + "\n")
        self.canaries.append(sid["data"]["secret_id"])
        self.canaries.append(token)
        return role_file, secret_file

    def auto_auth(self, role_file, secret_file, sinks=""):
        return """
auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "%s"
      secret_id_file_path = "%s"
    }
  }
%s
}
""" % (role_file, secret_file, sinks)

    def start_agent(self, config):
        a = Agent(self.dir, config)
        self.agents.append(a)
        return a

    def put_secret(self, server, path, data, token=ROOT):
        self.req(server, "POST", "secret/data/" + path, {"data": data}, token=token, status=200)
        for v in data.values():
            self.canaries.append(v)


class AgentDevServerTest(AgentTestBase):
    def setUp(self):
        super().setUp()
        self.server = harness.start_dev(root_token=ROOT)

    def tearDown(self):
        super().tearDown()
        self.server.cleanup()

    def test_approle_auto_auth_writes_0600_sink_and_wrapped_sink(self):
        role_file, secret_file = self.setup_server(self.server)
        sink = os.path.join(self.dir, "token")
        wrapped = os.path.join(self.dir, "wrapped")
        agent = self.start_agent("""
vault { address = "%s" }
pid_file = "%s/agent.pid"
%s
""" % (self.server.addr, self.dir, self.auto_auth(role_file, secret_file, """
  sink "file" { config = { path = "%s" } }
  sink "file" {
    wrap_ttl = "5m"
    config = { path = "%s", mode = 0640 }
  }
""" % (sink, wrapped))))
        token = wait_for(lambda: read(sink), what="the token sink")
        self.canaries.append(token)
        self.assertEqual(stat.S_IMODE(os.stat(sink).st_mode), 0o600)
        st, data = self.req(self.server, "GET", "auth/token/lookup-self", token=token, status=200)
        self.assertIn("app-read", data["data"]["policies"])
        # Vault's default: the secret ID file is removed once read.
        self.assertFalse(os.path.exists(secret_file))
        self.assertEqual(int(read(os.path.join(self.dir, "agent.pid"))), agent.proc.pid)

        info = json.loads(wait_for(lambda: read(wrapped), what="the wrapped sink"))
        self.assertEqual(stat.S_IMODE(os.stat(wrapped).st_mode), 0o640)
        self.assertEqual(info["creation_path"], "sys/wrapping/wrap")
        self.canaries.append(info["token"])
        st, unwrapped = self.req(self.server, "POST", "sys/wrapping/unwrap", token=info["token"],
                                 status=200)
        self.assertEqual(unwrapped["data"]["token"], token)
        self.assertEqual(agent.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "agent.pid")))

    def test_exit_after_auth(self):
        role_file, secret_file = self.setup_server(self.server)
        sink = os.path.join(self.dir, "token")
        agent = self.start_agent("vault { address = \"%s\" }\nexit_after_auth = true\n%s" % (
            self.server.addr,
            self.auto_auth(role_file, secret_file, 'sink "file" { config = { path = "%s" } }'
                           % sink)))
        self.assertEqual(agent.proc.wait(timeout=30), 0)
        token = read(sink)
        self.canaries.append(token)
        self.req(self.server, "GET", "auth/token/lookup-self", token=token, status=200)

    def test_log_format_and_log_file_from_the_config(self):
        role_file, secret_file = self.setup_server(self.server)
        sink = os.path.join(self.dir, "token")
        os.mkdir(os.path.join(self.dir, "logs"))
        agent = self.start_agent("""
vault { address = "%s" }
exit_after_auth = true
log_level  = "error"
log_format = "json"
log_file   = "%s/logs/"
template_config { max_connections_per_host = 2 }
%s
""" % (self.server.addr, self.dir, self.auto_auth(
            role_file, secret_file, 'sink "file" { config = { path = "%s" } }' % sink)))
        self.assertEqual(agent.proc.wait(timeout=30), 0)
        self.canaries.append(read(sink))
        # A directory gets agent.log; the file holds what stderr shows.
        path = os.path.join(self.dir, "logs", "agent.log")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        lines = read(path).splitlines()
        self.assertEqual(lines, [line for line in agent.log().splitlines() if line.startswith("{")])
        entries = [json.loads(line) for line in lines]
        # The -log-level=debug flag beats the config's "error".
        self.assertIn("info", {e["@level"] for e in entries})
        warning = [e for e in entries if "max_connections_per_host" in e["@message"]]
        self.assertEqual([e["@level"] for e in warning], ["warn"])
        self.assertEqual({e["@module"] for e in entries}, {"agent"})
        for c in self.canaries:
            self.assertNotIn(c, read(path))

    def test_log_file_is_written_while_the_agent_runs(self):
        logs = os.path.join(self.dir, "running.log")
        agent = self.start_agent("""
vault { address = "%s" }
log_file = "%s"
auto_auth {
  method "approle" { config = { role_id_file_path = "%s/absent" } }
}
""" % (self.server.addr, logs, self.dir))
        wait_for(lambda: "login with approle failed" in (read(logs) or ""),
                 what="a log line in the file before the agent stops")
        self.assertIsNone(agent.proc.poll())

    def test_token_renewal_across_ttls_and_relogin_after_max_ttl(self):
        role_file, secret_file = self.setup_server(
            self.server, role_fields={"token_ttl": "3s", "token_max_ttl": "10s"})
        sink = os.path.join(self.dir, "token")
        agent = self.start_agent("vault { address = \"%s\" }\n%s" % (
            self.server.addr,
            self.auto_auth(role_file, secret_file, 'sink "file" { config = { path = "%s" } }'
                           % sink)))
        first = wait_for(lambda: read(sink), what="the first token")
        start = time.monotonic()
        seen = [first]
        # 15 s = five TTLs: the token in the sink must be valid at every check.
        while time.monotonic() - start < 15:
            token = read(sink)
            if token and token != seen[-1]:
                seen.append(token)
            st, data = self.req(self.server, "GET", "auth/token/lookup-self", token=token)
            self.assertEqual(st, 200, "sink token invalid %.1fs after login" %
                             (time.monotonic() - start))
            time.sleep(0.25)
        self.canaries.extend(seen)
        self.assertGreaterEqual(agent.count("token renewed"), 2, agent.log())
        self.assertGreaterEqual(len(seen), 2, "no re-login after the max TTL")
        self.assertGreaterEqual(agent.count("authenticated with approle"), 2)

    def template_agent(self, role_file, secret_file, interval, out, counter, prefix="",
                       suffix="", perms="0644"):
        """An agent rendering secret/data/app's password to `out` and
        appending a line to `counter` after each change."""
        return self.start_agent("""
vault { address = "%s" }
%s
template_config { static_secret_render_interval = "%s" }
template {
  contents = "%s{{ with secret \\"secret/data/app\\" }}{{ .Data.data.password }}{{ end }}%s"
  destination = "%s"
  perms = "%s"
  command = "echo x >> %s"
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), interval, prefix, suffix, out,
       perms, counter))

    def test_template_rendered_on_change_with_mode_and_command_once_per_change(self):
        role_file, secret_file = self.setup_server(self.server)
        self.put_secret(self.server, "app", {"password": "pw-one-1111"})
        out = os.path.join(self.dir, "app.conf")
        counter = os.path.join(self.dir, "count")
        agent = self.template_agent(role_file, secret_file, "1s", out, counter,
                                    prefix="password=", suffix="\\n", perms="0640")
        wait_for(lambda: read(out) == "password=pw-one-1111\n", what="first render")
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)
        wait_for(lambda: read(counter) == "x\n", what="first command")

        self.put_secret(self.server, "app", {"password": "pw-two-2222"})
        wait_for(lambda: read(out) == "password=pw-two-2222\n", what="re-render after a write")
        wait_for(lambda: read(counter) == "x\nx\n", what="second command")
        self.put_secret(self.server, "app", {"password": "pw-three-3333"})
        wait_for(lambda: read(out) == "password=pw-three-3333\n", what="third render")
        wait_for(lambda: read(counter) == "x\nx\nx\n", what="third command")

        # The same value written again (a new version) and re-read by two
        # more render passes: no write, no command.
        self.put_secret(self.server, "app", {"password": "pw-three-3333"})
        passes = agent.count("render pass done")
        wait_for(lambda: agent.count("render pass done") >= passes + 2, what="two more passes")
        self.assertEqual(read(counter), "x\nx\nx\n")
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)

    def test_missing_key_with_error_on_missing_key_keeps_file_absent(self):
        role_file, secret_file = self.setup_server(self.server)
        self.put_secret(self.server, "app", {"password": "pw-x-9999"})
        out = os.path.join(self.dir, "strict.conf")
        agent = self.start_agent("""
vault { address = "%s" }
%s
template_config { static_secret_render_interval = "1s" }
template {
  contents = "{{ with secret \\"secret/data/app\\" }}{{ .Data.data.nope }}{{ end }}"
  destination = "%s"
  error_on_missing_key = true
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), out))
        wait_for(lambda: 'no entry for key \\"nope\\"' in agent.log()
                 or 'no entry for key "nope"' in agent.log(), what="the missing-key error")
        self.assertFalse(os.path.exists(out))

    def test_template_prints_numbers_as_written(self):
        # A number beyond a double's precision, and a decimal's trailing
        # zero, render as the secret holds them (as consul-template prints a
        # json.Number), in a field and through toJSON.
        role_file, secret_file = self.setup_server(self.server)
        self.req(self.server, "POST", "secret/data/app-numbers",
                 {"data": {"big": 123456789012345678901234567890, "rate": 1.5}},
                 token=ROOT, status=200)
        out = os.path.join(self.dir, "numbers.txt")
        self.start_agent("""
vault { address = "%s" }
%s
template {
  contents = "{{ with secret \\"secret/data/app-numbers\\" }}{{ .Data.data.big }} {{ .Data.data | toJSON }}{{ end }}"
  destination = "%s"
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), out))
        wait_for(lambda: os.path.exists(out), what="the rendered file")
        with open(out) as f:
            self.assertEqual(f.read(), '123456789012345678901234567890 '
                             '{"big":123456789012345678901234567890,"rate":1.5}')

    def test_exec_env_template_restart_on_change_and_signal_forwarding(self):
        role_file, secret_file = self.setup_server(self.server)
        self.put_secret(self.server, "app", {"password": "exec-one-1111"})
        env_out = os.path.join(self.dir, "env_out")
        script = 'printf "%%s\\n" "$APP_PASSWORD" >> %s; exec sleep 1000' % env_out
        agent = self.start_agent("""
vault { address = "%s" }
%s
template_config { static_secret_render_interval = "1s" }
exec {
  command = ["/bin/sh", "-c", %s]
  restart_on_secret_changes = "always"
  restart_stop_signal = "SIGTERM"
}
env_template "APP_PASSWORD" {
  contents = "{{ with secret \\"secret/data/app\\" }}{{ .Data.data.password }}{{ end }}"
}
""" % (self.server.addr, self.auth_block(role_file, secret_file), json.dumps(script)))
        wait_for(lambda: read(env_out) == "exec-one-1111\n", what="the child with the env var")
        self.put_secret(self.server, "app", {"password": "exec-two-2222"})
        wait_for(lambda: read(env_out) == "exec-one-1111\nexec-two-2222\n",
                 what="the restarted child")
        # The value is in the child's environment, not its command line.
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                cmd = read("/proc/%s/cmdline" % pid) or ""
                self.assertNotIn("exec-two-2222", cmd)
        self.assertEqual(agent.stop(signal.SIGTERM), 128 + signal.SIGTERM)

    def auth_block(self, role_file, secret_file):
        return self.auto_auth(role_file, secret_file)

    def test_exec_exit_code_passes_through(self):
        role_file, secret_file = self.setup_server(self.server)
        agent = self.start_agent("""
vault { address = "%s" }
%s
exec {
  command = ["/bin/sh", "-c", "exit 7"]
  restart_on_secret_changes = "never"
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file)))
        self.assertEqual(agent.proc.wait(timeout=30), 7)

    def test_exec_child_output_files(self):
        role_file, secret_file = self.setup_server(self.server)
        out = os.path.join(self.dir, "child.out")
        err = os.path.join(self.dir, "child.err")
        with open(out, "w") as f:
            f.write("earlier\n")
        agent = self.start_agent("""
vault { address = "%s" }
%s
exec {
  command = ["/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"]
  restart_on_secret_changes = "never"
  child_process_stdout = "%s"
  child_process_stderr = "%s"
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), out, err))
        self.assertEqual(agent.proc.wait(timeout=30), 0)
        self.assertEqual(read(out), "earlier\nto-stdout\n")  # appended to
        self.assertEqual(read(err), "to-stderr\n")
        self.assertEqual(stat.S_IMODE(os.stat(err).st_mode), 0o600)
        self.assertNotIn("to-stdout", agent.log())

    def test_exec_child_output_file_that_cannot_be_opened(self):
        role_file, secret_file = self.setup_server(self.server)
        agent = self.start_agent("""
vault { address = "%s" }
%s
exec {
  command = ["/bin/true"]
  child_process_stdout = "%s/no/such/dir/out"
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), self.dir))
        self.assertEqual(agent.proc.wait(timeout=30), 1)
        self.assertIn("cannot open child_process_stdout", agent.log())

    def test_template_destination_directories_are_created(self):
        role_file, secret_file = self.setup_server(self.server)
        self.put_secret(self.server, "app", {"password": "pw-dirs-4242"})
        out = os.path.join(self.dir, "made", "by", "agent", "app.conf")
        flat = os.path.join(self.dir, "missing", "app.conf")
        agent = self.start_agent("""
vault { address = "%s" }
%s
template_config { static_secret_render_interval = "1s" }
template {
  contents    = "{{ with secret \\"secret/data/app\\" }}{{ .Data.data.password }}{{ end }}"
  destination = "%s"
}
template {
  contents         = "x"
  destination      = "%s"
  create_dest_dirs = false
}
""" % (self.server.addr, self.auto_auth(role_file, secret_file), out, flat))
        wait_for(lambda: read(out) == "pw-dirs-4242", what="the render into new directories")
        wait_for(lambda: "missing/app.conf" in agent.log(), what="the error for the other")
        self.assertFalse(os.path.exists(os.path.dirname(flat)))

    def test_template_rerendered_within_one_second_through_events(self):
        role_file, secret_file = self.setup_server(self.server)
        self.req(self.server, "PUT", "sys/policies/acl/app-read", {"policy": """
path "secret/data/app*" { capabilities = ["read"] }
path "sys/events/subscribe/kv*" { capabilities = ["read"] }
"""}, status=(200, 204))
        self.put_secret(self.server, "app", {"password": "ev-zero-0000"})
        out, counter = os.path.join(self.dir, "app.conf"), os.path.join(self.dir, "count")
        # A 5 minute render interval: only an event can re-render within 1 s.
        agent = self.template_agent(role_file, secret_file, "5m", out, counter)
        wait_for(lambda: read(out) == "ev-zero-0000", what="first render")
        wait_for(lambda: "subscribed to change events" in agent.log(), what="the subscription")
        latencies = []
        for i, value in enumerate(["ev-one-1111", "ev-two-2222", "ev-three-3333"]):
            self.put_secret(self.server, "app", {"password": value})
            acked = time.monotonic()
            wait_for(lambda: read(out) == value, timeout=5, what="re-render of " + value,
                     step=0.002)
            latencies.append(time.monotonic() - acked)
            wait_for(lambda: read(counter) == "x\n" * (i + 2), timeout=5, what="one command")
        print("\ncoffer agent (events, 5 min interval) re-render latency after a KV write: "
              "max %.0f ms (%s)" % (max(latencies) * 1000,
                                    ", ".join("%.0f" % (x * 1000) for x in latencies)),
              file=sys.stderr)
        self.assertLess(max(latencies), 1.0, latencies)
        # A write elsewhere is no reason to render: no pass after its event.
        self.req(self.server, "POST", "secret/data/app-other", {"data": {"k": "v"}}, status=200)
        seen = "change event for secret/data/app-other (no template reads it)"
        wait_for(lambda: seen in agent.log(), what="the unrelated event")
        time.sleep(0.3)  # proving an absence: nothing to poll for
        self.assertNotIn("render pass done", agent.log().split(seen, 1)[1])
        self.assertEqual(read(counter), "x\n" * 4)

    def test_template_follows_changes_by_polling_without_event_permission(self):
        role_file, secret_file = self.setup_server(self.server)  # app-read: no events
        self.put_secret(self.server, "app", {"password": "poll-one-1111"})
        out, counter = os.path.join(self.dir, "app.conf"), os.path.join(self.dir, "count")
        agent = self.template_agent(role_file, secret_file, "1s", out, counter)
        wait_for(lambda: read(out) == "poll-one-1111", what="first render")
        wait_for(lambda: "refused the change-event subscription (403)" in agent.log(),
                 what="the refusal")
        self.put_secret(self.server, "app", {"password": "poll-two-2222"})
        wait_for(lambda: read(out) == "poll-two-2222", timeout=10, what="a polled re-render")
        wait_for(lambda: read(counter) == "x\nx\n", what="the command once")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AgentServerRestartTest(AgentTestBase):
    def test_recovers_after_server_restart(self):
        data_dir = os.path.join(self.dir, "server")
        os.mkdir(data_dir)
        port = free_port()
        config = os.path.join(data_dir, "config.hcl")
        with open(config, "w") as f:
            f.write('storage "local" {\n  path = "%s"\n}\n' % os.path.join(data_dir, "data"))
            f.write('listener "tcp" {\n  address = "127.0.0.1:%d"\n  tls_disable = true\n}\n'
                    % port)
            f.write('disable_mlock = true\nlog_level = "warn"\n')
        server = harness.start_config(data_dir, config)
        try:
            _, init, _ = server.request("PUT", "/v1/sys/init",
                                        {"secret_shares": 1, "secret_threshold": 1})
            key, root = init["keys"][0], init["root_token"]
            server.request("PUT", "/v1/sys/unseal", {"key": key})
            self.req(server, "POST", "sys/mounts/secret",
                     {"type": "kv", "options": {"version": "2"}}, token=root, status=(200, 204))
            role_file, secret_file = self.setup_server(
                server, token=root, role_fields={"token_ttl": "3s", "token_max_ttl": "1h"})
            self.put_secret(server, "app", {"password": "before-restart-1"}, token=root)
            out = os.path.join(self.dir, "app.conf")
            agent = self.start_agent("""
vault { address = "http://127.0.0.1:%d" }
%s
template_config { static_secret_render_interval = "1s" }
template {
  contents = "{{ with secret \\"secret/data/app\\" }}{{ .Data.data.password }}{{ end }}"
  destination = "%s"
}
""" % (port, self.auto_auth(role_file, secret_file), out))
            wait_for(lambda: read(out) == "before-restart-1", what="first render")
            logins = agent.count("authenticated with approle")

            server.stop()
            # Down for longer than the token's TTL: the agent must log in again.
            wait_for(lambda: "token expired while the server was unreachable" in agent.log()
                     or "token renewal refused" in agent.log(), timeout=30,
                     what="the agent to notice the outage")
            self.assertIsNone(agent.proc.poll(), "the agent exited during the outage")
            server = harness.start_config(data_dir, config)
            st, body = server.request("PUT", "/v1/sys/unseal", {"key": key})[:2]
            self.assertFalse(body["sealed"], body)
            self.put_secret(server, "app", {"password": "after-restart-2"}, token=root)
            wait_for(lambda: read(out) == "after-restart-2", timeout=60,
                     what="a render after the restart")
            self.assertGreater(agent.count("authenticated with approle"), logins)
        finally:
            server.cleanup()




class AgentCertAuthTest(AgentTestBase):
    """auto_auth method "cert" against a TLS listener that asks for client
    certificates (test_cert_auth.py makes the CAs and certificates)."""

    def setUp(self):
        super().setUp()
        from test_cert_auth import make_ca, make_leaf, write_pair
        from cryptography.hazmat.primitives import serialization
        server_ca_key, server_ca = make_ca("server-ca")
        self.server_ca = write_pair(self.dir, "server-ca", server_ca_key, server_ca)[0]
        skey, scert = make_leaf(server_ca_key, server_ca, "127.0.0.1", client=False,
                                ip="127.0.0.1")
        server_cert, server_key = write_pair(self.dir, "server", skey, scert)
        ca_key, ca = make_ca("clients-ca")
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
        self.good = write_pair(self.dir, "good",
                               *make_leaf(ca_key, ca, "web.example.com", ["web.example.com"]))
        rogue_key, rogue = make_ca("rogue-ca")
        self.rogue = write_pair(self.dir, "rogue", *make_leaf(rogue_key, rogue, "web.example.com"))
        config = os.path.join(self.dir, "server.hcl")
        with open(config, "w") as f:
            f.write('storage "inmem" {}\nlistener "tcp" {\n  address = "127.0.0.1:0"\n'
                    '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n}\n'
                    'disable_mlock = true\n' % (server_cert, server_key))
        self.server = harness.Server(["server", "-config=" + config]).start()
        self.addCleanup(self.server.cleanup)
        _, init = self.call("PUT", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.call("PUT", "sys/unseal", {"key": init["keys"][0]})
        self.root = init["root_token"]
        self.canaries.append(self.root)
        self.call("POST", "sys/auth/cert", {"type": "cert"}, self.root, want=204)
        self.call("PUT", "sys/policies/acl/web",
                  {"policy": 'path "auth/token/lookup-self" { capabilities = ["read"] }'},
                  self.root, want=(200, 204))
        self.call("POST", "auth/cert/certs/web",
                  {"certificate": self.ca_pem, "token_policies": "web",
                   "allowed_common_names": "*.example.com", "token_ttl": "3s",
                   "token_max_ttl": "4s"}, self.root, want=204)

    def call(self, method, path, body=None, token=None, want=None, client=None):
        import ssl
        import urllib.error
        import urllib.request
        ctx = ssl.create_default_context(cafile=self.server_ca)
        ctx.load_cert_chain(*(client or self.good))
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server.addr + "/v1/" + path, data=data, method=method)
        if token:
            req.add_header("X-Vault-Token", token)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                code, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, raw = e.code, e.read()
        if want is not None:
            self.assertIn(code, want if isinstance(want, tuple) else (want,), (path, raw))
        return code, (json.loads(raw) if raw else None)

    def test_cert_login_writes_a_working_token_and_logs_in_again(self):
        sink = os.path.join(self.dir, "token")
        agent = self.start_agent("""
vault { address = "%s" }
auto_auth {
  method "cert" {
    config = {
      name = "web"
      client_cert = "%s"
      client_key = "%s"
      ca_cert = "%s"
    }
  }
  sink "file" { config = { path = "%s" } }
}
""" % (self.server.addr, self.good[0], self.good[1], self.server_ca, sink))
        token = wait_for(lambda: read(sink), what="the token sink")
        self.canaries.append(token)
        self.assertEqual(stat.S_IMODE(os.stat(sink).st_mode), 0o600)
        _, me = self.call("GET", "auth/token/lookup-self", token=token, want=200)
        self.assertIn("web", me["data"]["policies"])
        self.assertEqual(me["data"]["display_name"], "cert-web")
        # The 4 s max TTL ends renewals: the agent logs in again with the cert.
        wait_for(lambda: agent.count("authenticated with cert") >= 2, timeout=20,
                 what="a second cert login")
        new = wait_for(lambda: (read(sink) != token) and read(sink), what="a new token")
        self.canaries.append(new)
        self.call("GET", "auth/token/lookup-self", token=new, want=200)

    def test_ca_directory_in_the_vault_stanza(self):
        # The server's CA from a directory of PEM files (vault { ca_path }),
        # as Vault Agent takes it; without the CA there, the handshake fails.
        empty = os.path.join(self.dir, "cas-empty")
        cas = os.path.join(self.dir, "cas")
        os.makedirs(empty)
        os.makedirs(cas)
        with open(self.server_ca) as src, open(os.path.join(cas, "server-ca.pem"), "w") as dst:
            dst.write(src.read())
        template = """
vault {
  address = "%s"
  ca_path = "%s"
  client_cert = "%s"
  client_key = "%s"
}
auto_auth {
  method "cert" { config = { name = "web" } }
  sink "file" { config = { path = "%s" } }
}
"""
        refused_dir = os.path.join(self.dir, "refused")
        os.makedirs(refused_dir)
        refused_sink = os.path.join(refused_dir, "token")
        refused = Agent(refused_dir, template % (self.server.addr, empty, self.good[0],
                                                 self.good[1], refused_sink))
        self.agents.append(refused)
        wait_for(lambda: "login with cert failed" in refused.log(), what="the refusal")
        self.assertIn("certificate verify failed", refused.log())
        self.assertIsNone(read(refused_sink))
        sink = os.path.join(self.dir, "token")
        self.start_agent(template % (self.server.addr, cas, self.good[0], self.good[1], sink))
        token = wait_for(lambda: read(sink), what="the token sink")
        self.canaries.append(token)
        self.call("GET", "auth/token/lookup-self", token=token, want=200)

    def test_untrusted_certificate_is_refused_clearly(self):
        sink = os.path.join(self.dir, "token")
        # The certificate from the vault stanza, as Vault Agent also accepts.
        agent = self.start_agent("""
vault {
  address = "%s"
  ca_cert = "%s"
  client_cert = "%s"
  client_key = "%s"
}
auto_auth {
  method "cert" { config = { name = "web" } }
  sink "file" { config = { path = "%s" } }
}
""" % (self.server.addr, self.server_ca, self.rogue[0], self.rogue[1], sink))
        wait_for(lambda: "login with cert failed" in agent.log(), what="the refusal")
        self.assertIn("did not accept the client certificate", agent.log())
        self.assertIsNone(read(sink))
        self.assertIsNone(agent.proc.poll(), "the agent keeps retrying")

    def test_cert_method_needs_a_certificate_and_https(self):
        a = self.start_agent('auto_auth { method "cert" { config = {} } }\n')
        self.assertEqual(a.proc.wait(timeout=30), 1)
        self.assertIn("a client certificate is required", a.log())
        b = self.start_agent('vault { address = "http://127.0.0.1:1" }\n'
                             'auto_auth { method "cert" { config = { client_cert = "%s"\n'
                             'client_key = "%s" } } }\n' % self.good)
        self.assertEqual(b.proc.wait(timeout=30), 1)
        self.assertIn("needs an https:// server address", b.log())


if __name__ == "__main__":
    unittest.main()
