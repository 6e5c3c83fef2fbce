#!/usr/bin/python3
"""Crash campaign: SIGKILL the server at random moments while 32 clients write.

Each iteration starts `coffer server` on the same `local` (SQLite) data
directory, unseals it, lets 32 writer threads write KV v1 values through the
HTTP API (and, with --rotate, a thread that calls sys/rotate in a loop), then
kills the process with SIGKILL after a random delay. The next iteration
restarts and unseals the server and checks, before writing again:

- every acknowledged write (2xx) reads back exactly, or as the one write to
  the same key that was in flight when the process died (a later value);
- an unacknowledged write shows the old value or the new one, nothing else;
- no read fails authentication or returns a value whose checksum is wrong
  (a 500 / decryption error on read counts as torn);
- the keyring term is at least the last acknowledged sys/rotate.

Lost = an acknowledged value replaced by an older one or missing.
Torn = a read that failed (500) or returned bytes that are neither the old nor
the new value. Both must be 0.

With --rekey, a thread rekeys the unseal key in a loop (sys/rekey/init, then
sys/rekey/update with a threshold of the current shares, each time to another
share count); the campaign takes the new shares as current only when the
last update answered complete=true with the keys. After a restart the server
must unseal with the newest acknowledged shares, or, when a rekey was in
flight at the kill, with the previous ones. Without verification there is one
window no client can cover: the new shares are committed and the process dies
before the answer carrying them is written. The campaign recognises it (the
seal configuration after the restart is the in-flight attempt's, and no share
set it knows unseals), counts it as rekey_answers_lost and starts over on a
fresh store. With --rekey-verify the attempt requires verification
(sys/rekey/verify with a threshold of the new shares): the shares are known to
the client before they become active, so that window closes and
rekey_answers_lost must be 0.

Usage:
  COFFER_BIN=build-x/coffer tests/campaigns/crash_campaign.py --iterations 1000
  ... --rotate                      # sys/rotate in a loop while writing
  ... --rekey [--rekey-verify]      # unseal-key rekey in a loop while writing
  ... --json results.json           # figures written as JSON as well

Exit status 0 when lost = torn = 0, every restart unsealed, no live server
answered a write or a rekey call with an error, and (with --rekey-verify) no
rekey answer was lost.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

CLIENTS = 32


class AnswerLost(Exception):
    """A rekey committed, but its answer (the new shares) never arrived."""


class RekeyError(Exception):
    """A live server answered a rekey call with an error."""

KEYS_PER_CLIENT = 8


def make_value(client, key, seq):
    body = "c%d-k%d-s%d-%s" % (client, key, seq, "x" * (seq % 97))
    return {"body": body, "sha": hashlib.sha256(body.encode()).hexdigest()}


def key_path(client, key):
    return "/v1/secret/c%d/k%d" % (client, key)


class Conn:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, addr, token, timeout=10):
        host, port = addr.split("//")[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        self.token = token

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        headers = {"X-Vault-Token": self.token} if self.token else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, raw

    def close(self):
        self.conn.close()


class KeyState:
    """What the campaign knows about one key (touched by one writer only)."""

    __slots__ = ("acked", "inflight")

    def __init__(self):
        self.acked = None  # seq of the newest write answered 2xx (or read back)
        self.inflight = None  # seq sent but not answered when the server died


class Campaign:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.dir = tempfile.mkdtemp(prefix="coffer-crash-campaign-")
        self.config = harness.write_config(self.dir)
        self.state = {(c, k): KeyState() for c in range(CLIENTS) for k in range(KEYS_PER_CLIENT)}
        self.unseal_keys = None  # the newest acknowledged shares
        self.root = None
        self.rotations_acked = 0  # keyring term known to be durable
        # Rekey mode: the (n, t) of the current shares and of an attempt in
        # flight, and shares handed out but not yet verified (--rekey-verify).
        self.seal_config = None
        self.rekey_inflight = None
        self.rekey_pending_keys = None
        self.figures = {
            "iterations": 0,
            "writes_acked": 0,
            "acked_checked": 0,
            "unacked_checked": 0,
            "unacked_new": 0,
            "unacked_old": 0,
            "rotations_acked": 0,
            "rekeys_acked": 0,
            "rekeys_inflight_at_kill": 0,
            "unsealed_with_previous": 0,
            "unsealed_with_pending": 0,
            "rekey_answers_lost": 0,
            "rekey_errors": 0,  # rekey calls answered with an error by a live server
            "lost": 0,
            "torn": 0,
            "unseal_failures": 0,
            "write_errors": 0,  # writes answered with an error (not 2xx) by a live server
            "errors": [],
        }

    # --- server lifecycle ---------------------------------------------------

    def start(self):
        s = harness.Server(["server", "-config=" + self.config], data_dir=self.dir)
        s.start()
        if self.unseal_keys is None:
            n, t = (3, 2) if self.args.rekey else (1, 1)
            code, init, _ = s.request("PUT", "/v1/sys/init",
                                      {"secret_shares": n, "secret_threshold": t})
            if code != 200:
                raise RuntimeError("init failed: %s %s" % (code, init))
            self.unseal_keys, self.root = init["keys"], init["root_token"]
            self.seal_config = (n, t)
            self._unseal_or_stop(s)
            code, body, _ = s.request("POST", "/v1/sys/mounts/secret",
                                      {"type": "kv", "options": {"version": "1"}},
                                      token=self.root)
            if code != 204:
                raise RuntimeError("mount failed: %s %s" % (code, body))
            code, ks, _ = s.request("GET", "/v1/sys/key-status", token=self.root)
            self.rotations_acked = ks["term"]
        else:
            self._unseal_or_stop(s)
        return s

    def _unseal_or_stop(self, s):
        try:
            self._unseal(s)
        except BaseException:
            s.stop(sig=signal.SIGKILL)
            raise

    @staticmethod
    def _try_unseal(s, keys, threshold):
        # A failed try may leave shares of the wrong set in the attempt (when
        # its threshold is below the stored one): start from nothing.
        code, st, _ = s.request("PUT", "/v1/sys/unseal", {"reset": True})
        if code != 200:
            return False, (code, st)
        for k in keys[:threshold]:
            code, st, _ = s.request("PUT", "/v1/sys/unseal", {"key": k})
            if code != 200:
                break
        return code == 200 and not st.get("sealed", True), (code, st)

    def _unseal(self, s):
        if not self.args.rekey:
            ok, answer = self._try_unseal(s, self.unseal_keys, 1)
            if not ok:
                self.figures["unseal_failures"] += 1
                raise RuntimeError("unseal failed after restart: %s %s" % answer)
            return
        f = self.figures
        inflight, pending = self.rekey_inflight, self.rekey_pending_keys
        self.rekey_inflight = self.rekey_pending_keys = None
        if inflight is not None:
            f["rekeys_inflight_at_kill"] += 1
        code, status, _ = s.request("GET", "/v1/sys/seal-status")
        stored = (status["n"], status["t"])
        ok, answer = self._try_unseal(s, self.unseal_keys, self.seal_config[1])
        if ok:
            if inflight is not None:
                f["unsealed_with_previous"] += 1
            return
        if pending is not None and inflight is not None:
            # Verification committed the new shares; the answer did not come.
            ok, answer = self._try_unseal(s, pending, inflight[1])
            if ok:
                f["unsealed_with_pending"] += 1
                self.unseal_keys, self.seal_config = pending, inflight
                return
        if inflight is not None and stored == inflight and stored != self.seal_config:
            # The rekey committed and the process died before its answer,
            # with the new shares, was written: no client could know them.
            f["rekey_answers_lost"] += 1
            self.error("rekey answer lost at the kill (seal config %s committed)" % (stored,))
            raise AnswerLost()
        f["unseal_failures"] += 1
        raise RuntimeError("unseal failed after restart (config %s, ours %s, in flight %s): %s %s"
                           % ((stored, self.seal_config, inflight) + answer))

    # --- checking -------------------------------------------------------------

    def error(self, msg):
        self.figures["errors"].append(msg)
        if len(self.figures["errors"]) > 50:
            del self.figures["errors"][25]

    def check_key(self, conn, client, key):
        st = self.state[(client, key)]
        code, raw = conn.call("GET", key_path(client, key))
        f = self.figures
        if st.acked is not None:
            f["acked_checked"] += 1
        if st.inflight is not None:
            f["unacked_checked"] += 1
        if code == 404:
            if st.acked is not None:
                f["lost"] += 1
                self.error("lost: c%d/k%d acked seq %d is missing" % (client, key, st.acked))
            elif st.inflight is not None:
                f["unacked_old"] += 1
            st.inflight = None
            return
        if code != 200:
            f["torn"] += 1
            self.error("torn: c%d/k%d read answered %d: %r" % (client, key, code, raw[:200]))
            return
        data = json.loads(raw)["data"]
        body = data.get("body", "")
        if hashlib.sha256(body.encode()).hexdigest() != data.get("sha"):
            f["torn"] += 1
            self.error("torn: c%d/k%d checksum mismatch" % (client, key))
            return
        try:
            c, k, s = body.split("-")[:3]
            c, k, seq = int(c[1:]), int(k[1:]), int(s[1:])
        except ValueError:
            f["torn"] += 1
            self.error("torn: c%d/k%d unparsable body" % (client, key))
            return
        if (c, k) != (client, key) or make_value(c, k, seq)["body"] != body:
            f["torn"] += 1
            self.error("torn: c%d/k%d holds another key's value" % (client, key))
            return
        if seq == st.acked:
            if st.inflight is not None:
                f["unacked_old"] += 1
        elif st.inflight is not None and seq == st.inflight:
            f["unacked_new"] += 1
        elif st.acked is not None and seq < st.acked:
            f["lost"] += 1
            self.error("lost: c%d/k%d acked seq %d, read seq %d" % (client, key, st.acked, seq))
            return
        else:
            f["torn"] += 1
            self.error("torn: c%d/k%d seq %d is neither acked %s nor in flight %s"
                       % (client, key, seq, st.acked, st.inflight))
            return
        # What was read after a restart is on disk: it is the new baseline.
        st.acked = seq
        st.inflight = None

    def verify(self, s):
        keys = list(self.state.keys())
        chunks = [keys[i::4] for i in range(4)]

        def run(chunk):
            conn = Conn(s.addr, self.root)
            try:
                for client, key in chunk:
                    self.check_key(conn, client, key)
            finally:
                conn.close()

        threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.args.rotate:
            code, ks, _ = s.request("GET", "/v1/sys/key-status", token=self.root)
            if code != 200 or ks["term"] < self.rotations_acked:
                self.figures["lost"] += 1
                self.error("lost rotation: term %s < acked %d" % (ks, self.rotations_acked))
            else:
                self.rotations_acked = ks["term"]

    # --- load -----------------------------------------------------------------

    def writer(self, s, client, stop, counts):
        conn = Conn(s.addr, self.root)
        n = 0
        try:
            while not stop.is_set():
                key = self.rng_for(client).randrange(KEYS_PER_CLIENT)
                st = self.state[(client, key)]
                seq = max(st.acked or 0, st.inflight or 0) + 1
                st.inflight = seq
                try:
                    code, raw = conn.call("POST", key_path(client, key), make_value(client, key, seq))
                except (OSError, http.client.HTTPException):
                    return  # the server is gone; seq stays in flight
                if 200 <= code < 300:
                    st.acked = seq
                    st.inflight = None
                    n += 1
                else:
                    # An error answer: the write may or may not have happened
                    # (treat it like one in flight), and the writer stops.
                    # The answer's message and the server's error lines say why.
                    self.figures["write_errors"] += 1
                    logged = [l.strip() for l in list(s.output) if "[error]" in l or "[critical]" in l]
                    self.error("write c%d/k%d answered %d: %s; server errors: %s"
                               % (client, key, code, raw[:300].decode("utf-8", "replace"),
                                  logged[-5:]))
                    return
        finally:
            counts[client] = n
            conn.close()

    def rng_for(self, client):
        # random.Random is not shared between threads: one per writer.
        rngs = self.__dict__.setdefault("_rngs", {})
        if client not in rngs:
            rngs[client] = random.Random(self.rng.random())
        return rngs[client]

    def rotator(self, s, stop):
        conn = Conn(s.addr, self.root)
        try:
            while not stop.is_set():
                try:
                    code, _ = conn.call("POST", "/v1/sys/rotate", {})
                    if code != 204:
                        return
                    code, raw = conn.call("GET", "/v1/sys/key-status")
                    if code == 200:
                        self.rotations_acked = max(self.rotations_acked,
                                                   json.loads(raw)["data"]["term"])
                        self.figures["rotations_acked"] += 1
                except (OSError, http.client.HTTPException, ValueError, KeyError):
                    return
        finally:
            conn.close()

    def rekeyer(self, s, stop):
        conn = Conn(s.addr, None)
        rng = random.Random(self.rng.random())
        f = self.figures

        def call(method, path, body):
            code, raw = conn.call(method, path, body)
            parsed = json.loads(raw) if raw else {}
            if code != 200:
                f["rekey_errors"] += 1
                self.error("rekey: %s %s answered %d: %r" % (method, path, code, raw[:200]))
                raise RekeyError()
            return parsed

        try:
            while not stop.is_set():
                n = rng.choice([c for c in (2, 3, 4, 5) if c != self.seal_config[0]])
                t = rng.randint(2, n)
                self.rekey_inflight = (n, t)
                st = call("PUT", "/v1/sys/rekey/init",
                          {"secret_shares": n, "secret_threshold": t,
                           "require_verification": self.args.rekey_verify})
                nonce, done = st["nonce"], None
                for k in self.unseal_keys[:self.seal_config[1]]:
                    done = call("PUT", "/v1/sys/rekey/update", {"key": k, "nonce": nonce})
                if not done.get("complete") or len(done.get("keys", [])) != n:
                    f["rekey_errors"] += 1
                    self.error("rekey: the last update did not complete: %r" % done)
                    return
                if self.args.rekey_verify:
                    self.rekey_pending_keys = done["keys"]
                    vnonce = done["verification_nonce"]
                    for k in done["keys"][:t]:
                        v = call("PUT", "/v1/sys/rekey/verify", {"key": k, "nonce": vnonce})
                    if not v.get("complete"):
                        f["rekey_errors"] += 1
                        self.error("rekey: verification did not complete: %r" % v)
                        return
                # Acknowledged: these are the shares from now on.
                self.unseal_keys, self.seal_config = done["keys"], (n, t)
                self.rekey_inflight = self.rekey_pending_keys = None
                f["rekeys_acked"] += 1
        except (OSError, http.client.HTTPException, ValueError, KeyError, RekeyError):
            return  # the server is gone (or answered an error, counted above)
        finally:
            conn.close()

    def fresh_store(self):
        """After a lost rekey answer: the store cannot be unsealed by anyone."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = tempfile.mkdtemp(prefix="coffer-crash-campaign-")
        self.config = harness.write_config(self.dir)
        self.state = {(c, k): KeyState() for c in range(CLIENTS) for k in range(KEYS_PER_CLIENT)}
        self.unseal_keys = None
        self.rotations_acked = 0

    def iteration(self):
        try:
            s = self.start()
        except AnswerLost:
            self.fresh_store()
            s = self.start()
        try:
            if self.figures["iterations"] > 0 or self.args.verify_first:
                self.verify(s)
            stop = threading.Event()
            counts = [0] * CLIENTS
            self._rngs = {c: random.Random(self.rng.random()) for c in range(CLIENTS)}
            threads = [threading.Thread(target=self.writer, args=(s, c, stop, counts))
                       for c in range(CLIENTS)]
            if self.args.rotate:
                threads.append(threading.Thread(target=self.rotator, args=(s, stop)))
            if self.args.rekey:
                threads.append(threading.Thread(target=self.rekeyer, args=(s, stop)))
            for t in threads:
                t.start()
            time.sleep(self.rng.uniform(self.args.min_run, self.args.max_run))
            s.kill9()  # SIGKILL mid-flight
            stop.set()
            for t in threads:
                t.join()
            self.figures["writes_acked"] += sum(counts)
            self.figures["iterations"] += 1
        finally:
            s.stop(sig=signal.SIGKILL)

    def run(self):
        t0 = time.monotonic()
        try:
            for i in range(self.args.iterations):
                self.iteration()
                if self.args.progress and (i + 1) % self.args.progress == 0:
                    self.report(t0, out=sys.stderr)
            # A last restart checks what the last kill left.
            try:
                s = self.start()
            except AnswerLost:
                self.fresh_store()
                s = self.start()
            try:
                self.verify(s)
            finally:
                s.stop(sig=signal.SIGKILL)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.report(t0)

    def report(self, t0, out=sys.stdout):
        f = dict(self.figures)
        f["seconds"] = round(time.monotonic() - t0, 1)
        f["mode"] = ("rekey-verify" if self.args.rekey_verify else "rekey") if self.args.rekey \
            else "rotate" if self.args.rotate else "plain"
        errors = f.pop("errors")
        print(json.dumps(f), file=out, flush=True)
        for e in errors[:10]:
            print("  " + e, file=out)
        f["errors"] = errors
        return f


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--rotate", action="store_true", help="sys/rotate in a loop while writing")
    p.add_argument("--rekey", action="store_true", help="unseal-key rekey in a loop")
    p.add_argument("--rekey-verify", action="store_true",
                   help="with --rekey: require verification of the new shares")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--min-run", type=float, default=0.05, help="min seconds before SIGKILL")
    p.add_argument("--max-run", type=float, default=1.0, help="max seconds before SIGKILL")
    p.add_argument("--progress", type=int, default=0, help="print figures every N iterations")
    p.add_argument("--verify-first", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help="also write the figures to this file")
    args = p.parse_args(argv)
    if args.rekey_verify:
        args.rekey = True
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    print("seed %d" % args.seed, file=sys.stderr)
    figures = Campaign(args).run()
    figures["seed"] = args.seed
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)
    ok = (figures["lost"] == 0 and figures["torn"] == 0 and figures["unseal_failures"] == 0
          and figures["write_errors"] == 0 and figures["rekey_errors"] == 0
          and not (args.rekey_verify and figures["rekey_answers_lost"] > 0))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
