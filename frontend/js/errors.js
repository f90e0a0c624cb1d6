// Turn API errors into plain French sentences for the people using the page.

/** An error answered by the API (or a network failure, with status 0). */
export class ApiError extends Error {
  /** retryAfter: seconds of the answer's Retry-After header (a number), or null. */
  constructor(status, detail, retryAfter = null) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** "dans 45 secondes", "dans 2 minutes" (rounded up); "dans quelques minutes" if unknown. */
function waitInFrench(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return "dans quelques minutes";
  if (seconds < 60) return seconds === 1 ? "dans 1 seconde" : `dans ${seconds} secondes`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "dans 1 minute" : `dans ${minutes} minutes`;
}

// Known server messages (the original project's wording), matched case-insensitively.
const KNOWN_MESSAGES = [
  [
    "invalid image extension",
    "La photo doit être un fichier JPEG (extension .jpg ou .jpeg). Choisissez une autre photo.",
  ],
  [
    "image format mismatch",
    "Le nom ou le type de cette photo ne correspond pas à son contenu, une image JPEG : " +
      "renommez-la en .jpg ou .jpeg, ou choisissez une autre photo.",
  ],
  [
    "empty image",
    "Cette photo est un fichier vide (0 octet) : choisissez une autre photo.",
  ],
  [
    "invalid image format",
    "Cette photo n'a pas pu être lue : il faut une image JPEG en couleur. Choisissez une autre photo.",
  ],
  ["invalid value for limit", "Le nombre de catégories demandé n'est pas valide."],
  [
    "must provide either designation/description or an image",
    "Renseignez au moins la désignation, la description ou une photo.",
  ],
  ["incorrect email or password", "Adresse e-mail ou mot de passe incorrect."],
  ["inactive user", "Ce compte est désactivé. Contactez un administrateur."],
  ["enough privileges", "Cette page est réservée aux administrateurs."],
  ["not authenticated", "Vous n'êtes pas connecté. Connectez-vous pour continuer."],
  ["could not validate credentials", "Votre session n'est plus valide. Reconnectez-vous."],
  [
    "feedback with this product id already exists",
    "Un retour a déjà été enregistré pour cette référence de produit avec cette version du modèle. " +
      "Vérifiez la référence : c'est celle du produit décrit.",
  ],
  ["prediction not found", "Cette prédiction est introuvable. Relancez la prédiction."],
  ["designation is too long", "La désignation est trop longue : raccourcissez-la."],
  ["description is too long", "La description est trop longue : raccourcissez-la."],
  ["image too large", "La photo est trop lourde ou trop grande. Choisissez une image plus légère."],
  ["images too large", "Les photos sont trop grandes. Choisissez des images plus légères."],
  [
    "nul character",
    "Le texte contient un caractère invalide (NUL). Retirez-le puis réessayez.",
  ],
  [
    "not valid utf-8",
    "Le texte contient des caractères invalides. Retapez-le puis réessayez.",
  ],
  [
    "lone utf-16 surrogate",
    "Le texte contient des caractères invalides. Retapez-le puis réessayez.",
  ],
  [
    "feedback already exists for this prediction",
    "Un retour a déjà été enregistré pour cette prédiction.",
  ],
  ["malformed multipart body", "L'envoi de la photo a été interrompu. Réessayez."],
  [
    "reads only designation and description",
    "Le modèle en service ne lit que la désignation et la description : renseignez-en au moins une.",
  ],
  ["reads only the image", "Le modèle en service ne lit que la photo : ajoutez-en une."],
];

/** The French sentence for a known server message, or null. */
function knownMessage(text) {
  const lower = text.toLowerCase();
  for (const [needle, message] of KNOWN_MESSAGES) {
    if (lower.includes(needle)) return message;
  }
  return null;
}

// Field names as the API spells them → as a French seller reads them.
const FIELD_NAMES = {
  designation: "la désignation",
  description: "la description",
  image: "la photo",
  limit: "le nombre de catégories",
  username: "l'adresse e-mail",
  password: "le mot de passe",
  product_id: "la référence du produit",
  model_version: "la version du modèle",
  real_category_id: "la catégorie choisie",
  pred_category_id: "la catégorie prédite",
  prediction_id: "le numéro de prédiction",
};

// The fields whose French name is feminine ("trop longue").
const FEMININE_FIELDS = new Set([
  "designation",
  "description",
  "image",
  "username",
  "product_id",
  "model_version",
  "real_category_id",
  "pred_category_id",
]);

function tooLong(field, name) {
  return `${name} est trop ${FEMININE_FIELDS.has(field) ? "longue" : "long"}`;
}

function describeValidationErrors(errors) {
  const parts = errors.map((error) => {
    const field = Array.isArray(error.loc) ? error.loc[error.loc.length - 1] : "";
    const name = FIELD_NAMES[field] ?? `le champ « ${field} »`;
    if (String(error.type).includes("too_long")) return tooLong(field, name);
    if (String(error.type).includes("missing")) return `${name} est obligatoire`;
    return `${name} n'est pas valide`;
  });
  const unique = [...new Set(parts)];
  const sentence = unique.join(", ");
  return `Vérifiez le formulaire : ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}.`;
}

/**
 * Return { message, detail } for an error: message in plain French, detail the server's own
 * words when they help (shown small, for support), or null.
 */
export function describeError(error) {
  if (!(error instanceof ApiError)) {
    return {
      message: "Une erreur inattendue est survenue. Rechargez la page.",
      detail: String(error),
    };
  }
  const { status, detail } = error;
  const text = typeof detail === "string" ? detail : null;
  if (status === 0) {
    return {
      message: "Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.",
      detail: null,
    };
  }
  const known = text ? knownMessage(text) : null;
  if (known) return { message: known, detail: text };
  if (status === 422 && Array.isArray(detail)) {
    // One error the API explains in words (a text too long, an invalid character): say it.
    const words = detail.length === 1 ? String(detail[0]?.msg ?? "") : "";
    const explained = words ? knownMessage(words) : null;
    if (explained) return { message: explained, detail: words };
    return { message: describeValidationErrors(detail), detail: null };
  }
  if (status === 401) {
    return { message: "Vous n'êtes pas connecté. Connectez-vous pour continuer.", detail: text };
  }
  if (status === 403) {
    return { message: "Vous n'avez pas le droit de faire cette action.", detail: text };
  }
  if (status === 429) {
    return {
      message:
        "Trop de tentatives de connexion échouées pour ce compte ou depuis cette adresse. " +
        `Réessayez ${waitInFrench(error.retryAfter)}.`,
      detail: text,
    };
  }
  if (status === 413) {
    return {
      message: "La photo est trop lourde ou trop grande. Choisissez une image plus légère.",
      detail: text,
    };
  }
  if (status === 503) {
    return {
      message:
        "Aucun modèle n'est encore disponible pour prédire. Un data scientist doit entraîner un " +
        "modèle et lui donner l'alias « production » ; réessayez ensuite.",
      detail: text,
    };
  }
  if (status >= 500) {
    return {
      message: `Le serveur a rencontré une erreur (code ${status}). Réessayez dans un instant.`,
      detail: text,
    };
  }
  return { message: `La demande a été refusée (code ${status}).`, detail: text };
}
