"""`cody serve --demo` hands the demo's key to the web page, so the demo signs in by itself on the same machine."""

from pathlib import Path

import httpx
import pytest

from tests.api.test_cli import _start_demo


@pytest.mark.slow
def test_serve_demo_puts_the_printed_key_in_the_page(tmp_path: Path) -> None:
    serve, key, _, _ = _start_demo(tmp_path, tmp_path / "demo.db")
    try:
        page = httpx.get(serve.base_url + "/", timeout=30)
        assert page.status_code == 200
        assert f'<meta name="cody-demo-key" content="{key}">' in page.text
        assert page.headers["cache-control"] == "no-store"
        # Behind a proxy on this machine (uvicorn trusts X-Forwarded-For from 127.0.0.1), a visitor from elsewhere
        # gets the page without the key.
        proxied = httpx.get(serve.base_url + "/", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
        assert proxied.status_code == 200
        assert "cody-demo-key" not in proxied.text and key not in proxied.text
    finally:
        serve.stop()
