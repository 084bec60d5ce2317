"""The process's one TLS context, shared by every outbound HTTP client: building one reads the CA bundle (~40 ms)."""

import functools
import ssl

import httpx


@functools.cache
def verifying_context() -> ssl.SSLContext:
    """httpx's own default (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set), built once."""
    return httpx.create_ssl_context()
