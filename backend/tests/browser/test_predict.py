"""Predict a real product, confirm its category, and the errors sellers can meet."""

import base64
import uuid

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Feedback, Prediction
from product_classifier.categories import CATEGORY_CODES, category_name
from tests.browser.live_api import LiveApi
from tests.browser.support import MOBILE, Credentials, OpenPage, SampleProduct
from tests.browser.ui import log_in, screenshot
from tests.helpers.images import image_bytes

# The first browser test also waits for the session's models to train and the API to load
# one (minutes on a busy 2-core machine): a larger cap than the suite's default.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

DUPLICATE_MESSAGE = (
    "Un retour a déjà été enregistré pour cette référence de produit avec cette version du "
    "modèle. Vérifiez la référence : c'est celle du produit décrit."
)


def _predict(page: Page) -> list[Locator]:
    """Send the form and wait for the five suggestions."""
    with page.expect_response("**/api/v1/predict/**") as answer:
        page.click("#predict-submit")
    assert answer.value.status == 200, answer.value.text()
    results = page.locator("#results .result")
    expect(results).to_have_count(5)
    return results.all()


def _shown_codes(results: list[Locator]) -> list[int]:
    return [int(result.get_attribute("data-category-id") or "") for result in results]


def _stored_prediction(page: Page, sessions: sessionmaker[Session]) -> Prediction:
    prediction_id = int(page.locator("#results-card").get_attribute("data-prediction-id") or "")
    with sessions() as session:
        stored = session.get(Prediction, prediction_id)
    assert stored is not None
    return stored


def _feedback_rows(sessions: sessionmaker[Session], product_id: int) -> list[Feedback]:
    with sessions() as session:
        return list(session.scalars(select(Feedback).where(Feedback.product_id == product_id)))


def _shown_percent(result: Locator) -> float:
    text = result.locator(".result-percent").inner_text()
    return float(text.replace("\u00a0%", "").replace(",", "."))


def test_predict_a_real_product_then_confirm_a_suggestion(
    open_page: OpenPage,
    seller_credentials: Credentials,
    sample_products: list[SampleProduct],
    browser_sessions: sessionmaker[Session],
) -> None:
    product = sample_products[0]
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", product.designation)
    page.fill("#description", product.description)
    page.set_input_files("#image-input", product.image_path)
    expect(page.locator("#image-preview")).to_be_visible()
    expect(page.locator("#image-name")).to_contain_text(product.image_path.name)
    page.wait_for_function("document.getElementById('image-preview').naturalWidth > 0")
    page.fill("#product-id", str(product.product_id))
    results = _predict(page)

    # What the page shows is what the API stored: same categories, in order, same numbers.
    stored = _stored_prediction(page, browser_sessions)
    assert stored.user_id == seller_credentials.id
    assert stored.designation == product.designation
    assert stored.image_size_bytes == product.image_path.stat().st_size
    assert (stored.image_width, stored.image_height) == (500, 500)
    codes = _shown_codes(results)
    assert codes == [entry["category_id"] for entry in stored.results][:5]
    expect(page.locator("#results-card")).to_have_attribute(
        "data-model-version", stored.model_version
    )
    expect(page.locator("#results-model")).to_contain_text(
        f"Modèle « {stored.model_name} », version {stored.model_version}"
    )
    for result, entry in zip(results, stored.results, strict=False):
        expect(result.locator(".result-name")).to_contain_text(
            f"{category_name(entry['category_id'])} ({entry['category_id']})"
        )
        assert _shown_percent(result) == pytest.approx(entry["probabilities"], abs=0.051)
        width = result.locator(".bar-fill").evaluate("bar => parseFloat(bar.style.width)")
        assert width == pytest.approx(entry["probabilities"], abs=1e-3)
    percents = [_shown_percent(result) for result in results]
    assert percents == sorted(percents, reverse=True)
    screenshot(page, "predict-results")

    # The seller picks the second suggestion and confirms it.
    expect(page.locator("#confirm")).to_be_disabled()
    results[1].click()
    expect(results[1]).to_have_attribute("aria-pressed", "true")
    expect(results[0]).to_have_attribute("aria-pressed", "false")
    with page.expect_response("**/api/v1/feedback/") as answer:
        page.click("#confirm")
    assert answer.value.status == 201
    expect(page.locator("#feedback-message")).to_have_text(
        f"Merci ! La catégorie « {category_name(codes[1])} » est enregistrée pour le produit "
        f"n° {product.product_id}."
    )
    expect(page.locator("#confirm")).to_be_disabled()
    screenshot(page, "predict-confirmed")

    (feedback,) = _feedback_rows(browser_sessions, product.product_id)
    assert feedback.real_category_id == codes[1]
    assert feedback.pred_category_id == codes[0]
    assert feedback.model_version == stored.model_version
    assert feedback.prediction_id == stored.id
    assert feedback.user_id == seller_credentials.id

    # The same product and model version cannot be confirmed twice: said in plain words.
    page.click("#new-product")
    expect(page.locator("#results-card")).to_be_hidden()
    expect(page.locator("#dropzone-empty")).to_be_visible()
    page.fill("#designation", product.designation)
    page.fill("#product-id", str(product.product_id))
    results = _predict(page)
    results[0].click()
    with page.expect_response("**/api/v1/feedback/") as answer:
        page.click("#confirm")
    assert answer.value.status == 400
    expect(page.locator("#feedback-message .alert-text")).to_have_text(DUPLICATE_MESSAGE)
    assert len(_feedback_rows(browser_sessions, product.product_id)) == 1
    screenshot(page, "predict-duplicate-feedback")


