// The 27 product categories, read from the API (the table lives in one Python module).

import { apiRequest } from "./api.js";

let categories = null;
let loading = null;

/**
 * Load the categories once: a Map from category code to French name, in the API's order.
 * Returns null when the API does not answer (the page then shows codes instead of names).
 */
export async function loadCategories() {
  if (categories) return categories;
  loading ??= apiRequest("/categories/")
    .then(({ data }) => {
      categories = new Map(data.map((category) => [category.category_id, category.name]));
      return categories;
    })
    .catch(() => null)
    .finally(() => {
      loading = null;
    });
  return loading;
}

/** Return the French name of a category code, or a neutral label when names are unknown. */
export function categoryName(code) {
  return categories?.get(Number(code)) ?? `Catégorie ${code}`;
}

/** Return all categories as [{ code, name }], sorted by French name then code (or null). */
export function sortedCategories() {
  if (!categories) return null;
  return [...categories]
    .map(([code, name]) => ({ code, name }))
    .sort((a, b) => a.name.localeCompare(b.name, "fr") || a.code - b.code);
}
