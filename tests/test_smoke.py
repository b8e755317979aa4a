from tests import factories


def test_sign_in_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in" in response.get_data(as_text=True)


def test_owner_signs_in_and_sees_overview(client, auth, session):
    org = factories.organization(session, name="Northwind Agency")
    factories.member(session, org, role="owner", email="owner@example.test")
    response = auth.login("owner@example.test")
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Northwind Agency" in page
