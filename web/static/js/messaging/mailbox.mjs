// Inbox and thread views: envelopes are fetched as ciphertext and opened here, in memory.
// Plaintext is put into the page with textContent only and is never stored or logged.
import {
  b64, blobSize, decryptAttachment, openMessage, parseEnvelope, publicOf, seal, streamReader,
} from "../crypto/index.mjs";
import { api } from "./api.mjs";
import { formatDateTime, formatSize } from "./format.mjs";
import { loadDefinition, referralFormProblems } from "./referral.mjs";
import { renderForm, renderProblems } from "./referral-form.mjs";

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const tlpClass = (tlp) => `tlp tlp-${tlp.toLowerCase().replace(/[:+]/g, "-")}`;
const when = (time) => formatDateTime(time);

export class Mailbox {
  constructor(state, ui, navigate) {
    this.state = state;
    this.ui = ui;
    this.navigate = navigate;
    this.opened = new Map(); // id -> {header, body, hh} for this page's life only
    this.cursor = null;
    $("inbox-more").addEventListener("click", () => this.page(false));
  }

  get sodium() { return this.state.sodium; }

  /** Open one copy; throws when any check of the spec fails (nothing is shown then). */
  async open(copy) {
    if (this.opened.has(copy.id)) return this.opened.get(copy.id);
    const envelope = copy.envelope || (await api("GET", `/messages/${copy.id}`)).envelope;
    const { header } = parseEnvelope(this.sodium, envelope);
    const { keyring, trust } = this.state;
    let senderKey;
    if (header.sender === keyring.userId) {
      senderKey = keyring.keys.find((k) => k.keyId === header.sender_key);
      if (!senderKey) throw new Error("not one of my keys");
      senderKey = publicOf(senderKey);
    } else {
      senderKey = await trust.senderKey(header.sender, header.sender_key);
    }
    const opened = openMessage(this.sodium, envelope, keyring.keys, senderKey);
    this.opened.set(copy.id, opened);
    return opened;
  }

  async name(userId) {
    if (userId === this.state.keyring.userId) return this.ui.T.you;
    try { return (await this.state.trust.person(userId)).name; } catch { return "?"; }
  }

  async inbox() {
    $("inbox-list").replaceChildren();
    this.cursor = null;
    await this.page(true);
  }

  async page(first) {
    const T = this.ui.T;
    const query = new URLSearchParams({ box: "inbox", limit: "20" });
    if (!first && this.cursor) query.set("cursor", this.cursor);
    const data = await api("GET", `/messages?${query}`);
    this.cursor = data.next;
    $("inbox-more").hidden = !data.next;
    const list = $("inbox-list");
    for (const copy of data.messages) {
      if (copy.kind === "receipt") continue;
      const item = el("li", { class: copy.read_at ? "message read" : "message unread" });
      item.append(el("span", { class: "state", text: copy.read_at ? T.read : T.unread }));
      try {
        const { body } = await this.open(copy);
        item.append(el("span", { class: tlpClass(body.tlp), text: body.tlp }));
        if (copy.kind === "referral") item.append(el("span", { class: "kind-referral", text: T.referral }));
        item.append(el("a", { href: `/messages/threads/${copy.thread}`, class: "subject", text: body.subject || "—" }));
      } catch {
        item.append(el("span", { class: "problem", text: T.cannotOpen }));
      }
      item.append(el("span", { class: "from", text: `${T.from}: ${await this.name(copy.sender)}` }));
      item.append(el("time", { datetime: copy.created_at, text: when(copy.created_at) }));
      list.append(item);
    }
    if (first && !list.children.length) list.append(el("li", { text: T.inboxEmpty }));
  }

