// The dashboard's only script: keyboard shortcuts and their help, copy buttons, the labels editor,
// list selection, source fields.
// No inline handlers anywhere (the CSP forbids them); everything hangs off data- attributes.
(function () {
  "use strict";

  function typingIn(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function follow(selector) {
    return function () {
      var link = document.querySelector(selector);
      if (!link) return false;
      link.click();
      return true;
    };
  }

  // Every keyboard shortcut, in one place: the handler below runs them and the help overlay ("?")
  // lists them from here. A shortcut whose target is not on the page does nothing.
  var SHORTCUTS = [
    { keys: "/", help: "Focus the list filter", run: function () {
      var filter = document.querySelector("[data-filter-focus]");
      if (!filter) return false;
      filter.focus();
      filter.select();
      return true;
    } },
    { keys: "?", help: "Show this list of shortcuts", run: function () { return openHelp(); } },
    { keys: "n", help: "Create an image", run: follow("a[href$='/images/new']") },
    { keys: "j", help: "Next page", run: follow("#main a[rel=next]") },
    { keys: "k", help: "Previous page", run: follow("#main a[rel=prev]") },
    { keys: "Escape", help: "Close this list", run: function () { return false; } },
  ];

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys
    for (var i = 0; i < SHORTCUTS.length; i++) {
      if (SHORTCUTS[i].keys === event.key && SHORTCUTS[i].run()) {
        event.preventDefault();
        return;
      }
    }
  });

  // The help overlay: a modal <dialog> (Escape closes it; focus returns where it was).
  var helpOpener = null;
  function openHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) return false;
    var list = dialog.querySelector("[data-shortcut-list]");
    if (!list.children.length) {
      SHORTCUTS.forEach(function (shortcut) {
        var term = document.createElement("dt");
        var key = document.createElement("kbd");
        key.textContent = shortcut.keys === "Escape" ? "Esc" : shortcut.keys;
        term.appendChild(key);
        var description = document.createElement("dd");
        description.textContent = shortcut.help;
        list.appendChild(term);
        list.appendChild(description);
      });
    }
    helpOpener = document.activeElement;
    dialog.showModal();
    dialog.querySelector("button").focus();
    return true;
  }
  document.addEventListener("close", function (event) {
    if (event.target.id === "shortcuts" && helpOpener && helpOpener.focus) helpOpener.focus();
  }, true);

  // Copy buttons: the value is in data-copy; the button says it worked, for eyes and screen readers.
  function copied(button, text) {
    var label = button.textContent;
    button.textContent = text;
    button.dataset.copied = "";
    var status = document.getElementById("copy-status");
    if (status) status.textContent = text === "Copied" ? "Copied " + button.dataset.copy : text;
    setTimeout(function () {
      button.textContent = label;
      delete button.dataset.copied;
    }, 1500);
  }

  // Labels editor: add and remove rows in place (without JavaScript, "Add label" asks the server).
  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      navigator.clipboard.writeText(copy.dataset.copy).then(
        function () { copied(copy, "Copied"); },
        function () { copied(copy, "Copy failed"); }
      );
      return;
    }
    if (event.target.closest("[data-help-open]")) {
      openHelp();
      return;
    }
    var add = event.target.closest("[data-add-label]");
    if (add) {
      var editor = add.closest("fieldset");
      var template = editor.querySelector("template");
      var rows = editor.querySelector("[data-label-rows]");
      event.preventDefault();
      rows.appendChild(template.content.cloneNode(true));
      rows.lastElementChild.querySelector("input").focus();
      return;
    }
    var remove = event.target.closest("[data-remove-label]");
    if (remove) {
      var row = remove.closest(".label-row");
      var container = row.parentElement;
      var form = row.closest("form");
      row.remove();
      if (form) form.dispatchEvent(new Event("input", { bubbles: true }));
      var next = container.querySelector("input");
      if (next) next.focus();
    }
  });

  // Buttons that need this script (remove label, copy, shortcuts) are hidden until it runs.
  function revealScriptButtons(root) {
    root.querySelectorAll("[data-remove-label][hidden], [data-copy][hidden], [data-help-open][hidden]").forEach(
      function (button) {
        button.hidden = !window.isSecureContext && button.hasAttribute("data-copy");
      }
    );
  }

  // Forms that return to "this page" go back to the address as it is now (filters change it in place).
  document.addEventListener("submit", function (event) {
    var next = event.target.querySelector && event.target.querySelector("[data-next-here]");
    if (next) next.value = location.pathname + location.search;
  }, true);

  // List selection: "select all" and a live count on the bulk button.
  function updateBulk(form) {
    if (!form) return;
    var boxes = form.querySelectorAll("input[name=ids]");
    var checked = form.querySelectorAll("input[name=ids]:checked").length;
    var button = form.querySelector("[data-bulk-button]");
    if (button) {
      button.disabled = checked === 0;
      button.textContent = checked ? "Delete " + checked + " selected…" : "Delete selected…";
    }
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = checked > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      target.form.querySelectorAll("input[name=ids]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.form && target.form.id === "bulk") updateBulk(target.form);
    if (target.closest("[data-source-kinds]")) showSourceField(target.form);
  });

  // Create form: show the source ID field or the URI field, as the chosen source needs.
  function showSourceField(form) {
    if (!form) return;
    var checked = form.querySelector("[data-source-kinds] input:checked");
    var isUri = checked && checked.value === "uri";
    var idField = form.querySelector("[data-source-field=id]");
    var uriField = form.querySelector("[data-source-field=uri]");
    if (idField) idField.hidden = isUri;
    if (uriField) uriField.hidden = !isUri;
    var label = idField && idField.querySelector("label");
    var isFamily = checked && checked.value === "family";
    if (label && checked) {
      label.textContent = isFamily ? "Family" : checked.parentElement.textContent.trim() + " ID";
    }
  }

  // Source picker: the source field is a combobox over the listbox the server fills as the person
  // types (aria-activedescendant keeps focus in the field; arrows move, Enter picks, Escape closes).
  function pickerOptions() {
    return Array.prototype.slice.call(document.querySelectorAll("#source-listbox [role=option]"));
  }

  function setPickerOpen(input, open) {
    var list = document.getElementById("source-listbox");
    if (list) list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) input.removeAttribute("aria-activedescendant");
  }

  function activate(input, option) {
    pickerOptions().forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function pick(input, option) {
    input.value = option.dataset.pick;
    setPickerOpen(input, false);
    input.focus();
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target.closest && event.target.closest("[data-picker-input]");
    if (!input) return;
    var options = pickerOptions();
    var current = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    var index = options.indexOf(current);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      setPickerOpen(input, true);
      var step = event.key === "ArrowDown" ? 1 : -1;
      activate(input, options[(index + step + options.length) % options.length] || options[0]);
    } else if (event.key === "Enter" && current && input.getAttribute("aria-expanded") === "true") {
      event.preventDefault();  // pick, do not submit the form
      pick(input, current);
    } else if (event.key === "Escape" && input.getAttribute("aria-expanded") === "true") {
      event.preventDefault();
      setPickerOpen(input, false);
    }
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("#source-listbox [data-pick]");
    var input = document.querySelector("[data-picker-input]");
    if (option && input) pick(input, option);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "source-picker") return;
    var input = document.querySelector("[data-picker-input]");
    if (input) setPickerOpen(input, pickerOptions().length > 0 && document.activeElement === input);
  });

  // A backend error is stale once a request sent after it appeared succeeds (the tray's own poll
  // does not count: it answers 200 through an outage and says so in the tray). A request sent
  // before it may answer late, from before the outage, and must not clear it.
  var sentAt = new WeakMap();
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.xhr) sentAt.set(event.detail.xhr, performance.now());
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var alerts = document.querySelectorAll("[data-backend-alert]");
    alerts.forEach(function (alert) {
      if (!alert.dataset.shownAt) alert.dataset.shownAt = String(performance.now());
    });
    var source = event.detail.elt;
    if (!event.detail.successful || (source && source.closest && source.closest("#ops-tray, [data-backend-alert], [data-backend-probe]"))) {
      return;
    }
    var sent = sentAt.get(event.detail.xhr);
    alerts.forEach(function (alert) {
      if (sent === undefined || sent > Number(alert.dataset.shownAt)) alert.remove();
    });
  });

  // The tray: keep the person's open/closed choice across its polls, and keep room for it under the
  // page (--tray-space) where it floats, so it never hides a control for good.
  var trayChoice = null;
  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches("[data-tray]") && event.isTrusted !== false) {
      if (event.target.dataset.restoring) delete event.target.dataset.restoring;
      else trayChoice = event.target.open;
      keepTrayRoom();
    }
  }, true);

  function keepTrayRoom() {
    var tray = document.getElementById("ops-tray");
    var floating = tray && !tray.hidden && getComputedStyle(tray).position === "fixed";
    var space = floating ? tray.getBoundingClientRect().height + 16 : 0;
    document.documentElement.style.setProperty("--tray-space", space + "px");
  }

  function initTray() {
    var box = document.querySelector("[data-tray]");
    if (box && trayChoice !== null && box.open !== trayChoice) {
      box.dataset.restoring = "1";
      box.open = trayChoice;
    }
    keepTrayRoom();
  }
  window.addEventListener("resize", keepTrayRoom);

  // Filter errors arrive out of band; the inputs they describe follow them.
  function markInvalidFilters() {
    document.querySelectorAll("#filters [aria-describedby]").forEach(function (input) {
      var error = document.getElementById(input.getAttribute("aria-describedby"));
      if (!error) return;
      if (error.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  function init(root) {
    initTray();
    markInvalidFilters();
    revealScriptButtons(root);
    updateBulk(document.getElementById("bulk"));
    var kinds = document.querySelector("[data-source-kinds]");
    if (kinds) showSourceField(kinds.closest("form"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    // An error the page was rendered with is older than every request the page sends.
    document.querySelectorAll("[data-backend-alert]").forEach(function (alert) {
      alert.dataset.shownAt = "0";
    });
    init(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    init(event.target);
  });
})();