def test_drop_a_photo_and_pick_another_category_on_a_phone(
    open_page: OpenPage,
    seller_credentials: Credentials,
    sample_products: list[SampleProduct],
    browser_sessions: sessionmaker[Session],
) -> None:
    product = sample_products[1]
    page = open_page(viewport=MOBILE)
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", product.designation)
    page.evaluate(
        """({ name, data }) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            const zone = document.getElementById("dropzone");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(
                    new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true })
                );
            }
        }""",
        {
            "name": product.image_path.name,
            "data": base64.b64encode(product.image_path.read_bytes()).decode(),
        },
    )
    expect(page.locator("#image-name")).to_contain_text(product.image_path.name)
    page.wait_for_function("document.getElementById('image-preview').naturalWidth > 0")
    codes = _shown_codes(_predict(page))
    stored = _stored_prediction(page, browser_sessions)
    assert stored.image_sha256 is not None

    # The full list holds the 27 categories with their French names.
    options = page.locator("#other-category option[value]:not([value=''])")
    expect(options).to_have_count(len(CATEGORY_CODES))
    listed = {int(value) for value in options.evaluate_all("nodes => nodes.map(n => n.value)")}
    assert listed == set(CATEGORY_CODES)
    other = next(code for code in CATEGORY_CODES if code not in codes)
    expect(page.locator(f"#other-category option[value='{other}']")).to_have_text(
        f"{category_name(other)} ({other})"
    )
    page.select_option("#other-category", str(other))
    expect(page.locator("#results .result[aria-pressed='true']")).to_have_count(0)
    # The reference may be typed after the prediction, before the choice is filed.
    page.fill("#product-id", str(product.product_id))
    with page.expect_response("**/api/v1/feedback/") as answer:
        page.click("#confirm")
    assert answer.value.status == 201
    expect(page.locator("#feedback-message")).to_contain_text(category_name(other))
    screenshot(page, "predict-other-category-mobile")

    (feedback,) = _feedback_rows(browser_sessions, product.product_id)
    assert feedback.prediction_id == stored.id
    assert (feedback.real_category_id, feedback.pred_category_id) == (other, codes[0])