  async thread(threadId) {
    const T = this.ui.T;
    const me = this.state.keyring.userId;
    const data = await api("GET", `/threads/${threadId}`);
    const receipts = new Map();
    const messages = [];
    for (const copy of data.messages) {
      let opened = null;
      try { opened = await this.open(copy); } catch { opened = null; }
      if (copy.kind === "receipt") {
        if (opened) {
          const list = receipts.get(opened.body.receipt_for) || [];
          list.push({ who: copy.sender, hh: opened.body.hh });
          receipts.set(opened.body.receipt_for, list);
        }
        continue;
      }
      messages.push({ copy, opened });
    }
    const list = $("thread-messages");
    list.replaceChildren();
    let last = null;
    for (const { copy, opened } of messages) {
      const item = el("li", { class: "message", id: `message-${copy.id}` });
      if (!opened) {
        item.append(el("p", { class: "problem", text: T.cannotOpen }));
        list.append(item);
        continue;
      }
      last = { copy, opened };
      const { body } = opened;
      const head = el("p", { class: "meta" },
        el("span", { class: tlpClass(body.tlp), text: body.tlp }), " ",
        el("span", { text: `${T.from}: ${await this.name(copy.sender)}` }), " ",
        el("time", { datetime: copy.created_at, text: when(copy.created_at) }));
      if (copy.sender !== me) {
        try {
          const trust = this.state.trust.trustOf(await this.state.trust.person(copy.sender));
          head.append(" ", el("a", { href: `/messages/people/${copy.sender}`,
            class: `trust trust-${trust.level}`, text: T[`trust.${trust.level}`] }));
        } catch { /* the sender's entry is gone: the message itself was checked */ }
      }
      item.append(head);
      item.append(el("h3", { class: "subject", text: body.subject }));
      if (opened.header.kind === "referral") {
        item.classList.add("referral");
        item.append(await this.referralPart(copy, opened));
      }
      item.append(el("div", { class: "body", text: body.body }));
      if (body.attachments.length) {
        const files = el("ul", { class: "attachments" });
        for (const manifest of body.attachments) files.append(this.attachment(manifest));
        item.append(files);
      }
      const readers = (receipts.get(copy.id) || []).filter((r) => r.hh === b64(this.sodium, opened.hh));
      if (copy.sender === me) {
        const names = await Promise.all(readers.map((r) => this.name(r.who)));
        item.append(el("p", { class: "receipts", text: names.length ? `${T.readBy}: ${names.join(", ")}` : T.notReadYet }));
      }
      const actions = el("p", { class: "actions" });
      if (body.tlp !== "TLP:RED") {
        const forward = el("button", { type: "button", class: "forward", text: T.forward });
        forward.addEventListener("click", () => this.navigate("/messages/compose", {
          forward: { tlp: body.tlp, subject: body.subject, body: body.body },
        }));
        actions.append(forward);
      } else {
        actions.append(el("span", { class: "hint", text: T.redNoForward }));
      }
      item.append(actions);
      list.append(item);
      if (copy.sender !== me && !copy.read_at) await this.sendReceipt(copy, opened);
    }
    const reply = $("thread-reply");
    reply.hidden = !last;
    reply.onclick = null;
    if (last) {
      const people = new Set([last.copy.sender, ...last.opened.header.to]);
      people.delete(me);
      reply.href = "/messages/compose";
      reply.onclick = (event) => {
        event.preventDefault();
        event.stopPropagation();
        this.navigate("/messages/compose", { reply: {
          thread: threadId, to: [...people], subject: last.opened.body.subject,
          prev: b64(this.sodium, last.opened.hh),
        } });
      };
    }
  }

  /** A referral's form (checked by the shared rules: a bad one is named, never shown) and where
   * it stands, with the status changes this person may make. */
  async referralPart(copy, opened) {
    const T = this.ui.T;
    const part = el("div", { class: "referral-part" });
    const status = el("div", { class: "referral-state", id: `referral-state-${copy.id}` });
    part.append(status);
    try {
      const definition = await loadDefinition();
      const problems = referralFormProblems(definition, opened.body.form);
      part.append(problems.length ? renderProblems(definition, problems, T) : renderForm(definition, opened.body.form, T));
    } catch {
      part.append(el("p", { class: "problem", text: T.formNotLoaded }));
    }
    await this.referralStatus(copy, status);
    return part;
  }

