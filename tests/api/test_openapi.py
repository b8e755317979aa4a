"""The OpenAPI document: generated from the routes, valid OpenAPI 3.1, every
route of the API in it; and its reference page, served from here."""
import re

from openapi_spec_validator import validate

from portal.api import problems


def test_the_document_is_valid_openapi_3_1(openapi_document):
    validate(openapi_document)
    assert openapi_document["openapi"] == "3.1.0"
    assert openapi_document["components"]["securitySchemes"]["api_key"] == {
        "type": "http", "scheme": "bearer", "description": "An API key: `ka_live_…`."}


def test_every_route_of_the_api_is_in_the_document(app, openapi_document):
    documented = {(path, method.upper()) for path, item in openapi_document["paths"].items() for method in item}
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    for path, item in openapi_document["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            assert {"400", "401", "403", "429"} <= set(answers), (method, path)
            assert answers["429"]["headers"]["Retry-After"]
            for code, answer in answers.items():
                media = set(answer.get("content", {}))
                assert media == ({problems.MEDIA_TYPE} if code[0] in "45" else {"application/json"}), (path, code)
    token = openapi_document["paths"]["/api/v1/profiles/{profile_id}/token"]["get"]
    assert token["responses"]["200"]["headers"]["Cache-Control"]
    assert {parameter["name"] for parameter in token["parameters"]} == {"profile_id", "min_valid_seconds",
                                                                        "force_refresh"}


def test_the_reference_page_is_rendered_here_without_a_cdn(client, openapi_document):
    answer = client.get("/api/docs")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    for path, item in openapi_document["paths"].items():
        for method, operation in item.items():
            assert f"{method.upper()} {path}" in html and f'id="{operation["operationId"]}"' in html
    for kind in problems.KINDS:
        assert f'id="problem-{kind}"' in html
    assert 'id="schema-Token"' in html and 'id="schema-Problem"' in html
    # Everything it loads comes from this server.
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_the_document_is_served_as_json(client, openapi_document):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    assert answer.get_json() == openapi_document
