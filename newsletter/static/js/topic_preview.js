// The topic page's live preview follows the categories and keywords as they are typed, unsaved.
// The server renders the preview (escaped HTML); this only asks for it and puts it in place.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".pm-topic-preview[data-preview-url]");
  const form = box && box.closest("form");
  if (!form) return;
  const names = ["categories", "include_keywords", "exclude_keywords"];
  const fields = names.map((name) => form.elements.namedItem(name)).filter(Boolean);
  let pending = null;
  let timer = 0;

  async function refresh() {
    const url = new URL(box.dataset.previewUrl, window.location.href);
    for (const field of fields) url.searchParams.set(field.name, field.value);
    if (pending) pending.abort();
    pending = new AbortController();
    box.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, { credentials: "same-origin", signal: pending.signal });
      box.innerHTML = await response.text();
    } catch (error) {
      if (error.name !== "AbortError") box.textContent = "The preview could not be loaded.";
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  const button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = "Preview without saving";
  button.addEventListener("click", refresh);
  box.before(button);

  for (const field of fields) {
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }
});
