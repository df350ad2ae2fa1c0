// What both pages share: labels in two languages, amounts in yuan, errors, the API, and
// Ed25519 keys that never leave the browser (WebCrypto, non-extractable, in IndexedDB).
// The pages are served by `prepaid serve` with a Content-Security-Policy that lets them
// talk to this origin only; nothing is fetched from anywhere else.
'use strict';

const Prepaid = (() => {
  // ---- Labels -------------------------------------------------------------------------
  const LABELS = {
    en: {
      'consumer.title': 'My prepaid wallets',
      'regulator.title': 'Supervised prepaid funds',
      'lang': '中文',
      'key.title': 'Your wallet key',
      'key.none': 'No key in this browser yet. Import your key file, paste its secret, or make a new key.',
      'key.file': 'Key file',
      'key.paste': 'Or paste the secret (64 hex digits)',
      'key.import': 'Import',
      'key.generate': 'Make a new key file',
      'key.saved': 'Your new key file, prepaid-wallet.key, is being saved. Import it above to use it: keep the file, it is your only copy.',
      'key.forget': 'Forget this key',
      'key.forget.confirm': 'Forget the key? Without its key file you cannot act on your wallets again.',
      'key.public': 'Public key',
      'key.kept': 'The key is kept in this browser and cannot be read back out of it.',
      'signin': 'Sign in',
      'signed_in': 'Signed in until',
      'wallets': 'Wallets',
      'wallets.none': 'No wallets for this key.',
      'wallet': 'Wallet',
      'status': 'Status',
      'product': 'Product',
      'paid': 'Paid',
      'frozen': 'Frozen',
      'released': 'Released',
      'refunded': 'Refunded',
      'pending': 'Pending',
      'owed': 'Owed to you',
      'claims': 'What the merchant owes you',
      'claims.explain': 'Your refund was more than the money still frozen: the merchant owes you the rest, and its next sales pay it to you before the merchant is paid.',
      'claim.amount': 'Owed',
      'claim.paid': 'Paid so far',
      'claim.remaining': 'Still owed',
      'claim.settled': 'Paid in full',
      'claim.payment': 'Paid to you',
      'units_left': 'Units left',
      'stages_left': 'Stages left',
      'cooling_off_ends': 'Cooling-off ends',
      'expires_at': 'Expires',
      'refund_hold_ends': 'Refund hold ends',
      'awaiting_funding': 'Awaiting payment',
      'requests': 'Requests waiting for you',
      'requests.none': 'No request waits for you.',
      'request': 'Request',
      'units': 'Units',
      'stage': 'Stage',
      'would_release': 'Would release',
      'requested_at': 'Asked',
      'deemed_at': 'Deemed confirmed',
      'disputed': 'Disputed',
      'authorize': 'Authorize',
      'dispute': 'Dispute',
      'refund': 'Refund',
      'refund.preview': 'A refund now would return',
      'refund.confirm': 'Confirm the refund',
      'cancel': 'Cancel',
      'done': 'Done',
      'receipt': 'Receipt',
      'statement': 'Statement',
      'statement.show': 'Show the statement',
      'notices': 'Notices',
      'notices.none': 'Nothing needs you now.',
      'notice.request_waiting': 'A request waits for your authorization',
      'notice.deemed_confirmation_due': 'A request will be deemed confirmed',
      'notice.cooling_off_ending': 'The cooling-off period ends',
      'notice.expiry_coming': 'The card expires',
      'notice.refund_hold_ending': 'A refund hold ends',
      'notice.merchant_closing': 'The merchant is closing',
      'notice.migration_awaits_consent': 'New rules wait for your consent',
      'notice.claim_owed': 'The merchant owes you',
      'notice.claim_paid': 'Part of what the merchant owes you was paid',
      'notice.dispute_open': 'A dispute is open',
      'notice.ruling_due': "The regulator's ruling is due",
      'disputes': 'Disputes',
      'disputes.queue': 'Disputes and refund holds',
      'disputes.none': 'No dispute is open.',
      'dispute.wallet': 'Dispute the whole wallet',
      'dispute.describe': 'What happened (kept as its SHA-256)',
      'dispute.send': 'Send the dispute',
      'dispute.whole': 'whole wallet',
      'dispute.by': 'Raised by',
      'dispute.reason': 'Why',
      'dispute.opened': 'Opened',
      'dispute.ruling_due': 'Ruling due',
      'dispute.days_left': 'Days left',
      'dispute.amount': 'At stake',
      'party.consumer': 'consumer',
      'party.merchant': 'merchant',
      'party.regulator': 'regulator',
      'reason.not_delivered': 'not delivered',
      'reason.not_as_agreed': 'not as agreed',
      'reason.wrong_amount': 'wrong amount',
      'reason.merchant_gone': 'merchant gone',
      'reason.other': 'other',
      'reason.unanswered': 'left unanswered',
      'reason.refunded': 'held at a refund',
      'reason.unrecorded': 'not recorded',
      'rule': 'Rule',
      'ruling.reason': 'Reason code',
      'outcome.release': 'Pay the merchant',
      'outcome.refund': 'Not owed',
      'outcome.continue': 'Lift the dispute',
      'outcome.split': 'Split',
      'proposal': 'New rules proposed by the regulator',
      'proposal.explain': 'Under the new rules you would get less on some path. The wallet moves only if you consent; without it, it keeps its rules.',
      'proposal.path': 'If',
      'proposal.old': 'You get now',
      'proposal.new': 'Under the new rules',
      'proposal.merchant': 'merchant',
      'proposal.refund_now': 'You take a refund now',
      'proposal.at_expiry': 'Nobody acts until expiry',
      'proposal.at_closure': 'The merchant closes now',
      'proposal.consent': 'Consent to the new rules',
      'proposal.code': 'New code:',
      'proposal.unsigned': 'This migration does not carry your wallet regulator\'s signature: nothing was signed.',
      'proposal.done': 'Your wallet runs the new rules.',
      'seq': '#',
      'at': 'When',
      'event': 'Event',
      'movement': 'Money',
      'ok': 'Accepted',
      'rejected': 'Rejected',
      'error': 'Error',
      'api_key': 'API key',
      'regulator_key': 'Regulator key (for approvals)',
      'connect': 'Connect',
      'funds.time': 'Frozen funds over time, by industry',
      'funds.district': 'Frozen funds by district',
      'funds.industry': 'Funds by industry',
      'group': 'Group',
      'wallets.count': 'Wallets',
      'review': 'Awaiting review',
      'merchants': 'Merchants',
      'merchant': 'Merchant',
      'register': 'Look up a merchant',
      'register.explain': 'By licence number or name: whether it may sell, what it sells under an approval, and any closure.',
      'register.query': 'Licence number or name',
      'register.look_up': 'Look up',
      'register.none': 'No merchant is registered under that licence or name.',
      'register.licence': 'Licence',
      'register.status': 'Status',
      'register.industry': 'Trade',
      'register.district': 'District',
      'register.closes': 'Closes on',
      'register.until': 'approved until',
      'register.no_listings': 'No approved listing.',
      'merchant_status.pending': 'awaiting review',
      'merchant_status.approved': 'approved',
      'merchant_status.suspended': 'suspended',
      'merchant_status.closing': 'closing',
      'merchant_status.closed': 'closed',
      'industry.dental': 'dental',
      'industry.fitness': 'fitness',
      'industry.education': 'education',
      'industry.beauty': 'beauty',
      'industry.other': 'other',
      'alert.frozen_over': 'Frozen over the threshold',
      'alert.refund_rate': 'Refund rate',
      'alert.request_rate': 'Request rate',
      'alert.open_disputes': 'Open disputes',
      'alert.pending_requests': 'Requests waiting',
      'alert.sales_after_closure': 'Sales after a closure notice',
      'alert.claims_outstanding': 'Owed to consumers',
      'alert.claim_overdue': 'A claim long unpaid',
      'event.open': 'purchase',
      'event.funded': 'payment arrived',
      'event.request': 'request',
      'event.withdraw': 'request withdrawn',
      'event.authorize': 'authorization',
      'event.refund': 'refund',
      'event.merchant_closed': 'merchant closed',
      'event.dispute': 'dispute',
      'event.resolve': 'ruling',
      'event.transfer': 'transfer',
      'event.tick': 'time',
      'event.top_up': 'top-up',
      'event.rekey': 'key replaced',
      'event.cancel_rekey': 'key replacement cancelled',
      'event.migrate': 'new rules',
      'effect.release': 'to the merchant',
      'effect.refund': 'back to the consumer',
      'effect.claim': 'owed by the merchant',
      'listings': 'Listings',
      'review.none': 'Nothing awaits review.',
      'approve': 'Approve',
      'reject': 'Reject',
      'reason': 'Reason',
      'approved_until_days': 'Approved for (days)',
      'name': 'Name',
      'industry': 'Industry',
      'district': 'District',
      'category': 'Category',
      'terms': 'Terms (as signed)',
      'alerts': 'Alerts',
      'alerts.none': 'No alert is raised.',
      'claims.queue': 'Owed to consumers',
      'claims.none': 'No merchant owes a consumer.',
      'claim.reason': 'Why',
      'claim.age': 'Days waiting',
      'claims_outstanding': 'Owed by claims',
      'exposure': 'Exposure',
      'closures': 'Closures',
      'closures.none': 'No merchant is closing.',
      'closes_on': 'Closes on',
      'lookup': 'Wallet look-up',
      'lookup.go': 'Look up',
      'migration': 'New rules: the plan before signing',
      'migration.to': 'Component (code hash)',
      'migration.go': 'Plan',
      'migration.summary': 'Live wallets',
      'migration.changed': 'changing',
      'migration.worse': 'consumer gets less',
      'migration.refused': 'refused',
      'migration.hash': 'Plan hash (the signed migration names it):',
      'migration.consent': 'needs the consumer\'s consent',
      'migration.wallet': 'Wallet',
      'migration.refund_now': 'Refund now (consumer, old → new)',
      'migration.at_expiry': 'At expiry',
      'migration.at_closure': 'At closure',
      'history': 'History',
      'verify': 'Verify',
      'verify.clean': 'Replayed: clean',
      'verify.diverges': 'Replay diverges',
      'refresh': 'Refresh',
      'status.active': 'active',
      'status.disputed': 'in dispute',
      'status.closed': 'closed',
      'status.settling': 'settling: owed to you',
      'product.sessions': 'Sessions',
      'product.stored_value': 'Stored value',
      'product.plan': 'Treatment plan',
      'product.membership': 'Membership',
      'units.count': 'units',
    },
    zh: {
      'consumer.title': '我的预付钱包',
      'regulator.title': '预付资金监管',
      'lang': 'English',
      'key.title': '钱包密钥',
      'key.none': '此浏览器中尚无密钥。请导入密钥文件、粘贴私钥，或新建密钥。',
      'key.file': '密钥文件',
      'key.paste': '或粘贴私钥（64 位十六进制）',
      'key.import': '导入',
      'key.generate': '新建密钥文件',
      'key.saved': '新的密钥文件 prepaid-wallet.key 正在保存。请在上方导入该文件后使用，并妥善保管：这是唯一的备份。',
      'key.forget': '删除此密钥',
      'key.forget.confirm': '确定删除密钥？没有密钥文件将无法再操作您的钱包。',
      'key.public': '公钥',
      'key.kept': '密钥保存在此浏览器中，无法再被导出。',
      'signin': '登录',
      'signed_in': '登录有效至',
      'wallets': '钱包',
      'wallets.none': '此密钥名下没有钱包。',
      'wallet': '钱包',
      'status': '状态',
      'product': '产品',
      'paid': '已支付',
      'frozen': '冻结中',
      'released': '已划付',
      'refunded': '已退款',
      'pending': '待确认',
      'owed': '商户欠您',
      'claims': '商户欠您的款项',
      'claims.explain': '您应退的金额超过了仍冻结的资金：差额由商户欠您，在商户收到下一笔款项之前优先付给您。',
      'claim.amount': '欠款',
      'claim.paid': '已付',
      'claim.remaining': '尚欠',
      'claim.settled': '已全部付清',
      'claim.payment': '已付给您',
      'units_left': '剩余次数',
      'stages_left': '剩余阶段',
      'cooling_off_ends': '冷静期结束',
      'expires_at': '有效期至',
      'refund_hold_ends': '退款保留期结束',
      'awaiting_funding': '等待付款',
      'requests': '待您确认的请求',
      'requests.none': '没有待您确认的请求。',
      'request': '请求',
      'units': '次数',
      'stage': '阶段',
      'would_release': '将划付',
      'requested_at': '发起时间',
      'deemed_at': '视为确认时间',
      'disputed': '有争议',
      'authorize': '确认消费',
      'dispute': '提出争议',
      'refund': '退款',
      'refund.preview': '现在退款将退回',
      'refund.confirm': '确认退款',
      'cancel': '取消',
      'done': '已完成',
      'receipt': '回执',
      'statement': '对账单',
      'statement.show': '查看对账单',
      'notices': '提醒',
      'notices.none': '目前没有需要您处理的事项。',
      'notice.request_waiting': '有请求等待您确认',
      'notice.deemed_confirmation_due': '请求即将视为确认',
      'notice.cooling_off_ending': '冷静期即将结束',
      'notice.expiry_coming': '卡即将到期',
      'notice.refund_hold_ending': '退款保留期即将结束',
      'notice.merchant_closing': '商户即将停业',
      'notice.migration_awaits_consent': '新规则等待您的同意',
      'notice.claim_owed': '商户欠您款项',
      'notice.claim_paid': '商户欠您的款项已付一部分',
      'notice.dispute_open': '有争议待处理',
      'notice.ruling_due': '监管裁决期限将至',
      'disputes': '争议',
      'disputes.queue': '争议与退款保留',
      'disputes.none': '目前没有争议。',
      'dispute.wallet': '对整个钱包提出争议',
      'dispute.describe': '发生了什么(以 SHA-256 留存)',
      'dispute.send': '提交争议',
      'dispute.whole': '整个钱包',
      'dispute.by': '提出方',
      'dispute.reason': '理由',
      'dispute.opened': '提出时间',
      'dispute.ruling_due': '裁决期限',
      'dispute.days_left': '剩余天数',
      'dispute.amount': '涉及金额',
      'party.consumer': '消费者',
      'party.merchant': '商户',
      'party.regulator': '监管部门',
      'reason.not_delivered': '未提供服务',
      'reason.not_as_agreed': '与约定不符',
      'reason.wrong_amount': '金额有误',
      'reason.merchant_gone': '商户已停业',
      'reason.other': '其他',
      'reason.unanswered': '消费者逾期未答复',
      'reason.refunded': '退款时保留',
      'reason.unrecorded': '未记录',
      'rule': '裁决',
      'ruling.reason': '理由代码',
      'outcome.release': '支付给商户',
      'outcome.refund': '不予支付',
      'outcome.continue': '撤销争议',
      'outcome.split': '部分支付',
      'proposal': '监管部门提出的新规则',
      'proposal.explain': '按新规则，您在某些情形下所得会减少。只有您同意，钱包才会改用新规则；否则沿用原规则。',
      'proposal.path': '情形',
      'proposal.old': '现在您得到',
      'proposal.new': '按新规则',
      'proposal.merchant': '商户',
      'proposal.refund_now': '现在退款',
      'proposal.at_expiry': '到期前无人操作',
      'proposal.at_closure': '商户现在停业',
      'proposal.consent': '同意新规则',
      'proposal.code': '新代码：',
      'proposal.unsigned': '此迁移没有您钱包监管方的签名：未签署任何内容。',
      'proposal.done': '您的钱包已改用新规则。',
      'seq': '序号',
      'at': '时间',
      'event': '事件',
      'movement': '资金',
      'ok': '已接受',
      'rejected': '已拒绝',
      'error': '错误',
      'api_key': 'API 密钥',
      'regulator_key': '监管密钥（用于审批）',
      'connect': '连接',
      'funds.time': '按行业的冻结资金走势',
      'funds.district': '按区的冻结资金',
      'funds.industry': '按行业的资金',
      'group': '分组',
      'wallets.count': '钱包数',
      'review': '待审核',
      'merchants': '商户',
      'merchant': '商户',
      'register': '查询商户',
      'register.explain': '按营业执照号或名称查询：能否经营、经审批的商品及停业通知。',
      'register.query': '营业执照号或名称',
      'register.look_up': '查询',
      'register.none': '没有以该执照号或名称登记的商户。',
      'register.licence': '营业执照号',
      'register.status': '状态',
      'register.industry': '行业',
      'register.district': '区',
      'register.closes': '停业日期',
      'register.until': '审批有效至',
      'register.no_listings': '暂无经审批的商品。',
      'merchant_status.pending': '待审核',
      'merchant_status.approved': '已批准',
      'merchant_status.suspended': '已暂停',
      'merchant_status.closing': '即将停业',
      'merchant_status.closed': '已停业',
      'industry.dental': '口腔',
      'industry.fitness': '健身',
      'industry.education': '教育',
      'industry.beauty': '美容',
      'industry.other': '其他',
      'alert.frozen_over': '冻结资金超过阈值',
      'alert.refund_rate': '退款率',
      'alert.request_rate': '请求率',
      'alert.open_disputes': '未决争议',
      'alert.pending_requests': '待确认请求',
      'alert.sales_after_closure': '停业通知后仍有销售',
      'alert.claims_outstanding': '欠消费者款项',
      'alert.claim_overdue': '欠款长期未付',
      'event.open': '购买',
      'event.funded': '款项到账',
      'event.request': '消费请求',
      'event.withdraw': '撤回请求',
      'event.authorize': '确认消费',
      'event.refund': '退款',
      'event.merchant_closed': '商户停业',
      'event.dispute': '争议',
      'event.resolve': '裁决',
      'event.transfer': '转让',
      'event.tick': '时间',
      'event.top_up': '充值',
      'event.rekey': '更换密钥',
      'event.cancel_rekey': '取消更换密钥',
      'event.migrate': '新规则',
      'effect.release': '支付给商户',
      'effect.refund': '退还消费者',
      'effect.claim': '商户欠付',
      'listings': '商品',
      'review.none': '没有待审核事项。',
      'approve': '批准',
      'reject': '驳回',
      'reason': '理由',
      'approved_until_days': '批准有效天数',
      'name': '名称',
      'industry': '行业',
      'district': '区',
      'category': '类别',
      'terms': '条款（签名内容）',
      'alerts': '预警',
      'alerts.none': '目前没有预警。',
      'claims.queue': '商户欠消费者的款项',
      'claims.none': '目前没有商户欠消费者款项。',
      'claim.reason': '原因',
      'claim.age': '已等待天数',
      'claims_outstanding': '欠款',
      'exposure': '风险敞口',
      'closures': '停业',
      'closures.none': '没有商户在停业流程中。',
      'closes_on': '停业日期',
      'lookup': '钱包查询',
      'lookup.go': '查询',
      'migration': '新规则：签署前的迁移评估',
      'migration.to': '合约组件（代码哈希）',
      'migration.go': '评估',
      'migration.summary': '在用钱包',
      'migration.changed': '有变化',
      'migration.worse': '消费者所得减少',
      'migration.refused': '无法迁移',
      'migration.hash': '评估哈希（签署的迁移会引用）：',
      'migration.consent': '需消费者同意',
      'migration.wallet': '钱包',
      'migration.refund_now': '现在退款（消费者，旧 → 新）',
      'migration.at_expiry': '到期时',
      'migration.at_closure': '商户停业时',
      'history': '历史记录',
      'verify': '核验',
      'verify.clean': '重放核验：一致',
      'verify.diverges': '重放核验：不一致',
      'refresh': '刷新',
      'status.active': '正常',
      'status.disputed': '争议中',
      'status.closed': '已结束',
      'status.settling': '结算中：商户欠您款项',
      'product.sessions': '次卡',
      'product.stored_value': '储值卡',
      'product.plan': '分阶段疗程',
      'product.membership': '会员卡',
      'units.count': '次',
    },
  };
  const stored = localStorage.getItem('prepaid.lang');
  let lang = stored in LABELS ? stored : navigator.language.startsWith('zh') ? 'zh' : 'en';

  // A label; a value with no label (a new status, say) shows as itself.
  function t(key) {
    return LABELS[lang][key] ?? LABELS.en[key] ?? key.split('.').pop();
  }

  // Every element with data-label gets its label; called again when the language changes.
  function label(root = document) {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    for (const element of root.querySelectorAll('[data-label]')) {
      element.textContent = t(element.dataset.label);
    }
    for (const element of root.querySelectorAll('[data-placeholder]')) {
      element.placeholder = t(element.dataset.placeholder);
    }
  }

  // Labels change in place; what a page drew with words of its own (dates, counts) it draws
  // again on `prepaid:language`.
  function toggleLanguage() {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('prepaid.lang', lang);
    label();
    document.dispatchEvent(new Event('prepaid:language'));
  }

  // ---- Building the page ---------------------------------------------------------------
  // An element with attributes and children; strings become text, never HTML.
  function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'onclick') element.addEventListener('click', value);
      else if (value !== undefined && value !== null && value !== false) element.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  // A label that follows the language.
  function L(key) {
    return h('span', { 'data-label': key }, t(key));
  }

  // An amount as the API gives it ("2400.00", exact) in yuan: grouped, two places, never
  // through a float.
  function yuan(amount) {
    if (amount === undefined || amount === null) return '';
    const [whole, fraction = '00'] = String(amount).split('.');
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return `¥${grouped}.${fraction.padEnd(2, '0').slice(0, 2)}`;
  }

  // Fen, for charts only (exact up to 2^53 fen).
  function fen(amount) {
    const [whole, fraction = '00'] = String(amount).split('.');
    return Number(whole) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2));
  }

  function when(rfc3339) {
    if (!rfc3339) return '';
    const date = new Date(rfc3339);
    return date.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' });
  }

  function short(key) {
    return key ? `${key.slice(0, 8)}…${key.slice(-4)}` : '';
  }

  // A wallet's statement (`GET .../statement`): every entry, what it moved, its receipt.
  function statementTable(lines) {
    return h('table', { class: 'statement' },
      h('thead', {}, h('tr', {}, h('th', {}, L('seq')), h('th', {}, L('at')), h('th', {}, L('event')), h('th', {}, L('movement')))),
      h('tbody', {}, lines.map((line) => h('tr', {},
        h('td', {}, line.seq),
        h('td', {}, when(line.at)),
        h('td', { 'data-event': line.type }, t(`event.${line.type}`), line.ok ? '' : ` (${line.error})`),
        h('td', {}, line.effects.map((effect) => h('div', {}, `${t(`effect.${effect.kind}`)} ${yuan(effect.amount)}`)),
          h('details', {}, h('summary', {}, L('receipt')), h('pre', { class: 'receipt' }, line.receipt)))))));
  }

  // ---- Errors --------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  function showError(error) {
    const banner = document.getElementById('error');
    banner.replaceChildren(
      h('strong', {}, `${t('error')}: ${error.code ?? ''}`),
      ' ',
      error.message ?? String(error),
    );
    banner.hidden = false;
  }

  function clearError() {
    document.getElementById('error').hidden = true;
  }

  // Runs `work`, showing what went wrong instead of failing silently.
  // While any runs, the page says it is busy (`aria-busy`): what it shows may be redrawn.
  let running = 0;
  async function guarded(work) {
    clearError();
    running += 1;
    document.body.setAttribute('aria-busy', 'true');
    try {
      return await work();
    } catch (error) {
      showError(error);
      return undefined;
    } finally {
      running -= 1;
      if (running === 0) document.body.removeAttribute('aria-busy');
    }
  }

  // ---- The API -------------------------------------------------------------------------
  async function api(method, path, { body, bearer } = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ApiError(answer.error?.code ?? String(response.status), answer.error?.message ?? response.statusText);
    }
    return answer;
  }

  // ---- Keys and signatures -------------------------------------------------------------
  const hex = (bytes) => Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');

  function unhex(text) {
    const clean = text.trim().toLowerCase();
    if (!/^([0-9a-f]{2})*$/.test(clean)) throw new ApiError('bad_key', 'not hex digits');
    return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  const utf8 = (text) => new TextEncoder().encode(text);

  // A field of a signed message: its length (4 bytes, big-endian), then its bytes.
  function field(bytes) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length);
    return concat(length, bytes);
  }

  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

  // The digest a party signs for `event` on `wallet` under `id` (the contract's
  // `event_message`): the event as its canonical JSON, which is its fields in the
  // contract's order; each page builds its events in that order.
  async function eventDigest(wallet, id, event) {
    return sha256(concat(field(utf8('prepaid-event/v1')), field(utf8(wallet)), field(utf8(id)), field(utf8(JSON.stringify(event)))));
  }

  // The digest a regulator signs to approve a listing's terms (the contract's
  // `approval_message` with a listing): `terms` is the canonical JSON of the product and
  // policy that the service shows and that the approval will be checked against.
  async function approvalDigest(listing, approvedUntil, merchant, terms) {
    const until = new Uint8Array(8);
    new DataView(until.buffer).setBigInt64(0, BigInt(approvedUntil));
    return sha256(concat(
      field(utf8('prepaid-approval/v2')),
      field(utf8(listing)),
      field(until),
      field(unhex(merchant)),
      field(utf8(terms)),
    ));
  }

  // PKCS #8 wrapping of a 32-byte Ed25519 secret (RFC 8410).
  const PKCS8_PREFIX = unhex('302e020100300506032b657004220420');

  function base64urlToHex(text) {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return hex(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
  }

  // A key file's secret (hex) as a key that signs and cannot be exported, and its public key.
  async function importSecret(secretHex) {
    const secret = unhex(secretHex);
    if (secret.length !== 32) throw new ApiError('bad_key', 'a key file holds 64 hex digits (32 bytes)');
    const pkcs8 = concat(PKCS8_PREFIX, secret);
    // Imported once exportable, only to read the public half, then again for keeps.
    const readable = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    const jwk = await crypto.subtle.exportKey('jwk', readable);
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    return { key, public: base64urlToHex(jwk.x) };
  }

  async function sign(key, bytes) {
    return hex(await crypto.subtle.sign({ name: 'Ed25519' }, key, bytes));
  }

  // Whether `signature` (hex) is the signature of `bytes` by the public key `key` (hex).
  async function verify(key, signature, bytes) {
    try {
      const imported = await crypto.subtle.importKey('raw', unhex(key), { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, imported, unhex(signature), bytes);
    } catch {
      return false;
    }
  }

  // Keys kept in IndexedDB, by name: a CryptoKey is stored as itself, still non-extractable.
  function keyStore(mode, work) {
    return new Promise((resolve, reject) => {
      const opening = indexedDB.open('prepaid', 1);
      opening.onupgradeneeded = () => opening.result.createObjectStore('keys');
      opening.onerror = () => reject(opening.error);
      opening.onsuccess = () => {
        const transaction = opening.result.transaction('keys', mode);
        const request = work(transaction.objectStore('keys'));
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(transaction.error);
      };
    });
  }

  const keys = {
    get: (name) => keyStore('readonly', (store) => store.get(name)),
    put: (name, value) => keyStore('readwrite', (store) => store.put(value, name)),
    remove: (name) => keyStore('readwrite', (store) => store.delete(name)),
  };

  // An event id no one else will use: the page's own, random.
  function eventId(kind) {
    return `web-${kind}-${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
  }

  // ---- Charts (SVG, drawn here: no library is fetched) ---------------------------------
  const SVG = 'http://www.w3.org/2000/svg';
  const COLOURS = ['#1f6feb', '#d4380d', '#389e0d', '#d48806', '#722ed1', '#08979c', '#c41d7f'];

  function svg(tag, attributes = {}, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // Horizontal bars: `bars` is [{label, value (fen)}].
  function barChart(bars) {
    const height = 28 * bars.length + 8;
    const chart = svg('svg', { viewBox: `0 0 400 ${height}`, class: 'chart', role: 'img' });
    const top = Math.max(1, ...bars.map((bar) => bar.value));
    bars.forEach((bar, index) => {
      const y = 4 + index * 28;
      chart.append(
        svg('rect', { x: 120, y, width: Math.max(1, (260 * bar.value) / top), height: 20, fill: COLOURS[index % COLOURS.length] }),
        svg('text', { x: 114, y: y + 15, 'text-anchor': 'end', class: 'axis' }, bar.label),
        svg('text', { x: 124, y: y + 15, class: 'value' }, yuan((bar.value / 100).toFixed(2))),
      );
    });
    return chart;
  }

  // Lines over days: `series` is [{label, points: [[day, fen]]}], days as YYYY-MM-DD.
  function lineChart(series) {
    const days = [...new Set(series.flatMap((line) => line.points.map(([day]) => day)))].sort();
    const chart = svg('svg', { viewBox: '0 0 400 220', class: 'chart', role: 'img' });
    if (days.length === 0) return chart;
    const top = Math.max(1, ...series.flatMap((line) => line.points.map(([, value]) => value)));
    const x = (day) => 80 + (days.length === 1 ? 150 : (300 * days.indexOf(day)) / (days.length - 1));
    const y = (value) => 180 - (160 * value) / top;
    chart.append(
      svg('line', { x1: 80, y1: 180, x2: 380, y2: 180, class: 'axis-line' }),
      svg('text', { x: 80, y: 198, class: 'axis' }, days[0]),
      svg('text', { x: 380, y: 198, 'text-anchor': 'end', class: 'axis' }, days[days.length - 1]),
      svg('text', { x: 76, y: 24, 'text-anchor': 'end', class: 'axis' }, yuan((top / 100).toFixed(2))),
    );
    series.forEach((line, index) => {
      const colour = COLOURS[index % COLOURS.length];
      const points = line.points.map(([day, value]) => `${x(day)},${y(value)}`).join(' ');
      chart.append(svg('polyline', { points, fill: 'none', stroke: colour, 'stroke-width': 2 }));
      for (const [day, value] of line.points) chart.append(svg('circle', { cx: x(day), cy: y(value), r: 3, fill: colour }));
      chart.append(svg('text', { x: 88 + 100 * (index % 3), y: 214, fill: colour, class: 'legend' }, line.label));
    });
    return chart;
  }

  document.addEventListener('DOMContentLoaded', () => {
    label();
    document.getElementById('lang')?.addEventListener('click', toggleLanguage);
  });

  return {
    t, L, h, label, yuan, fen, when, short, api, guarded, showError, ApiError, hex, statementTable,
    eventDigest, approvalDigest, importSecret, sign, verify, keys, eventId, utf8,
    barChart, lineChart,
  };
})();
