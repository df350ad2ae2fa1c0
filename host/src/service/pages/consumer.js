// The consumer's page: sign in with the wallet key (a challenge signed in the browser),
// see every wallet and every request waiting in full, and authorize, dispute or refund,
// each event signed here with the key that never leaves the browser.
'use strict';

(() => {
  const { t, L, h, label, yuan, when, short, api, guarded, eventDigest, importSecret, sign, keys, eventId, utf8 } = Prepaid;
  let me; // {key: CryptoKey, public: hex}
  let token;
  let expires;
  // The service's clock less this browser's, in seconds, as the sign-in showed it: the
  // deadlines the page signs are in the service's time.
  let skew = 0;
  // How long a signed event may wait before it applies: a preview's is short, since it is
  // sent but not meant to be journaled.
  const DEADLINE = 300;
  const PREVIEW_DEADLINE = 60;

  const $ = (id) => document.getElementById(id);

  async function signIn() {
    const asked = await api('POST', '/v1/consumer/challenge', { body: { consumer: me.public } });
    const { challenge } = asked;
    // A challenge may be answered for 120 seconds from when the service issued it.
    skew = Date.parse(asked.expires_at) / 1000 - 120 - Date.now() / 1000;
    const signature = await sign(me.key, utf8(`prepaid-login/v1\n${challenge}`));
    const answer = await api('POST', '/v1/consumer/token', { body: { challenge, signature } });
    token = answer.token;
    expires = answer.expires_at;
  }

  // The API with the consumer's token: signed in again when the token has lapsed (it lasts
  // 15 minutes).
  async function authed(method, path, body) {
    if (!token) await signIn();
    try {
      return await api(method, path, { body, bearer: token });
    } catch (error) {
      if (error.code !== 'unauthorized') throw error;
      await signIn();
      return api(method, path, { body, bearer: token });
    }
  }

  // Submits `event` to `wallet`, signed here with a deadline (`not_after`, the last field of
  // every event the page signs), so that no one holding it back can make it apply later:
  // to the dry run (`preview`) or for real.
  async function signed(wallet, kind, fields, preview = false) {
    if (!token) await signIn();
    const now = Math.floor(Date.now() / 1000 + skew);
    const event = { ...fields, not_after: now + (preview ? PREVIEW_DEADLINE : DEADLINE) };
    const id = eventId(kind);
    const signature = await sign(me.key, await eventDigest(wallet, id, event));
    const path = `/v1/wallets/${encodeURIComponent(wallet)}/${preview ? 'dry-run' : 'events'}`;
    const answer = await authed('POST', path, { wallet, id, event, signature });
    const verdict = preview ? answer.verdict : answer;
    if (!verdict.ok) throw new Prepaid.ApiError(verdict.error?.code ?? 'rejected', verdict.error?.message ?? t('rejected'));
    return answer;
  }

  function figure(key, value) {
    return h('div', { class: 'figure' }, h('dt', {}, L(key)), h('dd', { 'data-figure': key }, value));
  }

  // Fen as the API writes an amount ("240.00").
  const amountOf = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

  // An authorization names the request and echoes what it asks, as the product counts it:
  // a plan's stage, a stored-value card's face value, or units. Fields in the contract's
  // order.
  function authorization(product, request) {
    const asked = { type: 'authorize', request: request.request };
    if (request.stage !== undefined) return { ...asked, stage: request.stage };
    if (product === 'stored_value') return { ...asked, amount: amountOf(request.units) };
    return { ...asked, units: request.units };
  }

  // The reasons a consumer may give for a dispute (the contract's codes).
  const REASONS = ['not_delivered', 'not_as_agreed', 'wrong_amount', 'merchant_gone', 'other'];

  // A dispute names what it contests (a request, or the whole wallet) and why. What
  // happened stays with the consumer: the event carries its SHA-256, which the regulator
  // checks against the account the consumer gives them.
  function disputeForm(wallet, request, panel) {
    const reason = h('select', { class: 'dispute-reason' }, REASONS.map((code) => h('option', { value: code }, t(`reason.${code}`))));
    const text = h('textarea', { class: 'dispute-text', rows: 3, 'data-placeholder': 'dispute.describe', placeholder: t('dispute.describe') });
    panel.replaceChildren(reason, text,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'send-dispute', onclick: () => sendDispute(wallet, request, reason.value, text.value) }, L('dispute.send')),
        h('button', { type: 'button', class: 'secondary', onclick: () => panel.replaceChildren() }, L('cancel'))));
  }

  async function sendDispute(wallet, request, reason, text) {
    const evidence = Prepaid.hex(await crypto.subtle.digest('SHA-256', utf8(text)));
    // Fields in the contract's order.
    await act(wallet, 'dispute', { type: 'dispute', ...(request ? { requests: [request] } : {}), reason, evidence });
  }

  // The disputes open in a wallet: who raised each, why, what is at stake, and when the
  // regulator's ruling is due (after it, the default ruling applies).
  function disputesCard(disputes) {
    return h('section', { class: 'disputes' },
      h('h4', {}, L('disputes')),
      h('ul', {}, disputes.map((dispute) => h('li', { class: 'dispute', 'data-dispute': dispute.request ?? '' },
        h('dl', { class: 'small' },
          figure('request', dispute.request ?? t('dispute.whole')),
          figure('dispute.by', t(`party.${dispute.by}`)),
          figure('dispute.reason', t(`reason.${dispute.reason}`)),
          figure('dispute.amount', yuan(dispute.amount)),
          dispute.ruling_due ? figure('dispute.ruling_due', when(dispute.ruling_due)) : null)))));
  }

  function requestCard(wallet, product, request, disputedBy) {
    const what = request.stage_name
      ?? (product === 'stored_value' ? yuan(amountOf(request.units)) : `${request.units} ${t('units.count')}`);
    const panel = h('div', { class: 'dispute-panel' });
    const card = h('li', { class: 'request', 'data-request': request.request },
      h('div', { class: 'request-head' },
        h('strong', {}, what),
        h('span', { class: 'amount' }, yuan(request.release))),
      h('dl', { class: 'small' },
        figure('request', request.request),
        request.stage !== undefined ? figure('stage', `${request.stage + 1}: ${request.stage_name ?? ''}`) : null,
        request.stage === undefined && product !== 'stored_value' ? figure('units', request.units) : null,
        figure('requested_at', when(request.requested_at)),
        request.deemed_at ? figure('deemed_at', when(request.deemed_at)) : null,
        request.disputed ? figure('disputed', '✓') : null),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'authorize', onclick: () => act(wallet, 'authorize', authorization(product, request)) }, L('authorize')),
        // A request the merchant took to the regulator the consumer may dispute in turn.
        request.disputed && disputedBy !== 'merchant' ? null : h('button', { type: 'button', class: 'secondary dispute', onclick: () => disputeForm(wallet, request.request, panel) }, L('dispute'))),
      panel);
    return card;
  }

  async function act(wallet, kind, event) {
    await guarded(async () => {
      await signed(wallet, kind, event);
      await load();
    });
  }

  // A refund shows what would come back (the wallet's own component's dry run) before it
  // is signed for real, then its receipt.
  async function refund(wallet, panel) {
    await guarded(async () => {
      const preview = await signed(wallet, 'refund', { type: 'refund' }, true);
      const back = preview.verdict.effects.filter((effect) => effect.kind === 'refund');
      const total = back.reduce((sum, effect) => sum + Prepaid.fen(effect.amount), 0);
      panel.replaceChildren(
        h('p', { class: 'preview' }, L('refund.preview'), ' ', h('strong', { class: 'refund-amount' }, yuan((total / 100).toFixed(2)))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'danger confirm-refund', onclick: () => confirmRefund(wallet, panel) }, L('refund.confirm')),
          h('button', { type: 'button', class: 'secondary', onclick: () => panel.replaceChildren() }, L('cancel'))));
    });
  }

  async function confirmRefund(wallet, panel) {
    await guarded(async () => {
      const answer = await signed(wallet, 'refund', { type: 'refund' });
      await load();
      const card = document.querySelector(`[data-wallet="${CSS.escape(wallet)}"] .refund-panel`) ?? panel;
      card.replaceChildren(h('p', {}, L('done')), h('h4', {}, L('receipt')), h('pre', { class: 'receipt' }, answer.receipt));
    });
  }

  async function statement(wallet, panel) {
    await guarded(async () => {
      const { statement: lines } = await authed('GET', `/v1/wallets/${encodeURIComponent(wallet)}/statement`);
      panel.replaceChildren(Prepaid.statementTable(lines));
    });
  }

  // The regulator's migration waiting for the consumer: what each path gives them (and the
  // merchant) under the wallet's rules now and under the new ones, side by side, and their
  // consent, signed here over the migration as the regulator signed it.
  function proposalCard(wallet, migration) {
    const { old, new: proposed } = migration.plan;
    const paths = ['refund_now', 'at_expiry', 'at_closure'];
    const split = (terms, path) => `${yuan(terms.paths[path].consumer)} (${t('proposal.merchant')} ${yuan(terms.paths[path].merchant)})`;
    return h('section', { class: 'proposal' },
      h('h4', {}, L('proposal')),
      h('p', { class: 'hint' }, L('proposal.explain')),
      h('p', { class: 'hint' }, L('proposal.code'), ' ', h('code', { class: 'proposal-to', title: migration.event.event.to }, short(migration.event.event.to))),
      h('table', { class: 'proposal-terms' },
        h('thead', {}, h('tr', {}, h('th', {}, L('proposal.path')), h('th', { class: 'amount' }, L('proposal.old')), h('th', { class: 'amount' }, L('proposal.new')))),
        h('tbody', {}, paths.map((path) => {
          const worse = Prepaid.fen(proposed.paths[path].consumer) < Prepaid.fen(old.paths[path].consumer);
          return h('tr', { 'data-path': path, class: worse ? 'worse' : '' },
            h('td', {}, L(`proposal.${path}`)),
            h('td', { class: 'amount old' }, split(old, path)),
            h('td', { class: 'amount new' }, split(proposed, path)));
        }))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'consent', onclick: () => consent(wallet, migration) }, L('proposal.consent'))));
  }

  // The consent is the wallet key's signature of the regulator's event, field by field in
  // the order and the form the contract signs (never a digest the service hands over),
  // and only once the regulator's signature of that same message holds.
  async function consent(wallet, waiting) {
    await guarded(async () => {
      if (!token) await signIn();
      const migration = waiting.event;
      const lower = (text) => String(text).toLowerCase();
      const { from, to, plan, ask_consent: ask } = migration.event;
      const event = { type: 'migrate', from: lower(from), to: lower(to), ...(plan ? { plan: lower(plan) } : {}), ...(ask === true ? { ask_consent: true } : {}) };
      const digest = await eventDigest(wallet, migration.id, event);
      if (!await Prepaid.verify(waiting.regulator, migration.signature, digest)) {
        throw new Error(t('proposal.unsigned'));
      }
      const signature = await sign(me.key, digest);
      await authed('POST', `/v1/wallets/${encodeURIComponent(wallet)}/migration/consent`, { consent: signature });
      await load();
      const card = document.querySelector(`[data-wallet="${CSS.escape(wallet)}"] .refund-panel`);
      card?.replaceChildren(h('p', { class: 'consented' }, L('proposal.done')));
    });
  }

  // What the merchant owes the consumer beyond the wallet, and what its releases have
  // paid of it.
  function claimsCard(claims) {
    return h('section', { class: 'claims' },
      h('h4', {}, L('claims')),
      h('p', { class: 'hint' }, L('claims.explain')),
      h('ul', {}, claims.map((claim) => h('li', { class: 'claim', 'data-claim': claim.claim },
        h('dl', { class: 'figures' },
          figure('claim.amount', yuan(claim.amount)),
          figure('claim.paid', yuan(claim.paid)),
          claim.settled_at ? figure('claim.settled', when(claim.settled_at)) : figure('claim.remaining', yuan(claim.remaining))),
        claim.payments.length ? h('ul', { class: 'payments' }, claim.payments.map((payment) =>
          h('li', {}, L('claim.payment'), ` ${yuan(payment.amount)} · ${when(payment.at)}`))) : null))));
  }

  function walletCard(entry) {
    const { wallet, view, details, migration, claims, disputes } = entry;
    const refundPanel = h('div', { class: 'refund-panel' });
    const disputePanel = h('div', { class: 'dispute-panel' });
    const disputedBy = new Map((disputes ?? []).filter((dispute) => dispute.request).map((dispute) => [dispute.request, dispute.by]));
    const statementPanel = h('div', { class: 'statement-panel' });
    const requests = details?.requests ?? [];
    return h('article', { class: 'wallet', 'data-wallet': wallet },
      h('header', {}, h('h3', {}, L('wallet'), ` ${wallet}`), h('span', { class: `status ${view.status}` }, L(`status.${view.status}`))),
      // Whom the consumer pays, by the name the register has, before anything is signed.
      h('p', { class: 'merchant-name', title: view.merchant }, L('merchant'), ': ', h('bdi', {}, entry.merchant_name ?? short(view.merchant))),
      h('dl', { class: 'figures' },
        figure('product', L(`product.${view.product}`)),
        figure('paid', yuan(view.paid)),
        figure('frozen', yuan(view.frozen)),
        figure('released', yuan(view.released)),
        figure('refunded', yuan(view.refunded)),
        figure('pending', yuan(view.pending)),
        view.owed && view.owed !== '0.00' ? figure('owed', yuan(view.owed)) : null,
        // What is left, as the product counts it: a card's face value; a plan's stages.
        details && view.product === 'stored_value' ? figure('units_left', yuan(amountOf(details.units_left))) : null,
        details && !['stored_value', 'plan'].includes(view.product) ? figure('units_left', details.units_left) : null,
        details?.stages_left?.length ? figure('stages_left', details.stages_left.join(', ')) : null,
        details ? figure('cooling_off_ends', when(details.cooling_off_ends)) : null,
        details?.expires_at ? figure('expires_at', when(details.expires_at)) : null,
        details?.refund_hold_ends ? figure('refund_hold_ends', when(details.refund_hold_ends)) : null,
        details?.awaiting_funding ? figure('awaiting_funding', '✓') : null),
      migration ? proposalCard(wallet, migration) : null,
      claims?.length ? claimsCard(claims) : null,
      disputes?.length ? disputesCard(disputes) : null,
      h('h4', {}, L('requests')),
      requests.length ? h('ul', { class: 'requests' }, requests.map((request) => requestCard(wallet, view.product, request, disputedBy.get(request.request)))) : h('p', { class: 'hint' }, L('requests.none')),
      h('div', { class: 'actions' },
        ['closed', 'settling'].includes(view.status) ? null : h('button', { type: 'button', class: 'danger refund', onclick: () => refund(wallet, refundPanel) }, L('refund')),
        view.status === 'active' && !details?.awaiting_funding ? h('button', { type: 'button', class: 'secondary dispute-wallet', onclick: () => disputeForm(wallet, null, disputePanel) }, L('dispute.wallet')) : null,
        h('button', { type: 'button', class: 'secondary show-statement', onclick: () => statement(wallet, statementPanel) }, L('statement.show'))),
      disputePanel,
      refundPanel,
      statementPanel);
  }

  async function load() {
    const { wallets } = await authed('GET', '/v1/consumer/wallets');
    const { notices } = await authed('GET', '/v1/notices');
    $('wallets').replaceChildren(...(wallets.length ? wallets.map(walletCard) : [h('p', { class: 'hint' }, L('wallets.none'))]));
    $('notices').replaceChildren(...(notices.length
      ? notices.map((notice) => h('li', { class: `notice ${notice.kind}` },
        h('strong', {}, L(`notice.${notice.kind}`)), ' ', L('wallet'), ` ${notice.wallet}`,
        notice.request ? ` · ${notice.request}` : '', ' · ', when(notice.at), notice.amount ? ` · ${yuan(notice.amount)}` : ''))
      : [h('li', { class: 'hint' }, L('notices.none'))]));
    $('session').textContent = `${t('signed_in')} ${when(expires)}`;
    $('wallets-section').hidden = false;
    $('notices-section').hidden = false;
    label();
  }

  // The public register: anyone looks a merchant up by licence number or name, before
  // paying it, signed in or not.
  async function lookUp() {
    const q = $('register-q').value.trim();
    const { merchants } = await api('GET', `/v1/register?q=${encodeURIComponent(q)}`);
    $('register').replaceChildren(...(merchants.length
      ? merchants.map((merchant) => h('li', { class: 'registered', 'data-licence': merchant.licence },
        h('strong', {}, h('bdi', {}, merchant.name)),
        h('dl', { class: 'small' },
          figure('register.licence', merchant.licence),
          figure('register.status', t(`merchant_status.${merchant.status}`)),
          figure('register.industry', t(`industry.${merchant.industry}`)),
          figure('register.district', h('bdi', {}, merchant.district)),
          merchant.closure_effective ? figure('register.closes', when(merchant.closure_effective)) : null),
        merchant.listings.length
          ? h('ul', { class: 'listings' }, merchant.listings.map((listing) => h('li', { 'data-listing': listing.id },
            h('bdi', {}, listing.name), ' (', h('bdi', {}, listing.category), ')', listing.approved_until ? ` · ${t('register.until')} ${when(listing.approved_until)}` : '')))
          : h('p', { class: 'hint' }, L('register.no_listings'))))
      : [h('li', { class: 'hint' }, L('register.none'))]));
    label();
  }

  // Keeps the key in this browser, asking it not to evict the storage (a phone may).
  async function keep(found) {
    await keys.put('consumer', found);
    await navigator.storage?.persist?.();
    await use(found);
  }

  async function use(found) {
    me = found;
    token = undefined;
    $('key-public').textContent = short(me.public);
    $('key-public').title = me.public;
    $('key-missing').hidden = true;
    $('key-present').hidden = false;
    await load();
  }

  document.addEventListener('DOMContentLoaded', () => {
    // The secret is read once, and taken out of the inputs whatever happens.
    $('key-import').addEventListener('click', () => guarded(async () => {
      const file = $('key-file').files[0];
      const secret = file ? await file.text() : $('key-secret').value;
      $('key-secret').value = '';
      $('key-file').value = '';
      await keep(await importSecret(secret));
    }));
    // A new key is handed over as a key file, the only copy outside the browser, and used
    // once it is imported from that file: a download a phone blocked leaves no key in use
    // that exists nowhere else (losing it would take the regulator's re-key).
    $('key-generate').addEventListener('click', () => guarded(async () => {
      const secret = Prepaid.hex(crypto.getRandomValues(new Uint8Array(32)));
      const link = h('a', { href: URL.createObjectURL(new Blob([`${secret}\n`], { type: 'text/plain' })), download: 'prepaid-wallet.key' });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      $('key-saved').hidden = false;
    }));
    $('key-forget').addEventListener('click', () => guarded(async () => {
      if (!window.confirm(t('key.forget.confirm'))) return;
      await keys.remove('consumer');
      me = undefined;
      token = undefined;
      $('key-present').hidden = true;
      $('key-missing').hidden = false;
      $('wallets-section').hidden = true;
      $('notices-section').hidden = true;
    }));
    $('refresh').addEventListener('click', () => guarded(load));
    $('register-button').addEventListener('click', () => guarded(lookUp));
    document.addEventListener('prepaid:language', () => me && guarded(load));
    document.addEventListener('prepaid:language', () => $('register').children.length && guarded(lookUp));
    guarded(async () => {
      const found = await keys.get('consumer');
      if (found) await use(found);
    });
  });
})();
