"""`cody serve --demo` hands the demo's key to the web page, so the demo signs in by itself."""

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
    finally:
        serve.stop()
