"""`coffer scan` through the real binary: exit codes, JSON and SARIF output,
redaction, --git on a repository whose secret lives only in an old commit,
the pre-commit hook, and --import into a dev server."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

ROOT = "scan-test-root-token"
GITHUB = "ghp_8fK2mQ9xL4vN7bR1tY6wZ3cH5jP0sD2gA9eU"
AWS = "AKIAQ7XB2M4KZ9PL3RTW"
PASSWORD = "S3cr3t!Pa55w0rdZq"


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", "-C", repo] + list(args), check=True, capture_output=True,
                          text=True, env=env)


class ScanTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="coffer-scan-it-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def scan(self, *args, env=None, stdin=None, cwd=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        e.update(env or {})
        return subprocess.run([harness.COFFER_BIN, "scan"] + list(args), capture_output=True,
                              text=True, env=e, input=stdin, cwd=cwd, timeout=120)

    def assert_no_secret(self, r):
        for s in (GITHUB, AWS, PASSWORD):
            self.assertNotIn(s, r.stdout)
            self.assertNotIn(s, r.stderr)

    def test_exit_codes_and_formats(self):
        self.write("clean/readme.md", "nothing here\n")
        r = self.scan(os.path.join(self.dir, "clean"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")

        self.write("app/config.py", "token = '%s'\n" % GITHUB)
        self.write("app/.env", "AWS_KEY=%s\nDB_PASSWORD=%s\n" % (AWS, PASSWORD))
        r = self.scan(os.path.join(self.dir, "app"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("config.py:1:10: github-token (high) ghp_\u2026", r.stdout)
        self.assert_no_secret(r)

        r = self.scan("--format", "json", os.path.join(self.dir, "app"))
        self.assertEqual(r.returncode, 1)
        doc = json.loads(r.stdout)
        rules = sorted(f["rule_id"] for f in doc["findings"])
        self.assertEqual(rules, ["aws-access-key-id", "generic-secret", "github-token"])
        self.assert_no_secret(r)

        r = self.scan("-format=sarif", os.path.join(self.dir, "app"))
        self.assertEqual(r.returncode, 1)
        sarif = json.loads(r.stdout)
        self.assertEqual(sarif["version"], "2.1.0")
        self.assertEqual(len(sarif["runs"][0]["results"]), 3)
        self.assert_no_secret(r)

        self.assertEqual(self.scan(os.path.join(self.dir, "missing")).returncode, 2)
        self.assertEqual(self.scan("--format", "xml", self.dir).returncode, 2)

        # Inline ignore and allow-list.
        self.write("app/config.py", "token = '%s'  # coffer:ignore\n" % GITHUB)
        self.write("app/.cofferignore", "rule:aws-access-key-id\n.env\n")
        r = self.scan(os.path.join(self.dir, "app"))
        self.assertEqual(r.returncode, 0, r.stdout)

    def make_repo_with_old_secret(self):
        repo = os.path.join(self.dir, "repo")
        os.makedirs(repo)
        git(repo, "init", "-q")
        self.write("repo/deploy.sh", "#!/bin/sh\nexport TOKEN=%s\n./deploy\n" % GITHUB)
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "add deploy")
        first = git(repo, "rev-parse", "HEAD").stdout.strip()
        self.write("repo/deploy.sh", "#!/bin/sh\n./deploy\n")
        git(repo, "commit", "-q", "-am", "remove the token")
        return repo, first

    def test_git_history(self):
        repo, first = self.make_repo_with_old_secret()
        r = self.scan(repo)
        self.assertEqual(r.returncode, 0, r.stdout)  # the work tree is clean
        r = self.scan("--git", "--format", "json", repo)
        self.assertEqual(r.returncode, 1, r.stderr)
        findings = json.loads(r.stdout)["findings"]
        self.assertEqual(len(findings), 1)
        f = findings[0]
        self.assertEqual((f["rule_id"], f["path"], f["line"], f["commit"]),
                         ("github-token", "deploy.sh", 2, first))
        self.assert_no_secret(r)
        self.assertEqual(self.scan("--git", self.dir).returncode, 2)  # not a repository

    def test_git_history_runs_no_textconv_program(self):
        # A repository's own config can name a textconv program for a diff
        # driver: the scan must neither run it (code execution from a cloned
        # tarball) nor see its output instead of the committed text.
        repo, first = self.make_repo_with_old_secret()
        marker = os.path.join(self.dir, "textconv-ran")
        git(repo, "config", "diff.hide.textconv", "sh -c 'touch %s; echo clean' --" % marker)
        self.write("repo/.gitattributes", "*.sh diff=hide\n")
        r = self.scan("--git", "--format", "json", repo)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(r.returncode, 1, r.stderr)
        findings = json.loads(r.stdout)["findings"]
        self.assertEqual([(f["path"], f["commit"]) for f in findings], [("deploy.sh", first)])
        # Staged changes: the same.
        self.write("repo/deploy.sh", "#!/bin/sh\nTOKEN=%s ./deploy\n" % GITHUB)
        git(repo, "add", "deploy.sh")
        r = self.scan("--staged", repo)
        self.assertFalse(os.path.exists(marker))
        self.assertEqual(r.returncode, 1, r.stdout)

    def test_a_file_the_walk_cannot_look_at_is_said(self):
        # A tree deeper than the longest path the system names: its deepest
        # file cannot be looked at, and the scan says so rather than leave
        # it out in silence.
        self.write("found.py", "password = '%s'\n" % PASSWORD)
        here = os.open(".", os.O_RDONLY)
        try:
            os.chdir(self.dir)
            for _ in range(30):
                os.mkdir("d" * 200)
                os.chdir("d" * 200)
            with open("deep.py", "w") as f:
                f.write("token = '%s'\n" % GITHUB)
        finally:
            os.fchdir(here)
            os.close(here)
        r = self.scan(self.dir)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("found.py", r.stdout)
        self.assertIn("File name too long", r.stdout + r.stderr)

    def test_git_history_runs_no_signature_program(self):
        # With log.showSignature set, `git log` runs gpg.program on every
        # commit that carries a signature header, and anyone can write one.
        repo, first = self.make_repo_with_old_secret()
        marker = os.path.join(self.dir, "gpg-ran")
        program = os.path.join(self.dir, "fake-gpg")
        with open(program, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % marker)
        os.chmod(program, 0o755)
        body = git(repo, "cat-file", "commit", first).stdout
        header, message = body.split("\n\n", 1)
        forged = (header + "\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n"
                  " iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\n" + message)
        signed = subprocess.run(["git", "-C", repo, "hash-object", "-t", "commit", "-w", "--stdin"],
                                input=forged, check=True, capture_output=True,
                                text=True).stdout.strip()
        git(repo, "update-ref", "refs/heads/signed", signed)
        git(repo, "config", "log.showSignature", "true")
        for key in ("gpg.program", "gpg.openpgp.program"):
            git(repo, "config", key, program)
        # The setup is live: git itself runs the program.
        git(repo, "log", "-1", "signed")
        self.assertTrue(os.path.exists(marker))
        os.remove(marker)
        r = self.scan("--git", "--format", "json", repo)
        self.assertFalse(os.path.exists(marker), "the scan ran the repository's gpg.program")
        self.assertEqual(r.returncode, 1, r.stderr)
        commits = [f["commit"] for f in json.loads(r.stdout)["findings"]]
        self.assertIn(first, commits)

    def test_pre_commit_hook(self):
        repo, _ = self.make_repo_with_old_secret()
        r = subprocess.run([harness.COFFER_BIN, "scan", "install-hook", repo], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        hook = os.path.join(repo, ".git", "hooks", "pre-commit")
        self.assertTrue(os.access(hook, os.X_OK))
        self.write("repo/settings.py", "password = '%s'\n" % PASSWORD)
        git(repo, "add", "settings.py")
        r = self.scan("--staged", repo)
        self.assertEqual(r.returncode, 1)
        self.assertIn("settings.py:1:13: generic-secret", r.stdout)
        with self.assertRaises(subprocess.CalledProcessError):
            git(repo, "commit", "-q", "-m", "oops")
        self.write("repo/settings.py", "password = os.environ['DB_PASSWORD']\n")
        git(repo, "add", "settings.py")
        git(repo, "commit", "-q", "-m", "fine")  # the hook lets a clean commit through
        # A foreign hook is not replaced without --force.
        with open(hook, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        r = subprocess.run([harness.COFFER_BIN, "scan", "install-hook", repo], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        # A hook that is a symbolic link (an untrusted tarball's) is replaced,
        # not written through: the file it points to stays as it was.
        outside = os.path.join(self.dir, "profile")
        with open(outside, "w") as f:
            f.write("export PS1='$ '\n")
        os.chmod(outside, 0o644)
        os.remove(hook)
        os.symlink(outside, hook)
        r = subprocess.run([harness.COFFER_BIN, "scan", "install-hook", "--force", repo],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.islink(hook))
        self.assertTrue(os.access(hook, os.X_OK))
        with open(outside) as f:
            self.assertEqual(f.read(), "export PS1='$ '\n")
        self.assertEqual(os.stat(outside).st_mode & 0o777, 0o644)


class ScanImportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.start_dev(root_token=ROOT)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_import(self):
        d = tempfile.mkdtemp(prefix="coffer-scan-import-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, ".env"), "w") as f:
            f.write("DB_PASSWORD=%s\nGH=%s\n" % (PASSWORD, GITHUB))
        with open(os.path.join(d, "other.yaml"), "w") as f:
            f.write("db:\n  DB_PASSWORD: \"%s\"\n" % PASSWORD)  # the same value again
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "COFFER_"))}
        env.update({"COFFER_ADDR": self.server.addr, "COFFER_TOKEN": ROOT})
        # No terminal and no --yes: refused, nothing written.
        r = subprocess.run([harness.COFFER_BIN, "scan", "--import", "secret/app", d],
                           capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                           timeout=60)
        self.assertEqual(r.returncode, 2)
        status, _, _ = self.server.request("GET", "/v1/secret/data/app", token=ROOT)
        self.assertEqual(status, 404)

        r = subprocess.run([harness.COFFER_BIN, "scan", "--import", "secret/app", "--yes", d],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for s in (PASSWORD, GITHUB):
            self.assertNotIn(s, r.stdout)
            self.assertNotIn(s, r.stderr)
        self.assertIn("--secret DB_PASSWORD=secret/data/app#DB_PASSWORD", r.stdout)
        self.assertIn("--secret GITHUB_TOKEN=secret/data/app#github_token", r.stdout)
        self.assertIn(".env:1  ->  DB_PASSWORD=secret/data/app#DB_PASSWORD", r.stdout)
        status, body, _ = self.server.request("GET", "/v1/secret/data/app", token=ROOT)
        self.assertEqual(status, 200)
        self.assertEqual(body["data"]["data"], {"DB_PASSWORD": PASSWORD, "github_token": GITHUB})

        # Two more tokens into the same secret: the names listed before the
        # write are the names written, next to the one already there.
        others = ["ghp_" + GITHUB[4:][::-1], "ghp_" + GITHUB[5:] + "Q"]
        with open(os.path.join(d, ".env"), "w") as f:
            f.write("".join("GH=%s\n" % t for t in others))
        os.remove(os.path.join(d, "other.yaml"))
        r = subprocess.run([harness.COFFER_BIN, "scan", "--import", "secret/app", "--yes", d],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("github_token_2  <- .env:1", r.stderr)
        self.assertIn("github_token_3  <- .env:2", r.stderr)
        status, body, _ = self.server.request("GET", "/v1/secret/data/app", token=ROOT)
        self.assertEqual(body["data"]["data"],
                         {"DB_PASSWORD": PASSWORD, "github_token": GITHUB,
                          "github_token_2": others[0], "github_token_3": others[1]})


if __name__ == "__main__":
    unittest.main()
