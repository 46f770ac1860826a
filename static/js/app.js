/*
 * copapp progressive enhancements. Every page works without this file; it only smooths a few edges.
 * Loaded with `defer` from templates/base.html. No inline scripts anywhere (Content-Security-Policy).
 *
 * 1. Main menu (<details class="site-menu">): open on wide screens, closed on phones; Escape closes it.
 *    (Browsers that support ::details-content already show the wide-screen menu through CSS alone.)
 * 2. <form data-confirm="Question?"> and <button data-confirm="Question?">: ask before submitting.
 *    For htmx requests use htmx's own hx-confirm attribute instead.
 * 3. .tabs that scroll sideways on a phone: bring the current tab (aria-current) into view.
 * 4. Account menu (<details class="account-menu">): Escape or a click elsewhere closes it.
 */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 64rem)");

  function menus() {
    return document.querySelectorAll("details.site-menu");
  }

  function syncMenus() {
    var list = menus();
    for (var i = 0; i < list.length; i++) {
      list[i].open = wide.matches;
    }
  }

  function onKeydown(event) {
    if (event.key !== "Escape" || wide.matches) {
      return;
    }
    var list = menus();
    for (var i = 0; i < list.length; i++) {
      if (list[i].open) {
        list[i].open = false;
        var summary = list[i].querySelector("summary");
        if (summary) {
          summary.focus();
        }
      }
    }
  }

  function closeAccountMenus(except) {
    var list = document.querySelectorAll("details.account-menu[open]");
    for (var i = 0; i < list.length; i++) {
      if (list[i] !== except) {
        list[i].open = false;
      }
    }
    return list.length;
  }

  function closeAccountMenuOnEscape(event) {
    if (event.key !== "Escape") {
      return;
    }
    var open = document.querySelector("details.account-menu[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  }

  function closeAccountMenuOutside(event) {
    var inside = event.target.closest ? event.target.closest("details.account-menu") : null;
    closeAccountMenus(inside);
  }

  function onSubmit(event) {
    var form = event.target;
    var submitter = event.submitter;
    var question =
      (submitter && submitter.getAttribute("data-confirm")) || (form && form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }

  function revealCurrentTabs() {
    var tabs = document.querySelectorAll(".tabs");
    for (var i = 0; i < tabs.length; i++) {
      var bar = tabs[i];
      var current = bar.querySelector("[aria-current]");
      if (!current || bar.scrollWidth <= bar.clientWidth) {
        continue;
      }
      var left = current.getBoundingClientRect().left - bar.getBoundingClientRect().left + bar.scrollLeft;
      bar.scrollLeft = Math.max(0, left - 16);
    }
  }

  function init() {
    syncMenus();
    revealCurrentTabs();
    if (wide.addEventListener) {
      wide.addEventListener("change", syncMenus);
    } else if (wide.addListener) {
      wide.addListener(syncMenus);
    }
    document.addEventListener("keydown", onKeydown);
    document.addEventListener("keydown", closeAccountMenuOnEscape);
    document.addEventListener("click", closeAccountMenuOutside);
    document.addEventListener("submit", onSubmit);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