def test_refused_images_and_empty_form_are_explained(
    open_page: OpenPage, seller_credentials: Credentials
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    message = page.locator("#predict-message")

    page.click("#predict-submit")
    expect(message).to_have_text("Renseignez au moins la désignation, la description ou une photo.")

    page.fill("#designation", "Lampe de chevet en laiton")
    cases = [
        ("photo.png", image_bytes(fmt="PNG"), "image/png", "La photo doit être un fichier JPEG"),
        ("photo.png", image_bytes(), "image/png", "ne correspond pas à son contenu"),
        ("photo.jpg", image_bytes(fmt="PNG"), "image/jpeg", "Cette photo n'a pas pu être lue"),
        ("gris.jpg", image_bytes(mode="L"), "image/jpeg", "Cette photo n'a pas pu être lue"),
        ("vide.jpg", b"", "image/jpeg", "Cette photo est un fichier vide"),
    ]
    for name, data, mime_type, expected in cases:
        page.set_input_files("#image-input", {"name": name, "mimeType": mime_type, "buffer": data})
        with page.expect_response("**/api/v1/predict/**") as answer:
            page.click("#predict-submit")
        assert answer.value.status == 400, name
        detail = answer.value.json()["detail"]
        expect(message.locator(".alert-text")).to_contain_text(expected)
        expect(message.locator(".detail")).to_have_text(f"Message du serveur : {detail}")
        expect(page.locator("#results-card")).to_be_hidden()
    screenshot(page, "predict-bad-image")

    # Another photo: the error about the previous one goes away, for a new file or none.
    page.set_input_files(
        "#image-input", {"name": "ok.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}
    )
    expect(message).to_be_hidden()
    page.click("#predict-submit")
    expect(page.locator("#results-card")).to_be_visible()
    page.set_input_files(
        "#image-input",
        {"name": "gris.jpg", "mimeType": "image/jpeg", "buffer": image_bytes(mode="L")},
    )
    page.click("#predict-submit")
    expect(message.locator(".alert-text")).to_contain_text("Cette photo n'a pas pu être lue")
    page.click("#image-remove")
    expect(message).to_be_hidden()


REFERENCE_ERROR = (
    "La référence du produit doit être un nombre entier positif d'au plus 19 chiffres "
    "(9223372036854775807 au plus)."
)


@pytest.mark.parametrize(
    ("reference", "accepted"),
    [("9" * 15, True), (str(2**63 - 1), True), (str(2**63), False), ("1" * 20, False)],
)
def test_product_reference_limit_is_said(
    open_page: OpenPage, seller_credentials: Credentials, reference: str, accepted: bool
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    expect(page.locator("label", has_text="Référence du produit")).to_contain_text(
        "19 chiffres au plus"
    )
    page.fill("#designation", "Cahier grand format 96 pages")
    page.fill("#product-id", reference)
    page.click("#predict-submit")
    message = page.locator("#predict-message")
    if accepted:
        expect(page.locator("#results-card")).to_be_visible()
        expect(message).to_be_hidden()
    else:
        expect(message).to_have_text(REFERENCE_ERROR)
        expect(page.locator("#results-card")).to_be_hidden()


def test_a_19_digit_reference_is_filed_exactly(
    open_page: OpenPage, seller_credentials: Credentials, browser_sessions: sessionmaker[Session]
) -> None:
    # 2^63 - 1 and its neighbours are not JavaScript numbers: a Number() would file 2^63.
    reference = 2**63 - 1 - uuid.uuid4().int % 10**6
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", "Cahier grand format 96 pages")
    page.fill("#product-id", str(reference))
    results = _predict(page)
    results[0].click()
    with page.expect_response("**/api/v1/feedback/") as answer:
        page.click("#confirm")
    assert answer.value.status == 201, answer.value.text()
    expect(page.locator("#feedback-message")).to_contain_text(f"n° {reference}.")
    (feedback,) = _feedback_rows(browser_sessions, reference)
    assert feedback.product_id == reference


def test_every_category_has_a_name_of_its_own(
    open_page: OpenPage, seller_credentials: Credentials
) -> None:
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", "Roman policier de poche")
    page.click("#predict-submit")
    options = page.locator("#other-category option[value]:not([value=''])")
    expect(options).to_have_count(len(CATEGORY_CODES))
    names = [text.rsplit(" (", 1)[0] for text in options.all_inner_texts()]
    assert len(set(names)) == len(names), f"two categories share a name: {sorted(names)}"
    assert "Livre d'occasion" in names
    assert "Livre neuf" in names


def test_no_model_yet_is_explained(
    open_page: OpenPage, live_api_without_model: LiveApi, seller_credentials: Credentials
) -> None:
    page = open_page(api=live_api_without_model)
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", "Coffret 3 romans policiers")
    with page.expect_response("**/api/v1/predict/**") as answer:
        page.click("#predict-submit")
    assert answer.value.status == 503
    expect(page.locator("#predict-message .alert-text")).to_have_text(
        "Aucun modèle n'est encore disponible pour prédire. Un data scientist doit entraîner un "
        "modèle et lui donner l'alias « production » ; réessayez ensuite."
    )
    screenshot(page, "predict-no-model")


def test_confirming_without_a_product_reference_asks_for_it(
    open_page: OpenPage,
    seller_credentials: Credentials,
    sample_products: list[SampleProduct],
    browser_sessions: sessionmaker[Session],
) -> None:
    product = sample_products[2]
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    page.fill("#designation", product.designation)
    results = _predict(page)
    stored = _stored_prediction(page, browser_sessions)
    results[0].click()
    feedback_posts: list[str] = []
    page.on(
        "request",
        lambda request: feedback_posts.append(request.url) if "/feedback" in request.url else None,
    )
    page.click("#confirm")
    expect(page.locator("#feedback-message")).to_have_text(
        "Indiquez la référence du produit (ci-dessus) pour enregistrer votre choix."
    )
    expect(page.locator("#product-id")).to_be_focused()
    assert feedback_posts == []  # no made-up product id is sent (it could be another product's)
    with browser_sessions() as session:
        filed = session.scalars(select(Feedback).where(Feedback.prediction_id == stored.id))
        assert list(filed) == []

    # With the reference, the same prediction is confirmed under it.
    page.fill("#product-id", str(product.product_id))
    with page.expect_response("**/api/v1/feedback/") as answer:
        page.click("#confirm")
    assert answer.value.status == 201, answer.value.text()
    (feedback,) = _feedback_rows(browser_sessions, product.product_id)
    assert feedback.prediction_id == stored.id


def test_suggestions_go_once_the_product_changes_or_is_refused(
    open_page: OpenPage, seller_credentials: Credentials, sample_products: list[SampleProduct]
) -> None:
    """A choice is never filed for a product other than the one the suggestions are for."""
    product = sample_products[-1]
    page = open_page()
    log_in(page, seller_credentials.email, seller_credentials.password)
    card = page.locator("#results-card")
    page.fill("#designation", product.designation)
    _predict(page)
    # Refused by the page's own checks: the previous suggestions do not stay behind.
    page.fill("#designation", "   ")
    page.click("#predict-submit")
    expect(page.locator("#predict-message")).to_contain_text("Renseignez au moins")
    expect(card).to_be_hidden()
    page.fill("#designation", product.designation)
    _predict(page)
    page.fill("#product-id", "12a")
    page.click("#predict-submit")
    expect(page.locator("#predict-message")).to_have_text(REFERENCE_ERROR)
    expect(card).to_be_hidden()
    # Edited text, or another photo, after a prediction: its suggestions go too.
    page.fill("#product-id", "")
    _predict(page)
    page.fill("#description", "Une autre description")
    expect(card).to_be_hidden()
    _predict(page)
    page.set_input_files(
        "#image-input", {"name": "ok.jpg", "mimeType": "image/jpeg", "buffer": image_bytes()}
    )
    expect(card).to_be_hidden()
