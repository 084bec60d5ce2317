/* Cody's web page: plain JavaScript over Cody's JSON APIs (no build step).
 *
 * The API key is kept in sessionStorage (or localStorage when "Keep me signed in" is ticked) and sent as
 * `Authorization: Bearer <key>`. Everything that comes from the server is put on the page with textContent
 * (through el()), never as HTML. Errors are shown as sentences, never as stack traces.
 */
(function () {
  "use strict";

  var KEY = "cody.apiKey";
  var CONVERSATION = "cody.conversation";
  var SIGNED_OUT = "cody.signedOut";
  var PAGE = 25;
  var MAX_LIMIT = 200;

  var state = { key: null, me: null, config: null, page: null, contactId: null, poll: null };

  function $(id) { return document.getElementById(id); }

  // -- building the page safely ----------------------------------------------------------------------------

  /** el("li", {class: "x", text: "..."}, child, "text", ...): text is always a text node, never HTML. */
  function el(tag, props) {
    var node = document.createElement(tag);
    var attrs = props || {};
    Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") node.textContent = String(value);
      else if (name === "class") node.className = value;
      else if (name === "dataset") Object.keys(value).forEach(function (k) { node.dataset[k] = value[k]; });
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else if (name === "disabled" || name === "hidden" || name === "checked") node[name] = Boolean(value);
      else if (name === "href" && !/^#|^\//.test(String(value))) return;  // only links inside the page
      else node.setAttribute(name, String(value));
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function badge(text, kind) { return el("span", { class: "badge" + (kind ? " " + kind : ""), text: text }); }

  function show(node, on) { if (node) node.hidden = !on; }

  // -- formatting ------------------------------------------------------------------------------------------

  function fmtPhone(e164) {
    if (!e164) return "";
    var m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
    return m ? "(" + m[1] + ") " + m[2] + "-" + m[3] : e164;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    var when = new Date(iso);
    if (isNaN(when.getTime())) return "";
    return when.toLocaleString(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
  }

  function fmtDuration(seconds) {
    var s = Math.max(0, Math.round(Number(seconds) || 0));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "";
    return (!currency || currency === "USD" ? "$" : currency + " ") + amount;
  }

  // -- errors as sentences ---------------------------------------------------------------------------------

  function ApiError(message, status, body) {
    this.name = "ApiError";
    this.message = message;
    this.status = status;
    this.body = body;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function asSentence(text) {
    var s = String(text).trim();
    if (!s) return "";
    s = s.charAt(0).toUpperCase() + s.slice(1);
    return /[.!?)]$/.test(s) ? s : s + ".";
  }

  function sentenceFor(status, body) {
    var found = [];
    if (body && typeof body === "object") {
      if (Array.isArray(body.problems) && body.problems.length) {
        body.problems.forEach(function (p) { if (p && p.message) found.push(p.message); });
      } else {
        if (body["field-errors"] && typeof body["field-errors"] === "object") {
          Object.keys(body["field-errors"]).forEach(function (k) { found.push(body["field-errors"][k]); });
        }
        if (Array.isArray(body.errors)) found = found.concat(body.errors);
        if (typeof body.error === "string") found.push(body.error);
      }
    }
    var sentences = [];
    found.forEach(function (m) {
      if (typeof m !== "string") return;
      var s = asSentence(m);
      if (s && sentences.indexOf(s) < 0) sentences.push(s);
    });
    if (sentences.length && !(status === 404 && sentences[0] === "Not found.")) return sentences.join(" ");
    if (status === 401) return "Your API key was not accepted. Sign in again.";
    if (status === 403) return "You don't have permission to do that.";
    if (status === 404) return "That could not be found. It may have been deleted.";
    if (status === 409) return "That was changed in the meantime. Reload and try again.";
    if (status === 429) return "Too many requests right now. Wait a minute and try again.";
    if (status >= 500) return "Cody ran into a problem on the server. Try again in a moment.";
    return "The request failed (HTTP " + status + ").";
  }

  /** The sentence to show for any error: an API error's own sentence, or a generic one (never a stack trace). */
  function errorText(err) {
    if (err instanceof ApiError) return err.message;
    if (window.console) console.error(err);
    return "Something went wrong on this page. Reload it and try again.";
  }

  /** True when the server has no such route (another part of Cody that this server does not run yet). */
  function missingRoute(err) {
    return err instanceof ApiError && (err.status === 405 || err.status === 501 ||
      (err.status === 404 && (!err.body || err.body.error === "Not found.")));
  }

  function showError(node, err) {
    if (!node) return;
    node.textContent = err ? (typeof err === "string" ? err : errorText(err)) : "";
    show(node, Boolean(err));
  }

  function showStatus(node, text) {
    if (!node) return;
    node.textContent = text || "";
    show(node, Boolean(text));
  }

  function pageError(page) { return document.querySelector("#page-" + page + " [data-error]"); }

  // -- the API ---------------------------------------------------------------------------------------------

  function api(method, path, body) {
    var headers = { "Accept": "application/json", "Authorization": "Bearer " + state.key };
    var init = { method: method, headers: headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var err = new ApiError(sentenceFor(response.status, data), response.status, data);
          if (response.status === 401 && state.me) signOut("Your session ended. Sign in again.");
          throw err;
        }
        return data;
      });
    }, function () {
      throw new ApiError("Cody can't be reached right now. Check your connection and try again.", 0, null);
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v === undefined || v === null || v === "") return;
      parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function id(value) { return encodeURIComponent(value); }

  var contactCache = new Map();

  /** A contact's name (fetched once per page load); "Unknown contact" when it cannot be read. */
  function contactName(contactId) {
    if (!contactId) return Promise.resolve(null);
    if (!contactCache.has(contactId)) {
      contactCache.set(contactId, api("GET", "/api/v1/contact/" + id(contactId) + "/?_fields=id,name")
        .then(function (c) { return c.name || "Unnamed contact"; }, function () { return "Unknown contact"; }));
    }
    return contactCache.get(contactId);
  }

  function namesFor(contactIds) {
    var unique = Array.from(new Set(contactIds.filter(Boolean)));
    return Promise.all(unique.map(contactName)).then(function (names) {
      var map = {};
      unique.forEach(function (c, i) { map[c] = names[i]; });
      return map;
    });
  }

  // -- a paged list ("Show more") ---------------------------------------------------------------------------

  /** A list read page by page with Close's _skip/_limit; reload() keeps what was already shown. */
  function Pager(opts) {
    this.list = opts.list;
    this.more = opts.more;
    this.error = opts.error;
    this.fetch = opts.fetch;            // (skip, limit) -> Promise<{data, has_more}>
    this.enrich = opts.enrich || function () { return Promise.resolve({}); };
    this.render = opts.render;          // (item, extra) -> <li>
    this.empty = opts.empty || "Nothing here yet.";
    this.items = [];
    this.hasMore = false;
    this.signature = null;
    this.generation = 0;
    var self = this;
    if (this.more) this.more.onclick = function () { self.loadMore(); };
  }

  Pager.prototype.reset = function () {
    this.items = [];
    this.signature = null;
    this.generation++;
    this.list.replaceChildren();
    show(this.more, false);
  };

  Pager.prototype.reload = function () {
    var self = this;
    var generation = ++this.generation;
    var limit = Math.min(MAX_LIMIT, Math.max(PAGE, this.items.length));
    return this.fetch(0, limit).then(function (page) {
      if (generation !== self.generation) return;
      var signature = JSON.stringify(page);
      if (signature === self.signature) return;
      return self.enrich(page.data).then(function (extra) {
        if (generation !== self.generation) return;
        self.signature = signature;
        self.items = page.data.slice();
        self.hasMore = page.has_more;
        self.list.replaceChildren.apply(self.list, self.items.map(function (item) { return self.render(item, extra); }));
        if (!self.items.length) self.list.appendChild(el("li", { class: "empty", text: self.empty }));
        show(self.more, self.hasMore);
        showError(self.error, null);
      });
    }).catch(function (err) { if (generation === self.generation) showError(self.error, err); });
  };

  Pager.prototype.loadMore = function () {
    var self = this;
    var generation = this.generation;
    if (this.more) this.more.disabled = true;
    return this.fetch(this.items.length, PAGE).then(function (page) {
      if (generation !== self.generation) return;
      var seen = new Set(self.items.map(function (x) { return x.id; }));
      var fresh = page.data.filter(function (x) { return !seen.has(x.id); });
      return self.enrich(fresh).then(function (extra) {
        self.items = self.items.concat(fresh);
        self.hasMore = page.has_more;
        self.signature = null;
        fresh.forEach(function (item) { self.list.appendChild(self.render(item, extra)); });
        show(self.more, self.hasMore);
      });
    }).catch(function (err) { showError(self.error, err); })
      .then(function () { if (self.more) self.more.disabled = false; });
  };

  // -- signing in ------------------------------------------------------------------------------------------

  function storedKey() {
    try { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function storeKey(key, remember) {
    try {
      sessionStorage.setItem(KEY, key);
      if (remember) localStorage.setItem(KEY, key); else localStorage.removeItem(KEY);
      sessionStorage.removeItem(SIGNED_OUT);
    } catch (e) { /* storage off: the key lives for this page only */ }
  }

  function forgetKey() {
    try {
      sessionStorage.removeItem(KEY);
      sessionStorage.removeItem(CONVERSATION);
      localStorage.removeItem(KEY);
      sessionStorage.setItem(SIGNED_OUT, "1");
    } catch (e) { /* nothing stored */ }
  }

  function demoKey() {
    var meta = document.querySelector('meta[name="cody-demo-key"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function showSignin(message) {
    show($("app"), false);
    show($("signin"), true);
    showError($("signin-error"), message || null);
    $("signin-key").focus();
  }

  function signInWith(key) {
    state.key = key;
    return api("GET", "/api/v1/me/").then(function (me) {
      state.me = me;
      var org = me.organizations && me.organizations[0];
      $("who").textContent = (me.display_name || me.email) + (org ? " · " + org.name : "");
      show($("signin"), false);
      show($("app"), true);
      startApp();
      return me;
    }, function (err) {
      state.key = null;
      if (err.status === 401) throw new ApiError("That API key was not accepted. Check it and try again.", 401, null);
      throw err;
    });
  }

  function signOut(message) {
    forgetKey();
    stopPolling();
    clearInterval(state.inboxTimer);
    state.key = null;
    state.me = null;
    contactCache.clear();
    $("chat-log").replaceChildren();
    chat.conversationId = null;
    showSignin(message);
  }

  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = $("signin-key").value.trim();
    if (!key) { showError($("signin-error"), "Type your API key."); return; }
    var button = event.target.querySelector("button");
    button.disabled = true;
    signInWith(key).then(function () {
      storeKey(key, $("signin-remember").checked);
      $("signin-key").value = "";
    }, function (err) { showError($("signin-error"), err); })
      .then(function () { button.disabled = false; });
  });

  $("signout").addEventListener("click", function () { signOut(null); });

  // -- pages -----------------------------------------------------------------------------------------------

  var PAGES = ["chat", "contacts", "contact", "inbox", "calls", "settings"];

  function stopPolling() {
    if (state.poll) clearInterval(state.poll);
    state.poll = null;
  }

  function every(ms, fn) {
    stopPolling();
    var busy = false;
    state.poll = setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      Promise.resolve().then(fn).catch(function () { /* shown by the page itself */ })
        .then(function () { busy = false; });
    }, ms);
  }

  function route() {
    if (!state.me) return;
    var parts = (location.hash || "#/chat").replace(/^#\/?/, "").split("/");
    var page = parts[0] || "chat";
    var arg = parts[1] ? decodeURIComponent(parts[1]) : null;
    if (page === "contacts" && arg) page = "contact";
    if (PAGES.indexOf(page) < 0) page = "chat";
    stopPolling();
    state.page = page;
    PAGES.forEach(function (p) { show($("page-" + p), p === page); });
    document.querySelectorAll(".tabs a").forEach(function (a) {
      a.classList.toggle("active", a.dataset.page === (page === "contact" ? "contacts" : page));
    });
    showError($("banner"), null);
    if (page === "chat") openChat();
    else if (page === "contacts") openContacts();
    else if (page === "contact") openContact(arg);
    else if (page === "inbox") openInbox();
    else if (page === "calls") openCalls();
    else if (page === "settings") openSettings();
  }

  window.addEventListener("hashchange", route);

  function startApp() {
    api("GET", "/api/web/config").then(function (config) { state.config = config; }, function () { /* optional */ });
    refreshInboxCount();
    clearInterval(state.inboxTimer);
    state.inboxTimer = setInterval(function () { if (!document.hidden) refreshInboxCount(); }, 10000);
    loadSandboxContacts();
    route();
  }

  // -- chat ------------------------------------------------------------------------------------------------

  var chat = { conversationId: null, started: false };

  function openChat() {
    if (!chat.started) {
      chat.started = true;
      try { chat.conversationId = sessionStorage.getItem(CONVERSATION); } catch (e) { chat.conversationId = null; }
    }
    if (!$("chat-log").children.length) {
      var first = state.me && state.me.first_name ? state.me.first_name : "there";
      bubble("cody", "Hi " + first + "! Ask me to text or call a contact, for example \u201ctext Sarah I'm running " +
        "10 minutes late\u201d. I show you a draft first; nothing goes out until you confirm it.");
    }
    $("chat-input").focus();
  }

  function bubble(kind, text) {
    var node = el("div", { class: "bubble " + kind, text: text });
    $("chat-log").appendChild(node);
    node.scrollIntoView({ block: "nearest" });
    return node;
  }

  /** Send one turn to Cody; turns go one after another, so answers stay in order and each sees the last one's
   * conversation. */
  function say(text, shown) {
    chat.queue = (chat.queue || Promise.resolve()).then(function () { return sayNow(text, shown); });
    return chat.queue;
  }

  function sayNow(text, shown) {
    if (!state.me) return null;
    bubble("user", shown || text);
    return api("POST", "/api/chat/messages", { text: text, conversation_id: chat.conversationId })
      .then(function (answer) {
        chat.conversationId = answer.conversation_id;
        try { sessionStorage.setItem(CONVERSATION, answer.conversation_id); } catch (e) { /* fine */ }
        if (answer.reply) bubble("cody", answer.reply);
        (answer.drafts || []).forEach(function (draft) {
          var card = draftCard(draft);
          $("chat-log").appendChild(card);
          var activity = (answer.activities || []).filter(function (a) { return a.id === draft.activity_id; })[0];
          if (activity) trackActivity(card, activity);
        });
        var question = answer.question;
        if (question && question.choices && question.choices.length) {
          var choices = el("div", { class: "choices", role: "group", "aria-label": question.text || "Choices" });
          question.choices.forEach(function (choice) {
            choices.appendChild(el("button", {
              type: "button", class: "choice", text: choice.label,
              onclick: function () {
                choices.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
                say(choice.value, choice.label);
              },
            }));
          });
          $("chat-log").appendChild(choices);
        }
        $("chat-log").lastElementChild.scrollIntoView({ block: "nearest" });
      }, function (err) { bubble("error", errorText(err)); });
  }

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("chat-input");
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });

  var STATE_LABELS = {
    pending: ["Waiting for you", "warn"], confirmed: ["Sending", ""], executed: ["Sent", "ok"],
    canceled: ["Canceled", ""], expired: ["Expired", "bad"], failed: ["Not sent", "bad"],
  };
  // A draft to cancel a text still waiting to go out: done, the text is back to draft; dropped, it still goes out.
  var UNSEND = "cancel_scheduled_sms";
  var UNSEND_LABELS = {
    pending: ["Waiting for you", "warn"], confirmed: ["Canceling", ""], executed: ["Canceled", "ok"],
    canceled: ["Kept", ""], expired: ["Expired", "bad"], failed: ["Not canceled", "bad"],
  };
  var UNSEND_ENDINGS = {
    executed: "Canceled: it won't go out; it's kept as a draft.",
    canceled: "Kept; the text still goes out.",
    expired: "This draft expired; the text still goes out. Ask Cody again to cancel it.",
  };

  function draftCard(draft) {
    var card = el("article", { class: "card draft-card", dataset: { draftId: draft.id } });
    card._draft = draft;
    renderDraft(card);
    return card;
  }

  function row(dl, label, value, cls) {
    dl.appendChild(el("dt", { text: label }));
    dl.appendChild(el("dd", { class: cls || null, dataset: { field: label.toLowerCase() } }, value));
  }

  function renderDraft(card, error) {
    var d = card._draft;
    var p = d.preview || {};
    var call = d.tool === "call_contact";
    var unsend = d.tool === UNSEND;
    var who = p.contact_name || fmtPhone(p.to) || "this contact";
    var label = (unsend ? UNSEND_LABELS : STATE_LABELS)[d.state] || [d.state, ""];
    var dl = el("dl");
    row(dl, "To", p.contact_name ? [p.contact_name, p.to ? " · " + fmtPhone(p.to) : ""] : fmtPhone(p.to) || "\u2014");
    row(dl, "From", p.from ? fmtPhone(p.from) : "\u2014");
    if (call) {
      if (p.forwarding_phone) row(dl, "Rings first", fmtPhone(p.forwarding_phone) + " (your phone)");
      if (p.record !== undefined) row(dl, "Recording", p.record ? "This call is recorded" : "Not recorded");
    } else if (unsend) {
      row(dl, "Text", p.text || "", "text");
      row(dl, "When", p.date_scheduled ? "Scheduled for " + fmtTime(p.date_scheduled) : "Going out now");
    } else {
      row(dl, "Text", p.text || "", "text");
      if (p.attachments && p.attachments.length) row(dl, "Attachments", plural(p.attachments.length, "file"));
      row(dl, "Encoding", (p.encoding || "?") + " · " + plural(p.segments || 0, "segment"));
      row(dl, "When", p.date_scheduled ? "Scheduled for " + fmtTime(p.date_scheduled) : "As soon as you confirm");
    }
    var problems = d.problems || [];
    var children = [
      el("h4", null, (unsend ? "Cancel the text to " : call ? "Call " : "Text ") + who, badge(label[0], label[1])),
      dl,
      problems.length ? el("ul", { class: "problems" }, problems.map(function (pr) {
        return el("li", { text: asSentence(pr.message) });
      })) : null,
    ];
    if (unsend) {
      children.push(unsendEnding(card, d, error));
    } else if (d.state === "pending") {
      children.push(el("div", { class: "row" },
        el("button", { type: "button", class: "primary", text: "Confirm", disabled: problems.length > 0,
                       onclick: function () { confirmDraft(card); } }),
        call ? null : el("button", { type: "button", text: "Edit", onclick: function () { editDraft(card); } }),
        el("button", { type: "button", text: "Cancel", onclick: function () { cancelDraft(card); } })));
    } else if (d.state === "executed") {
      children.push(el("p", { class: "status", dataset: { role: "delivery" } },
        call ? "Calling now." : "Sent. Delivery: ",
        call ? null : el("span", { class: "delivery", text: (card._activity && card._activity.status) || "queued" }),
        " ", p.contact_id ? el("a", { href: "#/contacts/" + id(p.contact_id), text: "Open the thread" }) : null));
    } else if (error) {
      // The error below says what happened.
    } else if (d.state === "canceled") {
      children.push(el("p", { class: "muted", text: "Canceled. Nothing was sent." }));
    } else if (d.state === "expired") {
      children.push(el("p", { class: "muted", text: "This draft expired, so nothing was sent. Ask Cody again." }));
    } else if (d.state === "failed") {
      children.push(el("p", { class: "error", text: "Not sent: " + asSentence(d.error || "it could not be sent") }));
    }
    children.push(el("p", { class: "error draft-error", role: "alert", hidden: !error, text: error || null }));
    card.replaceChildren.apply(card, children.filter(Boolean));
  }

  /** The buttons, or how it ended, of a draft to cancel a waiting text. */
  function unsendEnding(card, d, error) {
    if (d.state === "pending") {
      return el("div", { class: "row" },
        el("button", { type: "button", class: "primary", text: "Cancel the text",
                       onclick: function () { confirmDraft(card); } }),
        el("button", { type: "button", text: "Keep it", onclick: function () { cancelDraft(card); } }));
    }
    if (error) return null;  // the error below says what happened
    if (d.state === "failed") {
      return el("p", { class: "error", text: "Not canceled: " + asSentence(d.error || "it failed") });
    }
    var ending = UNSEND_ENDINGS[d.state];
    return ending ? el("p", { class: "muted", text: ending }) : null;
  }

  function draftAction(card, method, path, body) {
    card.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    return api(method, path, body).then(function (draft) {
      card._draft = draft;
      renderDraft(card);
      return draft;
    }, function (err) {
      // Show the reason, then the draft as it now stands (it may have expired or been sent elsewhere).
      var sentence = errorText(err);
      return api("GET", "/api/chat/drafts/" + id(card._draft.id)).then(function (draft) {
        card._draft = draft;
      }, function () { /* keep the old copy */ }).then(function () {
        renderDraft(card, sentence);
        return null;
      });
    });
  }

  function confirmDraft(card) {
    return draftAction(card, "POST", "/api/chat/drafts/" + id(card._draft.id) + "/confirm").then(function (draft) {
      if (draft && draft.activity) trackActivity(card, draft.activity);
    });
  }

  function cancelDraft(card) {
    return draftAction(card, "POST", "/api/chat/drafts/" + id(card._draft.id) + "/cancel");
  }

  function editDraft(card) {
    var d = card._draft;
    var box = el("textarea", { rows: 3, maxlength: 10000, "aria-label": "New text" });
    box.value = (d.preview && d.preview.text) || "";
    var errorNode = el("p", { class: "error", role: "alert", hidden: true });
    var save = el("button", { type: "button", class: "primary", text: "Save" });
    var editor = el("div", { class: "stack edit" }, box, el("div", { class: "row" }, save,
      el("button", { type: "button", text: "Discard", onclick: function () { renderDraft(card); } })), errorNode);
    card.querySelectorAll(".row, .edit").forEach(function (n) { n.remove(); });
    card.appendChild(editor);
    box.focus();
    save.onclick = function () {
      var text = box.value.trim();
      if (!text) { showError(errorNode, "Type the text to send."); return; }
      var args = { text: text };
      if (d.args && d.args.template_id) { args.template_id = null; args.variables = {}; }
      save.disabled = true;
      api("PATCH", "/api/chat/drafts/" + id(d.id), { args: args }).then(function (draft) {
        card._draft = draft;
        renderDraft(card);
      }, function (err) { showError(errorNode, err); save.disabled = false; });
    };
  }

  var FINAL_SMS = ["delivered", "error", "inbox", "draft", "canceled"];

  /** After a confirmation: follow the message's status (queued, sent, delivered or an error) for a while. */
  function trackActivity(card, activity) {
    card._activity = activity;
    renderDraft(card);
    if (card._draft.tool === "call_contact" || !activity || !activity.id) return;
    var deadline = Date.now() + 120000;
    function tick() {
      if (!state.me || !document.body.contains(card)) return;
      var current = card._activity;
      if (FINAL_SMS.indexOf(current.status) >= 0) {
        if (current.status === "error") {
          showError(card.querySelector(".draft-error"), "Not delivered: " + asSentence(current.error_message || "the carrier refused it"));
        }
        return;
      }
      if (Date.now() > deadline) return;
      setTimeout(function () {
        api("GET", "/api/v1/activity/sms/" + id(activity.id) + "/").then(function (fresh) {
          card._activity = fresh;
          var node = card.querySelector(".delivery");
          if (node) node.textContent = fresh.status;
        }, function () { /* try again */ }).then(tick);
      }, 700);
    }
    tick();
  }

  // -- contacts --------------------------------------------------------------------------------------------

  var contacts = new Pager({
    list: $("contact-list"), more: $("contact-more"), error: pageError("contacts"),
    empty: "No contacts match.",
    fetch: function (skip, limit) {
      return api("GET", "/api/web/contacts/" + query({ query: contacts.query, _skip: skip, _limit: limit }));
    },
    render: function (c) {
      var phone = c.phones && c.phones[0];
      return el("li", { dataset: { contactId: c.id } },
        el("span", { class: "grow" }, el("a", { href: "#/contacts/" + id(c.id), text: c.name || "Unnamed contact" }),
          c.title ? el("span", { class: "muted", text: " · " + c.title }) : null,
          c.lead_name && c.lead_name !== c.name ? el("span", { class: "muted", text: " · " + c.lead_name }) : null),
        phone ? el("span", { text: phone.phone_formatted || fmtPhone(phone.phone) }) : el("span", { class: "muted", text: "No phone" }));
    },
  });
  contacts.query = "";

  function openContacts() {
    contacts.reload();
  }

  var searchTimer = null;
  function searchContacts() {
    clearTimeout(searchTimer);
    contacts.query = $("contact-search").value.trim();
    contacts.reset();
    contacts.reload();
  }
  $("contact-search-form").addEventListener("submit", function (event) { event.preventDefault(); searchContacts(); });
  $("contact-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchContacts, 300);
  });

  // -- a contact card and its thread ------------------------------------------------------------------------

  var card = { contact: null, thread: null, timeline: null };

  function openContact(contactId) {
    var box = $("contact-card");
    var errorNode = pageError("contact");
    showError(errorNode, null);
    show($("compose"), false);
    showError($("compose-error"), null);
    state.contactId = contactId;
    card.contact = null;
    box.replaceChildren(el("p", { class: "muted", text: "Loading\u2026" }));
    $("thread").replaceChildren();
    show($("thread-more"), false);
    selectSandboxContact(contactId);
    api("GET", "/api/v1/contact/" + id(contactId) + "/").then(function (contact) {
      if (state.contactId !== contactId) return;
      card.contact = contact;
      contactCache.set(contact.id, Promise.resolve(contact.name));
      renderContact();
      card.timeline = new Timeline(contactId);
      return Promise.all([card.timeline.refresh(), refreshAssignment()]).then(function () {
        every(1500, function () {
          if (state.page !== "contact" || state.contactId !== contactId) return null;
          return Promise.all([card.timeline.refresh(), refreshAssignment()]);
        });
      });
    }).catch(function (err) {
      box.replaceChildren(el("p", { class: "error", text: errorText(err) }));
    });
  }

  function renderContact() {
    var c = card.contact;
    var phones = c.phones || [];
    var textable = phones.length > 0;
    $("contact-card").replaceChildren(
      el("div", { class: "name", text: c.name || "Unnamed contact" }),
      c.title ? el("div", { class: "muted", text: c.title }) : null,
      phones.length ? el("ul", { class: "phones" }, phones.map(function (p) {
        return el("li", null, p.phone_formatted || fmtPhone(p.phone), p.type ? el("span", { class: "muted", text: " " + p.type }) : null);
      })) : el("p", { class: "muted", text: "No phone number." }),
      (c.emails || []).length ? el("ul", { class: "emails" }, c.emails.map(function (e) { return el("li", { text: e.email }); })) : null,
      el("p", { id: "contact-assignee", class: "assignee muted", text: "\u2026" }),
      el("div", { class: "row actions" },
        el("button", { type: "button", class: "primary", id: "contact-text", text: "Text", disabled: !textable,
                       onclick: openCompose }),
        el("button", { type: "button", id: "contact-call", text: "Call", disabled: !textable, onclick: callContact })),
      el("p", { id: "contact-status", class: "status", role: "status", hidden: true }),
      el("p", { id: "contact-error", class: "error", role: "alert", hidden: true }));
  }

  function refreshAssignment() {
    var contactId = state.contactId;
    return api("GET", "/api/v1/thread/" + query({ contact_id: contactId, _limit: 1 })).then(function (page) {
      var node = $("contact-assignee");
      if (!node || state.contactId !== contactId) return;
      var thread = page.data[0];
      card.thread = thread || null;
      var content;
      if (!thread) content = ["No conversation yet."];
      else if (thread.unclaimed) {
        content = ["Unclaimed thread. ", el("button", { type: "button", class: "link", text: "Claim it", onclick: function () {
          api("POST", "/api/v1/thread/" + id(thread.id) + "/claim/").then(refreshAssignment, function (err) {
            showError($("contact-error"), err);
          });
        } })];
      } else {
        var mine = state.me && thread.assignee_id === state.me.id;
        content = ["Assigned to " + (mine ? "you (" + (thread.assignee_name || state.me.display_name) + ")" : thread.assignee_name || "a teammate") + "."];
      }
      var signature = JSON.stringify(thread || null);
      if (node._signature === signature) return;
      node._signature = signature;
      node.replaceChildren.apply(node, content.map(function (c) { return c instanceof Node ? c : document.createTextNode(c); }));
    });
  }

  function openCompose() {
    var c = card.contact;
    var phone = c.phones && c.phones[0];
    $("compose-to").textContent = (c.name || "") + (phone ? " at " + (phone.phone_formatted || fmtPhone(phone.phone)) : "");
    showError($("compose-error"), null);
    show($("compose"), true);
    $("compose-text").focus();
    updateCount();
  }

  function updateCount() {
    var text = $("compose-text").value;
    $("compose-count").textContent = text ? plural(Array.from(text).length, "character") : "";
  }
  $("compose-text").addEventListener("input", updateCount);
  $("compose-cancel").addEventListener("click", function () { show($("compose"), false); });

  $("compose").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("compose-text").value;
    var button = event.target.querySelector("button[type=submit]");
    if (!text.trim()) { showError($("compose-error"), "Type the text to send."); return; }
    button.disabled = true;
    showError($("compose-error"), null);
    api("POST", "/api/v1/activity/sms/", { contact_id: card.contact.id, text: text, status: "outbox" })
      .then(function (sms) {
        $("compose-text").value = "";
        show($("compose"), false);
        showStatus($("contact-status"), sms.status === "error"
          ? "" : "Text to " + (card.contact.name || "the contact") + " is on its way.");
        if (sms.status === "error") showError($("contact-error"), "Not sent: " + asSentence(sms.error_message || "the carrier refused it"));
        return card.timeline && card.timeline.refresh();
      }, function (err) { showError($("compose-error"), err); })
      .then(function () { button.disabled = false; });
  });

  function callContact() {
    var button = $("contact-call");
    button.disabled = true;
    showError($("contact-error"), null);
    showStatus($("contact-status"), null);
    api("POST", "/api/v1/call/dial/", { contact_id: card.contact.id }).then(function (call) {
      var mine = state.me && state.me.forwarding_phone;
      showStatus($("contact-status"), "Calling " + (mine ? "your phone at " + fmtPhone(mine) : "your phone") +
        " first; when you answer, Cody connects " + (card.contact.name || "the contact") + ".");
      return card.timeline && card.timeline.refresh();
    }, function (err) {
      showError($("contact-error"), missingRoute(err) ? "Calling isn't available on this server yet." : err);
    }).then(function () { button.disabled = false; });
  }

  /** A contact's texts and calls, newest first, read page by page from both lists and merged by time. */
  function Timeline(contactId) {
    this.contactId = contactId;
    this.sources = [
      { kind: "sms", path: "/api/v1/activity/sms/", items: [], hasMore: false, available: true },
      { kind: "call", path: "/api/v1/activity/call/", items: [], hasMore: false, available: true },
    ];
    this.signature = null;
    var self = this;
    $("thread-more").onclick = function () { self.more(); };
  }

  Timeline.prototype.fetch = function (source, skip, limit) {
    if (!source.available) return Promise.resolve({ data: [], has_more: false });
    return api("GET", source.path + query({ contact_id: this.contactId, _skip: skip, _limit: limit }))
      .catch(function (err) {
        if (source.kind === "call" && missingRoute(err)) {  // calls are optional on this server
          source.available = false;
          return { data: [], has_more: false };
        }
        throw err;
      });
  };

  Timeline.prototype.refresh = function () {
    var self = this;
    return Promise.all(this.sources.map(function (source) {
      var limit = Math.min(MAX_LIMIT, Math.max(PAGE, source.items.length));
      return self.fetch(source, 0, limit).then(function (page) {
        source.items = page.data;
        source.hasMore = page.has_more;
      });
    })).then(function () { self.render(); showError(pageError("contact"), null); },
      function (err) { showError(pageError("contact"), err); });
  };

  Timeline.prototype.more = function () {
    var self = this;
    $("thread-more").disabled = true;
    return Promise.all(this.sources.filter(function (s) { return s.hasMore; }).map(function (source) {
      return self.fetch(source, source.items.length, PAGE).then(function (page) {
        var seen = new Set(source.items.map(function (x) { return x.id; }));
        source.items = source.items.concat(page.data.filter(function (x) { return !seen.has(x.id); }));
        source.hasMore = page.has_more;
      });
    })).then(function () { self.render(); }, function (err) { showError(pageError("contact"), err); })
      .then(function () { $("thread-more").disabled = false; });
  };

  function stamp(item) { return Date.parse(item.date_created || item.activity_at || "") || 0; }

  Timeline.prototype.render = function () {
    // Only what is certainly in order: nothing older than the oldest row read from a list that has more.
    var cutoff = -Infinity;
    this.sources.forEach(function (s) {
      if (s.hasMore && s.items.length) cutoff = Math.max(cutoff, stamp(s.items[s.items.length - 1]));
    });
    var items = [];
    this.sources.forEach(function (s) { items = items.concat(s.items.filter(function (x) { return stamp(x) >= cutoff; })); });
    items.sort(function (a, b) { return stamp(b) - stamp(a) || (a.id < b.id ? 1 : -1); });
    var hasMore = this.sources.some(function (s) { return s.hasMore; });
    var signature = JSON.stringify([items, hasMore]);
    if (signature === this.signature) return;
    this.signature = signature;
    var name = (card.contact && card.contact.name) || "Contact";
    var list = $("thread");
    list.replaceChildren.apply(list, items.map(function (a) {
      return a._type === "Call" ? callItem(a, name) : smsItem(a, name);
    }));
    if (!items.length) list.appendChild(el("li", { class: "empty muted", text: "No texts or calls with " + name + " yet." }));
    show($("thread-more"), hasMore);
  };

  var SMS_BADGES = {
    delivered: ["delivered", "ok"], sent: ["sent", ""], sending: ["sending", ""], outbox: ["queued", ""],
    scheduled: ["scheduled", "warn"], draft: ["draft", "warn"], error: ["error", "bad"], inbox: ["received", ""],
  };

  function smsItem(a, name) {
    var outbound = a.direction === "outbound";
    var b = SMS_BADGES[a.status] || [a.status, ""];
    var who = outbound ? (a.user_name || "You") + " \u2192 " + name : name;
    return el("li", { class: "sms " + (outbound ? "outbound" : "inbound"), dataset: { activityId: a.id, status: a.status } },
      el("div", { class: "meta" }, el("strong", { text: who }), el("span", { text: fmtTime(a.date_sent || a.date_created) }),
        badge(b[0], b[1]),
        a.status === "scheduled" && a.date_scheduled ? el("span", { text: "for " + fmtTime(a.date_scheduled) }) : null),
      el("div", { class: "body", text: a.text || "" }),
      a.attachments && a.attachments.length ? el("div", { class: "meta", text: plural(a.attachments.length, "attachment") }) : null,
      a.status === "error" || a.error_message ? el("div", { class: "err" },
        el("strong", { text: "Not delivered: " }), asSentence(a.error_message || "the carrier reported an error")) : null,
      el("div", { class: "meta" }, outbound ? "From " + fmtPhone(a.local_phone) + " to " + fmtPhone(a.remote_phone)
        : "From " + fmtPhone(a.remote_phone) + " to " + fmtPhone(a.local_phone)));
  }

  var CALL_STATUS = {
    completed: ["completed", "ok"], answered: ["answered", "ok"], "in-progress": ["in progress", ""],
    ringing: ["ringing", ""], queued: ["starting", ""], initiated: ["starting", ""], "no-answer": ["no answer", "warn"],
    busy: ["busy", "warn"], failed: ["failed", "bad"], canceled: ["canceled", ""], voicemail: ["voicemail", "warn"],
    missed: ["missed", "warn"],
  };

  function callItem(a, name) {
    var inbound = a.direction === "inbound";
    var b = CALL_STATUS[a.status] || [a.status || "call", ""];
    var answeredBy = a.handled_by === "ai" ? badge("answered by Cody's AI", "ai")
      : a.user_name ? el("span", { text: (inbound ? "answered by " : "by ") + a.user_name }) : null;
    return el("li", { class: "call", dataset: { activityId: a.id, status: a.status || "" } },
      el("div", { class: "meta" }, el("strong", { text: (inbound ? "Call from " : "Call to ") + name }),
        el("span", { text: fmtTime(a.date_created) }), badge(b[0], b[1]),
        a.duration ? el("span", { text: fmtDuration(a.duration) }) : null, answeredBy),
      a.summary ? el("div", { class: "body" }, el("strong", { text: "Summary: " }), a.summary)
        : a.intelligence_note ? el("div", { class: "meta", text: a.intelligence_note }) : null,
      a.commitments && a.commitments.length ? el("ul", null, a.commitments.map(function (c) {
        return el("li", { text: typeof c === "string" ? c : (c.text || c.description || JSON.stringify(c)) });
      })) : null,
      a.error_message ? el("div", { class: "err" }, el("strong", { text: "Problem: " }), asSentence(a.error_message)) : null);
  }

  // -- inbox -----------------------------------------------------------------------------------------------

  var INBOX_TYPES = { incoming_sms: "Text", missed_call: "Missed call", voicemail: "Voicemail", billing: "Billing" };

  function activitiesById(items) {
    var sms = items.filter(function (i) { return i.type === "incoming_sms"; }).map(function (i) { return i.activity_id; });
    var calls = items.filter(function (i) { return i.type !== "incoming_sms"; }).map(function (i) { return i.activity_id; });
    function read(path, ids) {
      if (!ids.length) return Promise.resolve([]);
      return api("GET", path + query({ id__in: ids.join(","), _limit: MAX_LIMIT }))
        .then(function (page) { return page.data; }, function () { return []; });
    }
    return Promise.all([read("/api/v1/activity/sms/", sms), read("/api/v1/activity/call/", calls)]).then(function (found) {
      var map = {};
      found[0].concat(found[1]).forEach(function (a) { map[a.id] = a; });
      return map;
    });
  }

  var inboxItems = new Pager({
    list: $("inbox-items"), more: $("inbox-more"), error: pageError("inbox"),
    empty: "You're all caught up.",
    fetch: function (skip, limit) {
      return api("GET", "/api/v1/inbox/" + query({ done: $("inbox-show-done").checked ? null : "false", _skip: skip, _limit: limit }));
    },
    enrich: function (items) {
      return activitiesById(items).then(function (activities) {
        var contactIds = Object.keys(activities).map(function (k) { return activities[k].contact_id; });
        return namesFor(contactIds).then(function (names) { return { activities: activities, names: names }; });
      });
    },
    render: function (item, extra) {
      var a = (extra.activities || {})[item.activity_id] || {};
      var billing = item.type === "billing";  // about a business number: the item says it all in its text
      var name = billing ? "Business line" : (extra.names || {})[a.contact_id] || (a.remote_phone ? fmtPhone(a.remote_phone) : "Unknown caller");
      var what = billing ? item.text : item.type === "incoming_sms" ? a.text : a.summary || (item.type === "voicemail" ? "Left a voicemail." : "Called and nobody answered.");
      var li = el("li", { class: "inbox-item", dataset: { itemId: item.id, type: item.type } },
        badge(INBOX_TYPES[item.type] || item.type, item.type === "incoming_sms" ? "" : "warn"),
        el("span", { class: "grow" },
          a.contact_id ? el("a", { href: "#/contacts/" + id(a.contact_id), text: name }) : el("strong", { text: name }),
          what ? el("span", { class: "snippet", text: ": " + what }) : null),
        el("span", { class: "muted", text: fmtTime(item.date_created) }),
        item.done ? badge("done", "ok") : el("button", { type: "button", text: "Mark done", onclick: function (event) {
          var button = event.target;
          button.disabled = true;
          api("POST", "/api/v1/inbox/" + id(item.id) + "/done/").then(function () {
            refreshInboxCount();
            return inboxItems.reload();
          }, function (err) { button.disabled = false; showError(pageError("inbox"), err); });
        } }));
      return li;
    },
  });

  function threadPager(listId, moreId, params, empty, claimable) {
    var pager = new Pager({
      list: $(listId), more: $(moreId), error: pageError("inbox"), empty: empty,
      fetch: function (skip, limit) {
        var p = Object.assign({ _skip: skip, _limit: limit }, params());
        return api("GET", "/api/v1/thread/" + query(p));
      },
      enrich: function (threads) { return namesFor(threads.map(function (t) { return t.contact_id; })); },
      render: function (t, names) {
        return el("li", { class: "thread-item", dataset: { threadId: t.id } },
          el("span", { class: "grow" }, el("a", { href: "#/contacts/" + id(t.contact_id), text: names[t.contact_id] || "Contact" })),
          el("span", { class: "muted", text: t.last_activity_at ? "Last activity " + fmtTime(t.last_activity_at) : "" }),
          t.status ? badge(t.status, "") : null,
          claimable ? el("button", { type: "button", text: "Claim", onclick: function (event) {
            event.target.disabled = true;
            api("POST", "/api/v1/thread/" + id(t.id) + "/claim/").then(function () {
              return Promise.all([unclaimedThreads.reload(), myThreads.reload()]);
            }, function (err) { event.target.disabled = false; showError(pageError("inbox"), err); });
          } }) : null);
      },
    });
    return pager;
  }

  var unclaimedThreads = threadPager("threads-unclaimed", "unclaimed-more", function () { return { unclaimed: "true" }; },
    "No unclaimed threads.", true);
  var myThreads = threadPager("threads-mine", "mine-more", function () { return { assigned_to: state.me.id }; },
    "No threads are assigned to you.", false);

  function reloadInbox() {
    return Promise.all([inboxItems.reload(), unclaimedThreads.reload(), myThreads.reload()]);
  }

  function openInbox() {
    reloadInbox();
    refreshInboxCount();
    every(3000, function () { return state.page === "inbox" ? reloadInbox() : null; });
  }

  $("inbox-show-done").addEventListener("change", function () { inboxItems.reset(); inboxItems.reload(); });

  function refreshInboxCount() {
    if (!state.me) return;
    api("GET", "/api/v1/inbox/" + query({ done: "false", _limit: PAGE })).then(function (page) {
      var n = page.data.length;
      var node = $("inbox-count");
      node.textContent = n + (page.has_more ? "+" : "");
      show(node, n > 0);
    }, function () { /* the count is a hint */ });
  }

  // -- calls -----------------------------------------------------------------------------------------------

  var callList = new Pager({
    list: $("call-list"), more: $("calls-more"), error: pageError("calls"),
    empty: "No calls yet.",
    fetch: function (skip, limit) {
      return api("GET", "/api/v1/activity/call/" + query({ handled_by: $("calls-filter").value, _skip: skip, _limit: limit }))
        .catch(function (err) {
          if (missingRoute(err)) {
            callList.empty = "Call history isn't available on this server yet.";
            return { data: [], has_more: false };
          }
          throw err;
        });
    },
    enrich: function (calls) { return namesFor(calls.map(function (c) { return c.contact_id; })); },
    render: function (a, names) {
      var inbound = a.direction === "inbound";
      var b = CALL_STATUS[a.status] || [a.status || "call", ""];
      var who = names[a.contact_id] || fmtPhone(a.remote_phone) || "Unknown";
      return el("li", { class: "call-item", dataset: { activityId: a.id } },
        el("span", { class: "grow" },
          el("span", { text: inbound ? "From " : "To " }),
          a.contact_id ? el("a", { href: "#/contacts/" + id(a.contact_id), text: who }) : el("strong", { text: who }),
          a.summary ? el("div", { class: "muted", text: a.summary }) : null,
          a.error_message ? el("div", { class: "error", text: asSentence(a.error_message) }) : null),
        el("span", { class: "muted", text: fmtTime(a.date_created) }),
        badge(b[0], b[1]),
        a.duration ? el("span", { text: fmtDuration(a.duration) }) : null,
        a.handled_by === "ai" ? badge("Cody's AI", "ai") : a.user_name ? el("span", { class: "muted", text: a.user_name }) : null);
    },
  });

  function openCalls() {
    callList.reload();
    every(5000, function () { return state.page === "calls" ? callList.reload() : null; });
  }

  $("calls-filter").addEventListener("change", function () { callList.reset(); callList.reload(); });

  // -- settings --------------------------------------------------------------------------------------------

  var numberList = new Pager({
    list: $("number-list"), more: null, error: pageError("settings"),
    empty: "No business numbers yet. Search below to buy one.",
    fetch: function (skip, limit) { return api("GET", "/api/v1/phone_number/" + query({ _skip: skip, _limit: MAX_LIMIT })); },
    render: function (n) {
      var caps = n.capabilities || {};
      return el("li", { dataset: { numberId: n.id } },
        el("span", { class: "grow" }, el("strong", { text: n.number_formatted || n.number }),
          n.label ? el("span", { class: "muted", text: " · " + n.label }) : null),
        ["sms", "mms", "voice"].filter(function (k) { return caps[k]; }).map(function (k) { return badge(k.toUpperCase(), ""); }),
        badge(n.status, n.status === "active" ? "ok" : ""),
        n.monthly_cost ? el("span", { class: "muted", text: money(n.monthly_cost) + "/month" }) : null,
        n.status === "active" ? el("button", { type: "button", class: "danger", text: "Release", onclick: function (event) {
          if (!window.confirm("Release " + (n.number_formatted || n.number) + "? Texts and calls to it will stop reaching you.")) return;
          event.target.disabled = true;
          api("DELETE", "/api/v1/phone_number/" + id(n.id) + "/").then(function () {
            return Promise.all([numberList.reload(), loadWallet()]);
          }, function (err) { event.target.disabled = false; showError($("number-error"), err); });
        } }) : null);
    },
  });

  function loadWallet() {
    return api("GET", "/api/v1/wallet/").then(function (w) {
      $("wallet-balance").textContent = money(w.balance, w.currency);
    }, function (err) { $("wallet-balance").textContent = "unavailable"; showError($("number-error"), err); });
  }

  $("number-search").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.target.querySelector("button");
    var results = $("number-results");
    showError($("number-error"), null);
    button.disabled = true;
    api("GET", "/api/v1/phone_number/available/" + query({
      country: $("number-country").value, type: $("number-type").value,
      area_code: $("number-area").value.trim(), contains: $("number-contains").value.trim(), _limit: 10,
    })).then(function (found) {
      results.replaceChildren.apply(results, found.data.map(function (offer) {
        return el("li", null,
          el("span", { class: "grow" }, el("strong", { text: offer.number_formatted || offer.number }),
            el("span", { class: "muted", text: " " + [offer.locality, offer.region].filter(Boolean).join(", ") })),
          el("span", { class: "muted", text: money(offer.monthly_cost) + "/month" }),
          el("button", { type: "button", class: "primary", text: "Buy", onclick: function (e) { buyNumber(e.target, offer); } }));
      }));
      if (!found.data.length) results.appendChild(el("li", { class: "empty", text: "No numbers match. Try another area code." }));
    }, function (err) { showError($("number-error"), err); }).then(function () { button.disabled = false; });
  });

  function buyNumber(button, offer) {
    button.disabled = true;
    showError($("number-error"), null);
    api("POST", "/api/v1/phone_number/purchase/", { number: offer.number }).then(function () {
      button.closest("li").remove();
      return Promise.all([numberList.reload(), loadWallet()]);
    }, function (err) { button.disabled = false; showError($("number-error"), err); });
  }

  $("forwarding-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = $("forwarding-phone").value.trim();
    var button = event.target.querySelector("button");
    button.disabled = true;
    showStatus($("forwarding-status"), null);
    api("PUT", "/api/v1/me/", { forwarding_phone: value || null }).then(function (me) {
      state.me = me;
      $("forwarding-phone").value = me.forwarding_phone_formatted || me.forwarding_phone || "";
      $("forwarding-status").className = "status";
      showStatus($("forwarding-status"), me.forwarding_phone ? "Saved. Calls ring " + (me.forwarding_phone_formatted || me.forwarding_phone) + "." : "Forwarding phone removed.");
    }, function (err) {
      $("forwarding-status").className = "error";
      showStatus($("forwarding-status"), errorText(err));
    }).then(function () { button.disabled = false; });
  });

  function showVoicePin(me) {
    $("voice-pin-state").textContent = me.voice_pin_set ? "A PIN is set: voice commands by phone are on."
      : "No PIN yet: voice commands by phone are off.";
    $("voice-pin-remove").hidden = !me.voice_pin_set;
  }

  /** PUT the new PIN (null removes it); the PIN itself never comes back. */
  function saveVoicePin(pin, button) {
    button.disabled = true;
    showStatus($("voice-pin-status"), null);
    api("PUT", "/api/v1/me/", { voice_pin: pin }).then(function (me) {
      state.me = me;
      $("voice-pin").value = "";
      showVoicePin(me);
      $("voice-pin-status").className = "status";
      showStatus($("voice-pin-status"), me.voice_pin_set ? "PIN saved." : "PIN removed.");
    }, function (err) {
      $("voice-pin-status").className = "error";
      showStatus($("voice-pin-status"), errorText(err));
    }).then(function () { button.disabled = false; });
  }

  $("voice-pin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    saveVoicePin($("voice-pin").value.trim(), event.target.querySelector("button[type=submit]"));
  });
  $("voice-pin-remove").addEventListener("click", function (event) { saveVoicePin(null, event.target); });

  var templateList = new Pager({
    list: $("template-list"), more: $("templates-more"), error: pageError("settings"),
    empty: "No templates yet.",
    fetch: function (skip, limit) { return api("GET", "/api/v1/sms_template/" + query({ _skip: skip, _limit: limit })); },
    render: function (t) {
      var active = t.status === "active";
      return el("li", { dataset: { templateId: t.id } },
        el("span", { class: "grow" }, el("strong", { text: t.name }), el("div", { class: "muted", text: t.text })),
        badge(t.is_shared ? "shared" : "personal", ""), active ? null : badge("archived", "warn"),
        el("button", { type: "button", text: active ? "Archive" : "Restore", onclick: function (event) {
          event.target.disabled = true;
          api("PUT", "/api/v1/sms_template/" + id(t.id) + "/", { status: active ? "archived" : "active" })
            .then(function () { return templateList.reload(); },
              function (err) { event.target.disabled = false; showError($("template-error"), err); });
        } }));
    },
  });

  $("template-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    showError($("template-error"), null);
    api("POST", "/api/v1/sms_template/", {
      name: $("template-name").value.trim(), text: $("template-text").value, is_shared: $("template-shared").checked,
    }).then(function () {
      $("template-name").value = "";
      $("template-text").value = "";
      return templateList.reload();
    }, function (err) { showError($("template-error"), err); }).then(function () { button.disabled = false; });
  });

  function openSettings() {
    numberList.reload();
    loadWallet();
    templateList.reload();
    showStatus($("forwarding-status"), null);
    showStatus($("voice-pin-status"), null);
    api("GET", "/api/v1/me/").then(function (me) {
      state.me = me;
      $("forwarding-phone").value = me.forwarding_phone_formatted || me.forwarding_phone || "";
      showVoicePin(me);
    }, function (err) { showError(pageError("settings"), err); });
  }

  // -- the sandbox panel -----------------------------------------------------------------------------------

  function loadSandboxContacts() {
    var select = $("sandbox-contact");
    if (!select) return;
    api("GET", "/api/web/contacts/" + query({ _limit: MAX_LIMIT })).then(function (page) {
      var keep = select.value;
      select.replaceChildren.apply(select, page.data.filter(function (c) { return c.phones && c.phones.length; })
        .map(function (c) { return el("option", { value: c.id, text: c.name + " · " + (c.phones[0].phone_formatted || c.phones[0].phone) }); }));
      if (keep) select.value = keep;
      if (state.contactId) selectSandboxContact(state.contactId);
    }, function (err) { showStatus($("sandbox-status"), errorText(err)); });
  }

  function selectSandboxContact(contactId) {
    var select = $("sandbox-contact");
    if (!select || !contactId) return;
    if (Array.from(select.options).some(function (o) { return o.value === contactId; })) select.value = contactId;
  }

  function sandboxSay(text, isError) {
    var node = $("sandbox-status");
    node.className = isError ? "error" : "status";
    showStatus(node, text);
  }

  function afterSimulation() {
    refreshInboxCount();
    if (state.page === "contact" && card.timeline) { card.timeline.refresh(); refreshAssignment(); }
    if (state.page === "inbox") reloadInbox();
    if (state.page === "calls") callList.reload();
  }

  if ($("sandbox-form")) {
    $("sandbox-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var contactId = $("sandbox-contact").value;
      var body = $("sandbox-body").value.trim();
      if (!contactId) { sandboxSay("Pick a contact first.", true); return; }
      if (!body) { sandboxSay("Type what the contact replies.", true); return; }
      var button = $("sandbox-reply");
      button.disabled = true;
      api("POST", "/api/sandbox/sms", { contact_id: contactId, body: body }).then(function () {
        $("sandbox-body").value = "";
        var name = $("sandbox-contact").selectedOptions[0].textContent.split(" · ")[0];
        sandboxSay(name + " replied. It is on their thread and in the Inbox.", false);
        afterSimulation();
      }, function (err) { sandboxSay(errorText(err), true); }).then(function () { button.disabled = false; });
    });

    $("sandbox-call").addEventListener("click", function () {
      var contactId = $("sandbox-contact").value;
      if (!contactId) { sandboxSay("Pick a contact first.", true); return; }
      var button = $("sandbox-call");
      button.disabled = true;
      api("POST", "/api/sandbox/call", { contact_id: contactId }).then(function () {
        var name = $("sandbox-contact").selectedOptions[0].textContent.split(" · ")[0];
        sandboxSay(name + " is calling your business line.", false);
        setTimeout(afterSimulation, 1500);
      }, function (err) {
        sandboxSay(missingRoute(err) ? "Simulating a call isn't available on this server yet." : errorText(err), true);
      }).then(function () { button.disabled = false; });
    });
  }

  // -- start -----------------------------------------------------------------------------------------------

  window.addEventListener("error", function () {
    showError($("banner"), "Something went wrong on this page. Reload it and try again.");
  });
  window.addEventListener("unhandledrejection", function (event) {
    showError($("banner"), errorText(event.reason));
  });

  (function start() {
    var key = storedKey();
    var signedOut = false;
    try { signedOut = sessionStorage.getItem(SIGNED_OUT) === "1"; } catch (e) { signedOut = false; }
    var demo = demoKey();
    if (!key && demo && !signedOut) key = demo;
    if (!key) { showSignin(null); return; }
    var remembered = false;
    try { remembered = localStorage.getItem(KEY) === key; } catch (e) { remembered = false; }
    signInWith(key).then(function () { storeKey(key, remembered); }, function (err) {
      forgetKey();
      showSignin(err.status === 401 ? "Your saved API key is no longer accepted. Sign in again." : errorText(err));
    });
  })();
})();
