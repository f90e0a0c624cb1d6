"""A wrong method on an API path is a 405 naming the path's methods, not the web page's files.

The web page is mounted at ``/`` behind the API (:mod:`app.api.frontend_files`), so it sees
every request no API route takes in full, wrong methods on API paths included.
"""

import pytest


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/login/access-token", "POST"),
        ("GET", "/api/v1/login/access-token", "POST"),
        ("DELETE", "/api/v1/users/5", "GET, PUT"),
        ("PATCH", "/api/v1/users/me", "GET, PUT"),
        ("GET", "/api/v1/users/open", "POST"),
        ("DELETE", "/api/v1/users/open", "POST"),
        ("PUT", "/api/v1/predict/", "POST"),
        ("DELETE", "/api/v1/predictions/1/image", "GET"),
        ("HEAD", "/api/v1/categories/", "GET"),
        ("HEAD", "/metrics", "GET"),
        ("POST", "/api/v1/feedback/stats", "GET"),
    ],
)
def test_a_wrong_method_is_a_405_with_the_paths_methods(client, method, path, allowed):
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method != "HEAD":
        assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/", 200), ("HEAD", "/", 200)])
def test_the_web_page_is_still_served(client, method, path, status):
    assert client.request(method, path).status_code == status


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_an_unknown_api_path_is_the_apis_json_404_for_every_method(client, method):
    response = client.request(method, "/api/v1/nope")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/abc",
        "/api/v1/users/-1",
        "/api/v1/predictions/1.0",
        "/api/v1/predictions/x/image",
    ],
)
def test_an_id_that_is_not_a_whole_number_is_no_path_of_the_api(client, path):
    response = client.get(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_the_published_paths_name_their_ids_without_convertors(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/users/{user_id}", "/api/v1/predictions/{prediction_id}/image"} <= set(paths)
    assert not [path for path in paths if ":" in path]


@pytest.mark.parametrize(
    ("method", "path", "right"),
    [
        ("POST", "/api/v1/predict", "/api/v1/predict/"),
        ("POST", "/api/v1/feedback", "/api/v1/feedback/"),
        ("GET", "/api/v1/categories", "/api/v1/categories/"),
        ("POST", "/api/v1/predict/batch/", "/api/v1/predict/batch"),
    ],
)
def test_a_path_missing_or_adding_its_final_slash_is_named(client, method, path, right):
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"detail": f"Not Found: the API's path is {right}"}


def test_a_missing_page_file_is_still_a_404(client):
    assert client.get("/nope.html").status_code == 404
