// Prediction view: describe a product, see the 5 most likely categories, confirm the right one.

import { apiRequest } from "../api.js";
import { categoryName, loadCategories, sortedCategories } from "../categories.js";
import { byId, el, formatBytes, formatPercent, hideAlert, setBusy, showAlert } from "../dom.js";
import { describeError } from "../errors.js";

export const title = "Prédire une catégorie";

const TOP_COUNT = 5;
// What the API accepts as a product reference: product_id, a whole number from 0 to 2^63 - 1
// (beyond 2^53 a JavaScript number is not exact: it travels as a BigInt).
const PRODUCT_REF = /^\d{1,19}$/;
const PRODUCT_REF_MAX = 9223372036854775807n;
const PRODUCT_REF_ERROR =
  "La référence du produit doit être un nombre entier positif d'au plus 19 chiffres " +
  "(9223372036854775807 au plus).";

function validProductRef(text) {
  return PRODUCT_REF.test(text) && BigInt(text) <= PRODUCT_REF_MAX;
}
const PRODUCT_REF_NEEDED =
  "Indiquez la référence du produit (ci-dessus) pour enregistrer votre choix.";

let imageFile = null;
let previewUrl = null;
// The last prediction: { id, modelName, modelVersion, results }.
let prediction = null;
let selectedCode = null;
let feedbackSent = false;

// ---------------------------------------------------------------- image drop zone

function setImage(file) {
  // A new photo (or none): an error about the previous one, and its suggestions, no longer apply.
  if (file !== imageFile) {
    hideAlert(byId("predict-message"));
    productChanged();
  }
  imageFile = file ?? null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  const preview = byId("image-preview");
  if (imageFile) {
    const isImage = imageFile.type.startsWith("image/");
    if (isImage) previewUrl = URL.createObjectURL(imageFile);
    preview.hidden = !isImage;
    preview.src = previewUrl ?? "";
    byId("image-name").textContent = `${imageFile.name} (${formatBytes(imageFile.size)})`;
  } else {
    preview.removeAttribute("src");
    byId("image-input").value = "";
  }
  byId("dropzone-empty").hidden = Boolean(imageFile);
  byId("dropzone-preview").hidden = !imageFile;
}

function wireDropzone() {
  const zone = byId("dropzone");
  const input = byId("image-input");
  zone.addEventListener("click", (event) => {
    if (event.target === input || event.target.closest("#image-remove")) return;
    input.click();
  });
  zone.addEventListener("keydown", (event) => {
    if (event.target === zone && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      input.click();
    }
  });
  input.addEventListener("change", () => setImage(input.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer?.files?.[0];
    if (file) setImage(file);
  });
  byId("image-remove").addEventListener("click", () => setImage(null));
}

// ---------------------------------------------------------------- results and choice

function fillCategoryChoices() {
  const select = byId("other-category");
  const codeInput = byId("other-category-code");
  const categories = sortedCategories();
  select.hidden = !categories;
  codeInput.hidden = Boolean(categories);
  if (!categories || select.options.length > 1) return;
  for (const { code, name } of categories) {
    select.append(el("option", { value: String(code) }, `${name} (${code})`));
  }
}

function updateChoice() {
  for (const button of document.querySelectorAll("#results .result")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.categoryId) === selectedCode));
    button.disabled = feedbackSent;
  }
  const select = byId("other-category");
  const inTop = prediction?.results.some((result) => result.category_id === selectedCode);
  select.value = selectedCode !== null && !inTop ? String(selectedCode) : "";
  select.disabled = feedbackSent;
  byId("other-category-code").disabled = feedbackSent;
  byId("confirm").disabled = feedbackSent || selectedCode === null;
}

function choose(code) {
  selectedCode = code;
  hideAlert(byId("feedback-message"));
  updateChoice();
}

function renderResults() {
  const list = byId("results");
  list.replaceChildren(
    ...prediction.results.map((result, index) => {
      const percent = Math.max(0, Math.min(100, result.probabilities));
      const button = el(
        "button",
        {
          type: "button",
          className: "result",
          dataset: { categoryId: result.category_id, probability: result.probabilities },
          "aria-pressed": "false",
        },
        el("span", { className: "result-rank" }, String(index + 1)),
        el(
          "span",
          { className: "result-name" },
          categoryName(result.category_id),
          " ",
          el("span", { className: "result-code" }, `(${result.category_id})`),
        ),
        el("span", { className: "result-percent" }, formatPercent(result.probabilities)),
        el(
          "span",
          { className: "bar", "aria-hidden": "true" },
          el("span", { className: "bar-fill", style: `width: ${percent}%` }),
        ),
      );
      button.addEventListener("click", () => choose(result.category_id));
      return el("li", {}, button);
    }),
  );
  const model = prediction.modelName
    ? `Modèle « ${prediction.modelName} », version ${prediction.modelVersion ?? "?"}`
    : "";
  byId("results-model").textContent = prediction.id
    ? `${model} · prédiction n° ${prediction.id}`
    : model;
  const card = byId("results-card");
  card.dataset.predictionId = prediction.id ?? "";
  card.dataset.modelVersion = prediction.modelVersion ?? "";
  card.hidden = false;
  updateChoice();
}