  async referralStatus(copy, holder) {
    const T = this.ui.T;
    let referral;
    try {
      referral = await api("GET", `/referrals/${copy.id}`);
    } catch {
      holder.replaceChildren(el("p", { class: "hint", text: T.statusUnknown }));
      return;
    }
    const line = el("p", { class: "referral-status", "data-status": referral.status },
      `${T.status}: `, el("strong", { text: T[`status.${referral.status}`] || referral.status }));
    if (referral.overdue) line.append(" ", el("strong", { class: "badge badge-warn", text: T.overdue }));
    const actions = el("p", { class: "actions referral-actions" });
    const incoming = copy.sender !== this.state.keyring.userId;
    const next = {
      sent: incoming ? ["acknowledged", "accepted", "declined"] : [],
      acknowledged: incoming ? ["accepted", "declined"] : [],
      accepted: ["closed"], declined: ["closed"], redirected: ["closed"], closed: [],
    }[referral.status] || [];
    for (const target of next) {
      const button = el("button", { type: "button", class: `referral-action ${target === "declined" || target === "closed" ? "secondary" : ""}`,
        "data-status": target, text: T[`action.${target}`] });
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          const changed = await api("POST", `/referrals/${copy.id}/status`, { json: { status: target } });
          this.ui.status(`${T.statusChanged} ${T[`status.${changed.status}`]}`);
        } catch (error) {
          this.ui.problem(this.ui.explain(error));
        }
        await this.referralStatus(copy, holder);
      });
      actions.append(button);
    }
    actions.append(el("a", { href: "/referrals", text: T.handleOnPage }));
    holder.replaceChildren(line, actions);
  }

  /** Mark a message read and tell its sender with a signed receipt in the same thread. */
  async sendReceipt(copy, opened) {
    try {
      await api("POST", `/messages/${copy.id}/read`);
      const entry = await this.state.trust.person(copy.sender);
      if (!entry.current) return;
      const { envelope } = seal(this.sodium, this.state.keyring.current, [entry.current], {
        receipt_for: copy.id, hh: b64(this.sodium, opened.hh), status: "read",
      }, { kind: "receipt", thread: copy.thread });
      await api("POST", "/messages", { json: envelope });
      copy.read_at = new Date().toISOString();
    } catch {
      // a receipt is a courtesy: the message itself stays shown
    }
  }

  attachment(manifest) {
    const T = this.ui.T;
    const item = el("li", { class: "attachment" });
    item.append(el("span", { class: "name", text: `${manifest.name} (${formatSize(manifest.size)})` }));
    const button = el("button", { type: "button", text: T.download });
    const progress = el("progress", { max: String(manifest.size || 1), value: "0", hidden: "" });
    const result = el("span", { class: "attachment-status", role: "status" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      progress.hidden = false;
      result.textContent = T.decrypting;
      try {
        const response = await api("GET", `/blobs/${manifest.blob}`, { expect: "response" });
        const parts = [];
        let done = 0;
        const size = await decryptAttachment(this.sodium, streamReader(response.body), blobSize(manifest.size),
          manifest, async (chunk) => {
            parts.push(chunk);
            done += chunk.length;
            progress.value = done;
          });
        const url = URL.createObjectURL(new Blob(parts, { type: "application/octet-stream" }));
        const link = el("a", { href: url, download: manifest.name, class: "saved", text: manifest.name,
          "data-size": String(size) });
        result.replaceChildren(link);
        link.click();
      } catch {
        result.textContent = T.attachmentFailed;
      } finally {
        button.disabled = false;
      }
    });
    item.append(button, progress, result);
    return item;
  }
}
