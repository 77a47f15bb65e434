// Compose: recipients from the directory, an explicit TLP marking, attachments encrypted and
// uploaded (with progress) before the message that names them.
import { TLP_MARKINGS, encryptAttachment, fileReader, seal } from "../crypto/index.mjs";
import { api, uploadBlob } from "./api.mjs";
import { KeyChanged } from "./trust.mjs";
import { loadDefinition, referralFormProblems, todayBound } from "./referral.mjs";
import { ReferralFormFields } from "./referral-form.mjs";

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

export class Composer {
  constructor(state, ui, navigate) {
    this.state = state;
    this.ui = ui;
    this.navigate = navigate;
    this.recipients = new Map(); // user id -> {entry, key, changed}
    this.toOrg = null;
    this.context = {};
    this.busy = false;
    this.referral = false; // composing a referral: one organisation, the structured form
    this.referralFields = null;
    $("add-person").addEventListener("click", () => this.addByEmail());
    $("find-person").addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); this.addByEmail(); }
    });
    $("search-org").addEventListener("click", () => this.searchOrganisations());
    $("find-org").addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); this.searchOrganisations(); }
    });
    $("compose-form").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
  }

  get T() { return this.ui.T; }

  async open(extra, referral = false) {
    if (this.busy) return;
    $("compose-form").reset(); // also clears the TLP choice: it is always chosen explicitly
    $("compose-progress").replaceChildren();
    $("org-results").replaceChildren();
    this.recipients.clear();
    this.toOrg = null;
    this.context = extra || {};
    await this.setMode(referral);
    if (this.context.reply) {
      const reply = this.context.reply;
      $("compose-subject").value = reply.subject.startsWith("Re: ") ? reply.subject : `Re: ${reply.subject}`;
      for (const userId of reply.to) await this.add(userId);
    } else if (this.context.forward) {
      const forward = this.context.forward;
      $("compose-subject").value = `Fwd: ${forward.subject}`;
      $("compose-body").value = `\n\n---\n${forward.body}`;
    }
    this.draw();
  }

  /** Switch between a message and a referral (title, recipients, the form's fields). */
  async setMode(referral) {
    this.referral = referral;
    const mode = referral ? "referral" : "message";
    for (const id of ["compose-title", "compose-body-label"]) $(id).textContent = $(id).dataset[mode];
    $("find-person-block").hidden = referral;
    $("referral-intro").hidden = !referral;
    $("referral-from").hidden = !referral || $("referral-from-org").options.length < 2;
    $("referral-fields").hidden = !referral;
    // A referral is sent for one of the sender's organisations: without any, say so instead of
    // offering a form the relay would refuse (from-org-required).
    const noOrganisation = referral && !$("referral-from-org").options.length;
    $("compose-form").hidden = noOrganisation;
    if (noOrganisation) { this.ui.problem(this.T.noReferral); return; }
    if (!referral) return;
    if (!$("compose-subject").value) $("compose-subject").value = this.T.referral;
    if (!this.referralFields) {
      try {
        this.definition = await loadDefinition();
      } catch {
        this.ui.problem(this.T.formNotLoaded);
        return;
      }
      this.referralFields = new ReferralFormFields(this.definition, $("referral-fields"), this.T);
    }
    this.referralFields.reset();
  }

  async add(userId) {
    if (userId === this.state.keyring.userId) return;
    try {
      const { entry, key } = await this.state.trust.recipientKey(userId);
      if (!key) { this.ui.problem(`${entry.name}: ${this.T.noRecipientKey}`); return; }
      this.recipients.set(userId, { entry, key, changed: false });
    } catch (error) {
      if (!(error instanceof KeyChanged)) throw error;
      this.recipients.set(userId, { entry: error.person, key: null, changed: true });
      this.ui.problem(`${error.person.name}: ${this.T.keyChanged}`);
    }
  }

  async addByEmail() {
    const email = $("find-person").value.trim();
    if (!email) return;
    this.ui.problem("");
    try {
      const found = await api("GET", `/users/lookup?email=${encodeURIComponent(email)}`);
      await this.add(found.user);
      $("find-person").value = "";
    } catch (error) {
      this.ui.problem(error.status === 404 ? this.T.notFound : this.ui.explain(error));
    }
    this.draw();
  }

  async searchOrganisations() {
    const text = $("find-org").value.trim();
    const list = $("org-results");
    list.replaceChildren();
    if (!text && !this.referral) return;
    const query = new URLSearchParams({ q: text, per_page: "10" });
    if (this.referral) query.set("cross_border", "true"); // only organisations taking referrals
    try {
      const found = await api("GET", `/search?${query}`);
      if (this.referral) list.append(el("li", { class: "hint", text: this.T.referralOrgsOnly }));
      if (!found.hits.length) list.append(el("li", { text: this.T.notFound }));
      for (const hit of found.hits) {
        const choose = el("button", { type: "button", text: `${hit.name} (${hit.country})` });
        choose.addEventListener("click", () => this.chooseOrganisation(hit.id));
        list.append(el("li", {}, choose));
      }
    } catch (error) {
      this.ui.problem(this.ui.explain(error));
    }
  }

  async chooseOrganisation(id) {
    this.ui.problem("");
    try {
      const data = await api("GET", `/organizations/${encodeURIComponent(id)}/recipients`);
      const people = data.recipients.filter((r) => r.key && r.user !== this.state.keyring.userId);
      if (!people.length) { this.ui.problem(`${data.name}: ${this.T.noRecipientKey}`); return; }
      this.recipients.clear();
      for (const person of people) await this.add(person.user);
      this.toOrg = data.organization;
      $("org-results").replaceChildren();
      this.ui.status(`${this.T.to}: ${data.name}`);
    } catch (error) {
      this.ui.problem(this.ui.explain(error));
    }
    this.draw();
  }

  draw() {
    const list = $("recipients");
    list.replaceChildren();
    for (const [userId, item] of this.recipients) {
      const trust = this.state.trust.trustOf(item.entry);
      const row = el("li", { class: item.changed ? "recipient changed" : "recipient" },
        el("span", { class: "name", text: item.entry.name }), " ",
        el("span", { class: `trust trust-${trust.level}`, text: this.T[`trust.${trust.level}`] }), " ",
        el("a", { href: `/messages/people/${userId}`, text: this.T.safetyNumbers }));
      if (item.changed) {
        row.append(el("p", { class: "problem", text: this.T.keyChanged }));
        const ack = el("button", { type: "button", class: "acknowledge", text: this.T.acknowledge });
        ack.addEventListener("click", () => {
          this.state.trust.acknowledge(item.entry);
          this.recipients.set(userId, { entry: item.entry, key: item.entry.current, changed: false });
          this.ui.problem("");
          this.draw();
        });
        row.append(ack);
      }
      const remove = el("button", { type: "button", class: "remove", text: `${this.T.remove} ${item.entry.name}` });
      remove.addEventListener("click", () => {
        this.recipients.delete(userId);
        // a referral stays addressed to its organisation while any of its contact points remains
        if (!this.referral || !this.recipients.size) this.toOrg = null;
        this.draw();
      });
      row.append(remove);
      list.append(row);
    }
  }

  progress(label, max) {
    const holder = $("compose-progress");
    const id = `progress-${holder.children.length}`;
    const bar = el("progress", { id, max: String(Math.max(max, 1)), value: "0" });
    holder.append(el("div", {}, el("label", { for: id, text: label }), bar));
    return bar;
  }

  async send() {
    const T = this.T;
    const form = $("compose-form");
    const tlp = form.querySelector("input[name=tlp]:checked")?.value;
    const fail = (text) => { this.ui.problem(text); return false; };
    let referralForm = null;
    if (this.referral) {
      if (!this.referralFields) return fail(T.formNotLoaded);
      referralForm = this.referralFields.read();
      const problems = referralFormProblems(this.definition, referralForm, todayBound());
      const first = this.referralFields.showProblems(problems);
      if (problems.length) {
        if (first) first.focus();
        return fail(T.formInvalid);
      }
      if (!this.toOrg) { $("find-org").focus(); return fail(T.chooseOrganisation); }
    }
    if (!this.recipients.size) return fail(T.chooseRecipient);
    if ([...this.recipients.values()].some((r) => r.changed)) return fail(T.keyChanged);
    if (!tlp) { $("tlp-1").focus(); return fail(T.chooseTlp); }
    const forward = this.context.forward;
    if (forward && forward.tlp === "TLP:RED") return fail(T.redNoForward);
    if (forward && TLP_MARKINGS.indexOf(tlp) > TLP_MARKINGS.indexOf(forward.tlp)) {
      return fail(T.forwardTlp); // TLP_MARKINGS runs from the strictest to the least strict
    }
    if (this.busy) return false;
    this.busy = true;
    $("compose-send").disabled = true;
    this.ui.problem("");
    this.ui.status(T.sending);
    const sodium = this.state.sodium;
    try {
      const attachments = [];
      for (const file of $("compose-files").files) {
        const blobId = crypto.randomUUID();
        const encrypting = this.progress(`${T.encrypting}: ${file.name}`, file.size);
        const parts = [];
        let done = 0;
        const manifest = await encryptAttachment(sodium, fileReader(file), file.size,
          { blobId, name: file.name, mime: file.type || "application/octet-stream" }, async (piece) => {
            parts.push(piece);
            done = Math.min(file.size, done + Math.max(piece.length - 17, 0));
            encrypting.value = done;
          });
        encrypting.value = file.size;
        const uploading = this.progress(`${T.uploading}: ${file.name}`, 1);
        await uploadBlob(blobId, new Blob(parts), (loaded, total) => {
          uploading.max = total;
          uploading.value = loaded;
        });
        uploading.value = uploading.max;
        attachments.push(manifest);
      }
      const keys = [...this.recipients.values()].map((r) => r.key);
      const reply = this.context.reply;
      const body = {
        tlp, subject: $("compose-subject").value, body: $("compose-body").value, form: referralForm,
        attachments, prev: reply ? reply.prev : null,
      };
      const sealed = seal(sodium, this.state.keyring.current, keys, body, {
        thread: reply ? reply.thread : undefined, toOrg: this.toOrg,
        kind: this.referral ? "referral" : "message",
      });
      const posted = { envelope: sealed.envelope, blobs: attachments.map((a) => a.blob) };
      if (this.referral) {
        // the only part of the form the relay sees: it needs the urgency for the service level
        posted.referral = { urgency: referralForm.urgency };
        const own = $("referral-from-org");
        if (own.options.length > 1) posted.referral.from_org = own.value;
      }
      await api("POST", "/messages", { json: posted });
      form.reset();
      if (this.referralFields) this.referralFields.reset();
      this.recipients.clear();
      this.ui.status(this.referral ? T.referralSent : T.sent);
      const thread = reply ? reply.thread : sealed.id;
      this.busy = false;
      this.navigate(`/messages/threads/${thread}`);
    } catch (error) {
      this.ui.status("");
      this.ui.problem(`${T.sendFailed} ${this.ui.explain(error)}`);
    } finally {
      this.busy = false;
      $("compose-send").disabled = false;
    }
    return true;
  }
}
