"""Ed25519 signature of MANIFEST.sha256: who vouches for the case folder, checkable offline.

The manifest already names every file's SHA-256, so signing it signs the whole folder. The
signature is the raw 64 bytes in ``MANIFEST.sha256.sig`` (what ``openssl pkeyutl -verify -rawin``
reads), written after the manifest and left out of it. Keys are PEM (``openssl genpkey -algorithm
ed25519``) or OpenSSH files; only Ed25519 is accepted, so a signature always means the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from triage.errors import ReportError, UsageError
from triage.inputfiles import require_regular_file
from triage.reports.manifest import MANIFEST

SIGNATURE = MANIFEST + ".sig"


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS#8) or OpenSSH file (unencrypted)."""
    data = _read(path)
    for loader in (serialization.load_pem_private_key, serialization.load_ssh_private_key):
        try:
            key = loader(data, None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if isinstance(key, Ed25519PrivateKey):
            return key
        raise UsageError(f"{path}: not an Ed25519 key ({type(key).__name__}); triage signs with Ed25519 only")
    raise UsageError(f"{path}: not an unencrypted Ed25519 private key (PEM or OpenSSH)")


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file or an OpenSSH ``ssh-ed25519 ...`` line."""
    data = _read(path)
    for loader in (serialization.load_pem_public_key, serialization.load_ssh_public_key):
        try:
            key = loader(data)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if isinstance(key, Ed25519PublicKey):
            return key
        raise UsageError(f"{path}: not an Ed25519 public key ({type(key).__name__})")
    raise UsageError(f"{path}: not an Ed25519 public key (PEM or OpenSSH)")


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:<base64>`` of the raw public key, as OpenSSH prints it, for the audit log."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + raw
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def sign_manifest(case_dir: Path, key: Ed25519PrivateKey) -> Path:
    """Sign the manifest as it is now; returns the signature's path."""
    target = Path(case_dir) / SIGNATURE
    try:
        signature = key.sign((Path(case_dir) / MANIFEST).read_bytes())
        tmp = target.with_name(f".{SIGNATURE}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(signature)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as e:
        raise ReportError(f"cannot sign {MANIFEST} in {case_dir}: {e}") from e
    return target


def check_signature(case_dir: Path, key: Ed25519PublicKey) -> list[str]:
    """Problems with the signature (empty when it verifies with ``key``)."""
    sig_path, manifest = Path(case_dir) / SIGNATURE, Path(case_dir) / MANIFEST
    if not sig_path.is_file():
        return [f"{SIGNATURE}: missing (the case folder is not signed)"]
    if not manifest.is_file():
        return [f"{SIGNATURE}: cannot be checked, {MANIFEST} is missing"]
    try:
        key.verify(sig_path.read_bytes(), manifest.read_bytes())
    except InvalidSignature:
        return [
            f"{SIGNATURE}: does not verify with the given public key"
            f" ({MANIFEST} was changed after signing, or another key signed it)"
        ]
    return []


def _read(path: Path) -> bytes:
    # Read again when the reports are written after the scan: a pipe would be empty by then.
    require_regular_file(path, "key", UsageError)
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the key file {path}: {e}") from e
