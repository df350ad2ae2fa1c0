// The regulator's dashboard: the supervised funds as charts, the merchants and listings
// awaiting review (a listing's approval signed in the browser with the regulator's key),
// alerts, the queue of disputes with a ruling on each (signed here too), closures, the plan of moving live wallets onto new rules before signing it, and
// any wallet's history, receipts and replay.
'use strict';

(() => {
  const { t, L, h, label, yuan, fen, when, short, api, guarded, approvalDigest, eventDigest, eventId, importSecret, sign, keys, barChart, lineChart } = Prepaid;
  const $ = (id) => document.getElementById(id);
  const DAY = 86400;
  let apiKey = sessionStorage.getItem('prepaid.api_key') ?? '';
  let regulator; // {key, public}

  const get = (path) => api('GET', path, { bearer: apiKey });
  const post = (path, body) => api('POST', path, { body, bearer: apiKey });

  async function charts() {
    const [{ lines: industries }, { lines: districts }] = await Promise.all([
      get('/v1/stats?group_by=industry'),
      get('/v1/stats?group_by=district'),
    ]);
    const series = await Promise.all(industries.map(async (line) => {
      const { lines: days } = await get(`/v1/stats?group_by=day&industry=${encodeURIComponent(line.group)}`);
      return { label: t(`industry.${line.group}`), points: days.map((day) => [day.group, fen(day.frozen)]) };
    }));
    $('chart-time').replaceChildren(lineChart(series));
    $('chart-district').replaceChildren(barChart(districts.map((line) => ({ label: line.group, value: fen(line.frozen) }))));
    const columns = ['paid', 'frozen', 'released', 'refunded', 'claims_outstanding', 'exposure'];
    $('stats-industry').replaceChildren(h('table', { class: 'stats' },
      h('thead', {}, h('tr', {}, h('th', {}, L('industry')), columns.map((column) => h('th', { class: 'amount' }, L(column))), h('th', {}, L('wallets.count')))),
      h('tbody', {}, industries.map((line) => h('tr', { 'data-group': line.group },
        h('td', {}, t(`industry.${line.group}`)),
        columns.map((column) => h('td', { class: 'amount', 'data-column': column }, yuan(line[column]))),
        h('td', {}, line.wallets))))));
  }

  async function review() {
    const [{ merchants }, { listings }] = await Promise.all([get('/v1/merchants'), get('/v1/listings')]);
    const pendingMerchants = merchants.filter((merchant) => merchant.status === 'pending');
    const names = new Map(merchants.map((merchant) => [merchant.merchant, merchant.name]));
    const pendingListings = listings.filter((listing) => listing.status === 'pending');
    const reason = () => h('input', { type: 'text', class: 'reason', 'data-placeholder': 'reason', placeholder: t('reason') });
    const rows = [];
    for (const merchant of pendingMerchants) {
      const why = reason();
      rows.push(h('article', { class: 'review merchant', 'data-merchant': merchant.merchant },
        // A merchant's name is isolated: whatever direction it runs, it cannot reorder
        // what is shown beside it.
        h('h3', {}, L('merchants'), ': ', h('bdi', {}, merchant.name)),
        h('dl', { class: 'small' },
          h('dt', {}, L('register.licence')), h('dd', { class: 'licence' }, merchant.licence),
          h('dt', {}, L('industry')), h('dd', { class: 'industry' }, t(`industry.${merchant.industry}`)),
          h('dt', {}, L('district')), h('dd', {}, merchant.district),
          h('dt', {}, L('key.public')), h('dd', { title: merchant.merchant }, short(merchant.merchant))),
        why,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'approve', onclick: () => decide(`/v1/merchants/${encodeURIComponent(merchant.merchant)}/review`, { decision: 'approve', reason: why.value || 'approved' }) }, L('approve')),
          h('button', { type: 'button', class: 'secondary reject', onclick: () => decide(`/v1/merchants/${encodeURIComponent(merchant.merchant)}/review`, { decision: 'suspend', reason: why.value || 'not approved' }) }, L('reject')))));
    }
    for (const listing of pendingListings) {
      const why = reason();
      const days = h('input', { type: 'number', min: 1, max: 1095, value: 365, class: 'days' });
      const until = h('span', { class: 'until' });
      // The end shown is the end signed.
      let chosen;
      const showUntil = () => {
        chosen = untilFrom(Number(days.value));
        until.textContent = when(new Date(chosen * 1000).toISOString());
      };
      days.addEventListener('input', () => guarded(async () => showUntil()));
      showUntil();
      rows.push(h('article', { class: 'review listing', 'data-listing': listing.id },
        h('h3', {}, L('listings'), ': ', listing.name),
        h('dl', { class: 'small' },
          h('dt', {}, L('category')), h('dd', {}, listing.category),
          h('dt', {}, L('merchants')), h('dd', { title: listing.merchant }, h('bdi', {}, names.get(listing.merchant) ?? short(listing.merchant)))),
        h('h4', {}, L('terms')),
        h('pre', { class: 'terms' }, listing.terms ?? '—'),
        h('label', {}, L('approved_until_days'), ' ', days, ' → ', until),
        why,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'approve', onclick: () => approveListing(listing, chosen, why.value) }, L('approve')),
          h('button', { type: 'button', class: 'secondary reject', onclick: () => decide(`/v1/listings/${encodeURIComponent(listing.id)}/review`, { decision: 'reject', reason: why.value || 'rejected' }) }, L('reject')))));
    }
    $('review').replaceChildren(...(rows.length ? rows : [h('p', { class: 'hint' }, L('review.none'))]));
  }

  // The approval's end, `days` from now.
  const untilFrom = (days) => Math.floor(Date.now() / 1000) + Math.min(1095, Math.max(1, Math.floor(days) || 1)) * DAY;

  async function decide(path, body) {
    await guarded(async () => {
      await post(path, body);
      await load();
    });
  }

  // The approval is the regulator key's signature of the terms exactly as shown, made here.
  async function approveListing(listing, approvedUntil, reason) {
    await guarded(async () => {
      if (!regulator) throw new Prepaid.ApiError('no_key', t('regulator_key'));
      if (!listing.terms) throw new Prepaid.ApiError('bad_terms', listing.name);
      const digest = await approvalDigest(listing.id, approvedUntil, listing.merchant, listing.terms);
      const approval = { regulator: regulator.public, signature: await sign(regulator.key, digest), approved_until: approvedUntil };
      await post(`/v1/listings/${encodeURIComponent(listing.id)}/review`, { decision: 'approve', reason: reason || 'approved', approval });
      await load();
    });
  }

  async function alerts() {
    const { alerts: raised } = await get('/v1/alerts');
    $('alerts').replaceChildren(...(raised.length
      ? raised.map((alert) => h('li', { class: `alert ${alert.kind}` }, h('strong', {}, t(`alert.${alert.kind}`)), ' ', h('bdi', {}, alert.name ?? short(alert.merchant)), ': ', alert.message))
      : [h('li', { class: 'hint' }, L('alerts.none'))]));
  }

  // What merchants owe consumers by claims not yet paid, oldest first, with their age.
  async function claims() {
    const [{ claims: open }, { merchants }] = await Promise.all([get('/v1/claims'), get('/v1/merchants')]);
    const names = new Map(merchants.map((merchant) => [merchant.merchant, merchant.name]));
    $('claims').replaceChildren(...(open.length
      ? [h('thead', {}, h('tr', {}, ['merchants', 'wallet', 'claim.reason', 'claim.remaining', 'claim.age'].map((key) => h('th', {}, L(key))))),
        h('tbody', {}, open.map((claim) => h('tr', { 'data-claim': claim.claim },
          h('td', { title: claim.merchant }, h('bdi', {}, names.get(claim.merchant) ?? short(claim.merchant))),
          h('td', {}, claim.wallet),
          h('td', {}, claim.reason),
          h('td', { class: 'amount', 'data-column': 'remaining' }, yuan(claim.remaining)),
          h('td', { 'data-column': 'age' }, String(claim.age_days)))))]
      : [h('tr', {}, h('td', { class: 'hint' }, L('claims.none')))]));
  }

  // The disputes open in wallets and the requests refunds hold, ruling due soonest first,
  // each with a ruling the regulator signs here: on a request (pay it, not owed, lift the
  // dispute, or split its worth), or on the whole wallet (lift, refund, split).
  async function disputes() {
    const [{ disputes: open }, { merchants }] = await Promise.all([get('/v1/disputes'), get('/v1/merchants')]);
    const names = new Map(merchants.map((merchant) => [merchant.merchant, merchant.name]));
    const columns = ['merchants', 'wallet', 'request', 'dispute.by', 'dispute.reason', 'dispute.amount', 'dispute.ruling_due', 'dispute.days_left', 'rule'];
    $('disputes').replaceChildren(...(open.length
      ? [h('thead', {}, h('tr', {}, columns.map((key) => h('th', {}, L(key))))),
        h('tbody', {}, open.map((dispute) => h('tr', { 'data-dispute': `${dispute.wallet}/${dispute.request ?? ''}` },
          h('td', { title: dispute.merchant }, h('bdi', {}, names.get(dispute.merchant) ?? short(dispute.merchant))),
          h('td', {}, dispute.wallet),
          h('td', {}, dispute.request ?? t('dispute.whole')),
          h('td', { 'data-column': 'by' }, t(`party.${dispute.by}`)),
          h('td', { 'data-column': 'reason', title: dispute.evidence ?? '' }, t(`reason.${dispute.reason}`)),
          h('td', { class: 'amount', 'data-column': 'amount' }, yuan(dispute.amount)),
          h('td', {}, dispute.ruling_due ? when(dispute.ruling_due) : '—'),
          h('td', { 'data-column': 'days_left' }, dispute.days_left === undefined ? '—' : String(dispute.days_left)),
          h('td', {}, rulingForm(dispute)))))]
      : [h('tr', {}, h('td', { class: 'hint' }, L('disputes.none')))]));
  }

  function rulingForm(dispute) {
    // A request's dispute is ruled one by one; a refund's hold as a whole, and it cannot be
    // lifted (the consumer has refunded); the whole wallet's, as a whole.
    const held = dispute.reason === 'refunded';
    const outcomes = held ? ['refund', 'split'] : dispute.request ? ['release', 'refund', 'continue', 'split'] : ['continue', 'refund', 'split'];
    const outcome = h('select', { class: 'outcome' }, outcomes.map((code) => h('option', { value: code }, t(`outcome.${code}`))));
    const release = h('input', { type: 'text', class: 'release', inputmode: 'decimal', placeholder: '0.00', size: 8 });
    const reason = h('input', { type: 'text', class: 'ruling-reason', 'data-placeholder': 'ruling.reason', placeholder: t('ruling.reason'), size: 12 });
    return h('div', { class: 'ruling' }, outcome, release, reason,
      h('button', { type: 'button', class: 'rule', onclick: () => rule(dispute, outcome.value, release.value.trim(), reason.value.trim()) }, L('rule')));
  }

  // The ruling is the regulator key's signature of the `resolve` event, made here, in the
  // contract's field order.
  async function rule(dispute, outcome, release, reason) {
    await guarded(async () => {
      if (!regulator) throw new Prepaid.ApiError('no_key', t('regulator_key'));
      const held = !dispute.request || dispute.reason === 'refunded';
      const event = {
        type: 'resolve',
        outcome,
        ...(held ? {} : { requests: [dispute.request] }),
        ...(reason ? { reason } : {}),
        ...(outcome === 'split' ? { release } : {}),
      };
      const id = eventId('resolve');
      const signature = await sign(regulator.key, await eventDigest(dispute.wallet, id, event));
      const answer = await post(`/v1/wallets/${encodeURIComponent(dispute.wallet)}/events`, { wallet: dispute.wallet, id, event, signature });
      if (!answer.ok) throw new Prepaid.ApiError(answer.error?.code ?? 'rejected', answer.error?.message ?? t('rejected'));
      await load();
    });
  }

  async function closures() {
    const { merchants } = await get('/v1/merchants');
    const closing = merchants.filter((merchant) => merchant.closure);
    $('closures').replaceChildren(...(closing.length
      ? closing.map((merchant) => h('li', {}, h('strong', {}, h('bdi', {}, merchant.name)), ` (${t(`merchant_status.${merchant.status}`)}) · `, L('closes_on'), ' ',
        Number.isSafeInteger(merchant.closure.effective) && Math.abs(merchant.closure.effective) < 8.64e12
          ? when(new Date(merchant.closure.effective * 1000).toISOString()) : String(merchant.closure.effective),
        merchant.reason ? ` · ${merchant.reason}` : ''))
      : [h('li', { class: 'hint' }, L('closures.none'))]));
  }

  async function lookup() {
    await guarded(async () => {
      const wallet = $('lookup-wallet').value.trim();
      const path = `/v1/wallets/${encodeURIComponent(wallet)}`;
      const [head, { statement }, verified] = await Promise.all([get(path), get(`${path}/statement`), get(`${path}/verify`)]);
      const view = head.view ?? {};
      $('lookup').replaceChildren(
        h('p', { class: verified.clean ? 'clean' : 'diverges' }, L(verified.clean ? 'verify.clean' : 'verify.diverges'),
          ` (${verified.entries})`, verified.divergences.map((divergence) => h('div', {}, JSON.stringify(divergence)))),
        h('dl', { class: 'figures' }, ['paid', 'frozen', 'released', 'refunded', 'pending'].map((key) =>
          h('div', { class: 'figure' }, h('dt', {}, L(key)), h('dd', {}, yuan(view[key]))))),
        h('h3', {}, L('history')),
        Prepaid.statementTable(statement));
      label();
    });
  }

  // What moving every live wallet onto a stored component would change: the totals, and
  // each wallet that changes, with what its consumer gets on each path, old and new.
  async function plan() {
    await guarded(async () => {
      const to = $('plan-to').value.trim();
      const planned = await get(`/v1/migrations/plan?to=${encodeURIComponent(to)}`);
      const paths = ['refund_now', 'at_expiry', 'at_closure'];
      const totals = planned.totals;
      const cell = (wallet, path) => wallet.new
        ? `${yuan(wallet.old.paths[path].consumer)} → ${yuan(wallet.new.paths[path].consumer)}`
        : wallet.refused;
      $('plan').replaceChildren(
        h('p', { class: 'plan-summary' }, L('migration.summary'), ` ${totals.wallets} · `, L('migration.changed'),
          ` ${totals.changed} · `, L('migration.worse'), ` ${totals.consumer_worse} · `, L('migration.refused'), ` ${totals.refused}`),
        h('p', { class: 'hint' }, L('migration.hash'), ' ', h('code', { class: 'plan-hash' }, planned.hash)),
        h('table', { class: 'stats plan' },
          h('thead', {}, h('tr', {}, h('th', {}, L('migration.wallet')), paths.map((path) => h('th', { class: 'amount' }, L(`migration.${path}`))))),
          h('tbody', {}, planned.wallets.filter((wallet) => wallet.changes || wallet.refused).map((wallet) =>
            h('tr', { 'data-wallet': wallet.wallet, class: wallet.consumer_worse ? 'worse' : '' },
              h('td', {}, wallet.wallet, wallet.consumer_worse ? [' ', h('strong', {}, L('migration.consent'))] : []),
              paths.map((path) => h('td', { class: 'amount', 'data-path': path }, cell(wallet, path))))))));
      label();
    });
  }

  async function load() {
    await Promise.all([charts(), review(), alerts(), claims(), disputes(), closures()]);
    $('dashboard').hidden = false;
    label();
  }

  async function useKey(found) {
    regulator = found;
    $('regulator-public').textContent = short(found.public);
    $('regulator-public').title = found.public;
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('api-key').value = apiKey;
    $('connect-button').addEventListener('click', () => guarded(async () => {
      apiKey = $('api-key').value.trim();
      sessionStorage.setItem('prepaid.api_key', apiKey);
      const file = $('regulator-file').files[0];
      const secret = file ? await file.text() : $('regulator-secret').value;
      $('regulator-secret').value = '';
      $('regulator-file').value = '';
      if (secret.trim()) {
        const found = await importSecret(secret);
        await keys.put('regulator', found);
        await useKey(found);
      }
      await load();
    }));
    $('refresh').addEventListener('click', () => guarded(load));
    document.addEventListener('prepaid:language', () => !$('dashboard').hidden && guarded(load));
    $('lookup-button').addEventListener('click', lookup);
    $('plan-button').addEventListener('click', plan);
    guarded(async () => {
      const found = await keys.get('regulator');
      if (found) await useKey(found);
      if (apiKey) await load();
    });
  });
})();
