"""Helpers for the memory hygiene tests: read a process's memory and the
server's key material (derived from the unseal shares and the local store,
exactly as the documented formats in docs/ciphertext-format.md say), so the
tests know which bytes to look for without any key-exposing API.
"""

import base64
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import harness


def gf_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else (a << 1)
        b >>= 1
    return r & 0xFF


def gf_inv(a):
    # a^254 = a^-1 in GF(2^8)
    r, p, e = 1, a, 254
    while e:
        if e & 1:
            r = gf_mul(r, p)
        p = gf_mul(p, p)
        e >>= 1
    return r


def shamir_combine(shares):
    """Shares are Coffer's 33-byte form: 32 bytes then the x coordinate."""
    xs = [s[-1] for s in shares]
    out = bytearray(len(shares[0]) - 1)
    for i in range(len(out)):
        acc = 0
        for j, sj in enumerate(shares):
            num, den = 1, 1
            for m, xm in enumerate(xs):
                if m == j:
                    continue
                num = gf_mul(num, xm)  # (0 - xm) = xm in GF(2^8)
                den = gf_mul(den, xs[j] ^ xm)
            acc ^= gf_mul(sj[i], gf_mul(num, gf_inv(den)))
        out[i] = acc
    return bytes(out)


def open_value(key, blob, aad):
    """Opens the barrier format: term(4) | version(1) | nonce(12) | ct | tag."""
    assert blob[4] == 1, "unknown ciphertext version"
    return AESGCM(key).decrypt(blob[5:17], blob[17:], aad.encode())


def read_store(data_dir, key):
    rows = harness.query_store(data_dir, "SELECT value FROM kv WHERE key = ?", (key,))
    return None if not rows else bytes(rows[0][0])


def key_material(data_dir, unseal_key):
    """Returns (root_key, [data keys of every keyring term])."""
    root = open_value(unseal_key, read_store(data_dir, "core/root-key"), "core/root-key")
    plain = open_value(root, read_store(data_dir, "core/keyring"), "core/keyring")
    fixed = 1 + 4 + 8 + 8 + 8 + 1
    (count,) = struct.unpack(">I", plain[fixed:fixed + 4])
    keys, pos = [], fixed + 4
    for _ in range(count):
        keys.append(plain[pos + 12:pos + 44])
        pos += 44
    return root, keys


MAX_REGION = 1 << 30


def regions(pid):
    """(start, end, perms, name) of every mapping."""
    out = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            out.append((start, end, parts[1], parts[5].strip() if len(parts) > 5 else ""))
    return out


def scan(pid, needles):
    """Maps each needle name to the addresses where its bytes occur in any
    readable region of the process (vvar and friends are skipped)."""
    found = {name: [] for name in needles}
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for start, end, perms, name in regions(pid):
            if perms[0] != "r" or name in ("[vvar]", "[vsyscall]"):
                continue
            if end - start > MAX_REGION:
                continue  # sanitizer shadow memory: terabytes of reserved zeros
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, OverflowError, ValueError):
                continue
            for needle_name, needle in needles.items():
                i = data.find(needle)
                while i >= 0:
                    found[needle_name].append(start + i)
                    i = data.find(needle, i + 1)
    return {k: v for k, v in found.items() if v}


def encodings(name, raw):
    """The forms a key can take in memory: raw bytes, hex, base64."""
    return {
        name: raw,
        name + " (hex)": raw.hex().encode(),
        name + " (base64)": base64.b64encode(raw).rstrip(b"="),
    }


def vm_flags(pid, address):
    """The VmFlags of the smaps entry holding `address`."""
    current = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
                current = start <= address < end
            elif head == "VmFlags:" and current:
                return line.split()[1:]
    return None


def status_field(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None
