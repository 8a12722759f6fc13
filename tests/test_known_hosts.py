"""known_hosts as OpenSSH writes it: hashed names (``ssh-keygen -H``) matched with the
HMAC's padded-key states computed once, checked against ``hmac`` itself and against
``ssh-keygen -F`` on a real hashed file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess

import paramiko
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lpsectl.remote.runner import HashedName, load_known_hosts


@settings(max_examples=300, deadline=None)
@given(
    # OpenSSH's are 20 bytes; keys past SHA-1's 64-byte block are hashed first (RFC 2104)
    salt=st.one_of(st.binary(max_size=30), st.binary(min_size=60, max_size=150)),
    name=st.binary(min_size=0, max_size=80),
    other=st.binary(min_size=0, max_size=80),
)
@example(salt=b"k" * 65, name=b"spse-db", other=b"spse-app")
@example(salt=b"k" * 64, name=b"spse-db", other=b"spse-db ")
def test_a_hashed_name_matches_exactly_what_hmac_sha1_says(salt, name, other):
    digest = hmac.new(salt, name, hashlib.sha1).digest()
    hashed = HashedName(salt, digest)
    assert hashed.names(name)
    assert hashed.names(name)  # the precomputed states are copied, never consumed
    assert hashed.names(other) == (hmac.new(salt, other, hashlib.sha1).digest() == digest)


def test_a_file_hashed_by_ssh_keygen_gives_each_host_its_own_key(tmp_path):
    names = ["[127.0.0.5]:2222", "spse-db", "10.20.30.40", "[spse-app.lpse.local]:22022"]
    keys = {}
    for i, name in enumerate(names + ["*.lpse.local", "@revoked *"]):
        path = tmp_path / f"key{i}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        keys[name] = path.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    lines = [f"10.9.{i // 256}.{i % 256} {' '.join(keys[names[0]])}" for i in range(300)]
    lines += [f"{name} {' '.join(keys[name])}" for name in names]
    # a pattern (left unhashed by ssh-keygen -H) and a revoked key
    lines += [
        f"*.lpse.local {' '.join(keys['*.lpse.local'])}",
        f"@revoked * {' '.join(keys['@revoked *'])}",
    ]
    known.write_text("\n".join(lines) + "\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
    text = known.read_text()
    assert "spse-db" not in text and text.count("|1|") == len(lines) - 2
    revoked_blob = base64.b64decode(keys["@revoked *"][1])

    for name in names + ["[127.0.0.5]:2223", "spse-app", "mail.lpse.local"]:
        # the reference: OpenSSH's own lookup in the hashed file
        found = subprocess.run(
            ["ssh-keygen", "-F", name, "-f", str(known)], capture_output=True, text=True
        )
        expected = {
            tuple(line.split()[1:3])
            for line in found.stdout.splitlines()
            if line and not line.startswith(("#", "@revoked"))
        }
        host_keys = paramiko.HostKeys()
        known_keys = load_known_hosts(known, host_keys, name)
        got = {
            (key.get_name(), key.get_base64()) for key in (host_keys.lookup(name) or {}).values()
        }
        assert got == expected, name
        assert known_keys.accepted == {base64.b64decode(blob) for _, blob in expected}
        assert known_keys.revoked == {revoked_blob}
        assert bool(expected) == (name in names or name.endswith(".lpse.local"))


def test_negations_cases_brackets_and_two_keys_of_a_type_read_as_ssh_keygen_does(tmp_path):
    keys = {}
    for name in ("a", "b", "c"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True
        )
        keys[name] = " ".join((tmp_path / f"{name}.pub").read_text().split()[:2])
    known = tmp_path / "known_hosts"
    known.write_text(
        f"spse-db {keys['a']}\n"
        f"*.lpse.local,!evil.lpse.local {keys['b']}\n"  # a negation takes a host out
        f"SPSE-App.LPSE.local {keys['c']}\n"  # names are compared in lower case
        f"[10.0.0.?]:2222,spse-db {keys['c']}\n"  # '[' is a plain character; spse-db twice
    )
    for name in ("spse-db", "spse-app.lpse.local", "evil.lpse.local", "[10.0.0.7]:2222", "x"):
        found = subprocess.run(
            ["ssh-keygen", "-F", name, "-f", str(known)], capture_output=True, text=True
        )
        expected = {
            base64.b64decode(line.split()[2])
            for line in found.stdout.splitlines()
            if line and not line.startswith("#")
        }
        known_keys = load_known_hosts(known, paramiko.HostKeys(), name)
        assert known_keys.accepted == expected, name
    # spse-db has two ed25519 keys: both accepted, the first one held by paramiko
    host_keys = paramiko.HostKeys()
    assert len(load_known_hosts(known, host_keys, "spse-db").accepted) == 2
    assert host_keys.lookup("spse-db")["ssh-ed25519"].get_base64() == keys["a"].split()[1]


def test_lines_this_client_cannot_use_are_skipped_and_the_hosts_other_lines_count(tmp_path):
    """Old and new key types paramiko does not read (ssh-dss, certificates, security
    keys, a typo) and a malformed RSA blob: each line skipped, never a crash."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    good = (tmp_path / "k.pub").read_text().split()[:2]
    rsa_garbage = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa\xff\xff\xff\xff" + b"\x01" * 40)
    known = tmp_path / "known_hosts"
    known.write_text(
        "spse-db ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZp\n"
        "spse-db ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t\n"
        "spse-db sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n"
        "spse-db ssh-ed2559 AAAAC3NzaC1lZDI1NTE5AAAAIKHtypo\n"
        f"spse-db ssh-rsa {rsa_garbage.decode()}\n"
        "@revoked * ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZp\n"
        f"spse-db {good[0]} {good[1]}\n"
    )
    host_keys = paramiko.HostKeys()
    known_keys = load_known_hosts(known, host_keys, "spse-db")
    assert known_keys.accepted == {base64.b64decode(good[1])}
    assert known_keys.revoked == set()
    assert host_keys.lookup("spse-db")[good[0]].get_base64() == good[1]
