/*
 * ReDoc, fully offline. ReDoc 2 draws an "API docs by Redocly" badge whose image it
 * loads from cdn.redoc.ly, and has no option to turn that off. This runs before ReDoc
 * and points any image on another host at an empty data: URL instead; the image then
 * fails to decode and ReDoc drops it (its onError handler), so the page asks no other
 * host for anything.
 */
(() => {
  "use strict";

  const EMPTY = "data:,";
  const isForeign = (value) => {
    try {
      return new URL(String(value), document.baseURI).origin !== window.location.origin
        && /^https?:/i.test(String(value));
    } catch {
      return false;
    }
  };

  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function setAttributeOffline(name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && isForeign(value)) {
      return setAttribute.call(this, name, EMPTY);
    }
    return setAttribute.call(this, name, value);
  };

  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, isForeign(value) ? EMPTY : value);
    },
  });
})();
