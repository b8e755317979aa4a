"""Tokens encrypted at rest with MultiFernet over `TOKEN_KEYS` (newest first).

Decryption accepts any listed key, encryption always uses the newest, so a
key is rotated by putting a new one first, re-sealing every credential
(`flask --app wsgi rotate-token-keys`), then dropping the old key.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

__all__ = ["TokenCipher", "InvalidToken", "seal", "unseal", "cipher"]


class TokenCipher:
    def __init__(self, keys):
        if not keys:
            raise ValueError("at least one token key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext):
        if plaintext is None:
            return None
        return self._fernet.encrypt(plaintext.encode()).decode()

    def unseal(self, ciphertext):
        if ciphertext is None:
            return None
        return self._fernet.decrypt(ciphertext.encode()).decode()

    def reseal(self, ciphertext):
        """The same secret under the newest key."""
        if ciphertext is None:
            return None
        return self._fernet.rotate(ciphertext.encode()).decode()


def init_app(app):
    app.extensions["keepalive.cipher"] = TokenCipher(app.config["TOKEN_KEYS"])


def cipher():
    return current_app.extensions["keepalive.cipher"]


def seal(plaintext):
    return cipher().seal(plaintext)


def unseal(ciphertext):
    return cipher().unseal(ciphertext)
