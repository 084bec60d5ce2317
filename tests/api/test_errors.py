"""Error shapes over HTTP: unexpected failures are a JSON 500 that closes the connection cleanly."""

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from tests.api.server import running_server
from tests.live import http_client


@pytest.fixture
def boom_server(db_url: str, factory):
    app = create_app(ApiSettings(database_url=db_url), factory)

    def boom() -> dict:
        raise RuntimeError("secret detail that must not reach the client")

    app.add_api_route("/boom", boom, methods=["GET"])
    with running_server(app) as base_url:
        yield base_url


def test_unexpected_error_is_json_500_and_the_client_can_go_on(boom_server: str) -> None:
    with http_client(base_url=boom_server, timeout=30) as client:
        for _ in range(5):
            response = client.get("/boom")
            assert response.status_code == 500
            assert response.json() == {"error": "Internal server error."}
            assert "secret detail" not in response.text
            # uvicorn drops the connection after an unhandled error; the response must say so, or a keep-alive
            # client sends its next request down a dead socket.
            assert response.headers.get("connection", "").lower() == "close"
            assert client.get("/healthz").status_code == 200


def test_unknown_route_is_json_404(anon: httpx.Client) -> None:
    response = anon.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}