// The suggestions shown belong to the product as it was sent: once its text or photo changes,
// they go, so that a choice is never filed for a product other than the one predicted.
function productChanged() {
  if (prediction) resetResults();
}

function resetResults() {
  prediction = null;
  selectedCode = null;
  feedbackSent = false;
  byId("results").replaceChildren();
  byId("results-card").hidden = true;
  byId("other-category").value = "";
  byId("other-category-code").value = "";
  hideAlert(byId("feedback-message"));
}

// ---------------------------------------------------------------- API calls

async function predict(event) {
  event.preventDefault();
  const message = byId("predict-message");
  const designation = byId("designation").value.trim();
  const description = byId("description").value.trim();
  const productRef = byId("product-id").value.trim();
  // Whatever happens next, the previous product's suggestions no longer apply.
  resetResults();
  if (!designation && !description && !imageFile) {
    showAlert(message, "error", "Renseignez au moins la désignation, la description ou une photo.");
    return;
  }
  if (productRef && !validProductRef(productRef)) {
    showAlert(message, "error", PRODUCT_REF_ERROR);
    return;
  }
  hideAlert(message);
  const button = byId("predict-submit");
  setBusy(button, true);
  try {
    // The texts travel in the body (a URL cannot hold a long description): form fields beside
    // the photo, or JSON without one.
    const request = { method: "POST", query: { limit: TOP_COUNT } };
    if (imageFile) {
      request.body = new FormData();
      request.body.append("designation", designation);
      request.body.append("description", description);
      request.body.append("image", imageFile, imageFile.name);
    } else {
      request.json = { designation, description };
    }
    const { data, headers } = await apiRequest("/predict/", request);
    const predictionId = headers.get("X-Prediction-Id");
    prediction = {
      id: predictionId ? Number(predictionId) : null,
      modelName: headers.get("X-Model-Name"),
      modelVersion: headers.get("X-Model-Version"),
      results: data.slice(0, TOP_COUNT),
    };
    renderResults();
    // On a phone the suggestions sit below the form: bring them into view.
    if (window.matchMedia("(max-width: 900px)").matches) {
      byId("results-card").scrollIntoView({ behavior: "smooth", block: "start" });
    }
  } catch (error) {
    const { message: text, detail } = describeError(error);
    showAlert(message, "error", text, detail);
  } finally {
    setBusy(button, false);
  }
}

async function confirm() {
  const message = byId("feedback-message");
  if (!prediction || selectedCode === null) return;
  const productRef = byId("product-id").value.trim();
  if (productRef && !validProductRef(productRef)) {
    showAlert(message, "error", PRODUCT_REF_ERROR);
    return;
  }
  // Feedback is kept per product: without its reference there is nothing to file it under
  // (an id made up here could be another product's).
  if (!productRef) {
    showAlert(message, "error", PRODUCT_REF_NEEDED);
    byId("product-id").focus();
    return;
  }
  const productId = BigInt(productRef);
  const button = byId("confirm");
  setBusy(button, true);
  try {
    await apiRequest("/feedback/", {
      method: "POST",
      json: {
        product_id: productId,
        model_version: prediction.modelVersion,
        real_category_id: selectedCode,
        pred_category_id: prediction.results[0].category_id,
        prediction_id: prediction.id,
      },
    });
    feedbackSent = true;
    showAlert(
      message,
      "success",
      `Merci ! La catégorie « ${categoryName(selectedCode)} » est enregistrée pour le produit n° ${productId}.`,
    );
  } catch (error) {
    const { message: text, detail } = describeError(error);
    showAlert(message, "error", text, detail);
  } finally {
    setBusy(button, false);
    updateChoice();
  }
}

/** Empty the form and the suggestions (a new product, or another user signing in). */
export function reset() {
  byId("predict-form").reset();
  setImage(null);
  resetResults();
  hideAlert(byId("predict-message"));
}

function newProduct() {
  reset();
  byId("designation").focus();
}

/** Wire the form, the drop zone and the choice controls once. */
export function init() {
  wireDropzone();
  byId("predict-form").addEventListener("submit", predict);
  byId("confirm").addEventListener("click", confirm);
  byId("new-product").addEventListener("click", newProduct);
  for (const id of ["designation", "description"]) {
    byId(id).addEventListener("input", productChanged);
  }
  byId("other-category").addEventListener("change", (event) => {
    choose(event.target.value ? Number(event.target.value) : null);
  });
  byId("other-category-code").addEventListener("input", (event) => {
    const value = event.target.value.trim();
    choose(/^\d+$/.test(value) ? Number(value) : null);
  });
}

/** Show the view (the category names are loaded the first time). */
export async function show() {
  hideAlert(byId("predict-message"));
  await loadCategories();
  fillCategoryChoices();
  if (prediction) renderResults();
}
