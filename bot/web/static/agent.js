/*
 * The agents' page: search as you type (GET /api/faq), canned answers with a copy button, and the
 * what-if calculator (POST /api/agent/whatif). With AGENT_TOKEN set on the server, the token entered here
 * is kept in sessionStorage (this tab only) and sent as "Authorization: Bearer <token>".
 * Text from the API goes into the page through textContent only.
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'faqbot-agent-token';
  var SEARCH_DELAY_MS = 180;
  // a pasted customer message is searched by its start: 400 characters stay within the URL line a server takes
  // (gunicorn's 4,094 bytes; a Japanese character is 9 once percent-encoded)
  var SEARCH_MAX_CHARS = 400;

  // How facts and each product's computed values are named, from the rule files (GET /api/agent/facts); a name
  // with no label is shown as it is.
  var factLabels = {};
  var valueLabels = {};  // product → name → label
  var valueUnits = {};  // product → name → 日, か月
  var ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

  var $ = function (id) { return document.getElementById(id); };
  var tokenRequired = document.body.getAttribute('data-token-required') === 'true';
  var facts = null;
  var productNames = {};
  var intentQuestions = {};
  var searchSeq = 0;
  var searchTimer = null;
  var searchAbort = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function formatValue(value) {
    if (Array.isArray(value)) return value.map(formatValue).join('、');
    if (value === true) return 'はい';
    if (value === false) return 'いいえ';
    if (value === null || value === undefined) return '—';
    var r = /^([^/]+)\/([^/]+)$/.exec(String(value));
    if (r) return formatValue(r[1]) + '〜' + formatValue(r[2]);  // varies with a day not given (a month-only date)
    var m = ISO_DATE.exec(String(value));
    return m ? Number(m[1]) + '年' + Number(m[2]) + '月' + Number(m[3]) + '日' : String(value);
  }

  // Names in the order of a label table (the API's JSON sorts them alphabetically), unknown ones last.
  function ordered(names, labels) {
    var order = Object.keys(labels);
    var rank = function (n) { var i = order.indexOf(n); return i < 0 ? order.length : i; };
    return names.slice().sort(function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0); });
  }

  function todayInTokyo() {
    try {
      return new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
    } catch (e) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives until the page is reloaded */ }
    memoryToken = value;
  }
  var memoryToken = '';

  function api(method, path, body, signal) {
    var headers = { Accept: 'application/json' };
    var t = token() || memoryToken;
    if (t) headers.Authorization = 'Bearer ' + t;
    var init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (res.status === 401) {
          // a token set on the server after this page was loaded asks for one too, instead of a dead end
          askForToken(tokenRequired && t ? 'トークンが正しくありません。もう一度入力してください。'
            : 'この画面にはトークンが必要です。入力してください。');
          tokenRequired = true;
        }
        if (!res.ok || data === null) {
          var err = new Error((data && data.error && data.error.message) || ('HTTP ' + res.status));
          err.status = res.status;
          err.code = data && data.error ? data.error.code : null;
          throw err;
        }
        return data;
      });
    });
  }

  function describeError(err) {
    if (err.name === 'AbortError') return '';
    if (err.status === 429) return 'リクエストが多すぎます。少し待ってからもう一度お試しください。';
    if (err.status === 401) return 'トークンを入力してから、もう一度お試しください。';
    if (err.status && err.status < 500) return '入力を確認してください: ' + err.message;
    if (err.status) return 'サーバーでエラーが発生しました（' + err.status + '）。';
    return 'サーバーに接続できませんでした。';
  }

  // --- token ---------------------------------------------------------------------------------------------

  function askForToken(message) {
    setToken('');
    $('workspace').hidden = true;
    $('token-panel').hidden = false;
    $('token-error').textContent = message || '';
    $('token-input').focus();
  }

  $('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var value = $('token-input').value.trim();
    if (!value) return;
    setToken(value);
    $('token-input').value = '';
    start();
  });

  // --- start: the lists the forms are built from -------------------------------------------------------------

  function start() {
    if (tokenRequired && !token() && !memoryToken) {
      askForToken('');
      return;
    }
    if (!tokenRequired) $('workspace').hidden = false;  // nothing to check first: no flash of an empty page
    api('GET', '/api/agent/facts').then(function (data) {
      facts = data;
      $('token-panel').hidden = true;
      $('workspace').hidden = false;
      buildForms(data);
      if (!document.activeElement || document.activeElement === document.body) $('search-q').focus();
    }, function (err) {
      if (err.status !== 401) $('search-status').textContent = describeError(err);
    });
  }

  function buildForms(data) {
    if (buildForms.done) return;
    buildForms.done = true;
    $('agent-version').textContent = 'ナレッジ版 ' + (data.version || '');
    (data.fact_labels || []).forEach(function (f) { factLabels[f.name] = f.label; });
    data.products.forEach(function (p) {
      productNames[p.id] = p.name;
      valueLabels[p.id] = {};
      valueUnits[p.id] = {};
      (p.values || []).forEach(function (v) {
        valueLabels[p.id][v.name] = v.label;
        if (v.unit) valueUnits[p.id][v.name] = v.unit;
      });
      ['search-product', 'whatif-product'].forEach(function (id) {
        var o = el('option', null, p.name);
        o.value = p.id;
        $(id).appendChild(o);
      });
    });
    var groups = {};
    data.intents.forEach(function (i) {
      intentQuestions[i.id] = i.question;
      if (!groups[i.product]) {
        groups[i.product] = el('optgroup');
        groups[i.product].label = productNames[i.product] || i.product;
        $('whatif-intent').appendChild(groups[i.product]);
      }
      var o = el('option', null, i.question + '（' + i.id + '）');
      o.value = i.id;
      groups[i.product].appendChild(o);
    });
    var grid = $('whatif-facts-grid');
    ordered(Object.keys(data.facts), factLabels).forEach(function (name) {
      var kind = data.facts[name];
      var field = el('div', 'field');
      var label = el('label', null, (factLabels[name] || name) + ' ');
      label.appendChild(el('code', 'fact-name', name));
      var input = el('input');
      input.id = 'fact-' + name;
      input.name = name;
      input.setAttribute('data-kind', kind);
      if (kind === 'date') input.type = 'date';
      else if (kind === 'number') { input.type = 'number'; input.min = '1'; input.step = '1'; }
      else { input.type = 'text'; input.placeholder = 'AB-20240115123456-123456789'; input.autocomplete = 'off'; }
      label.htmlFor = input.id;
      field.appendChild(label);
      field.appendChild(input);
      grid.appendChild(field);
    });
    if (!$('whatif-today').value) $('whatif-today').value = todayInTokyo();
  }

  // --- search as you type ------------------------------------------------------------------------------------

  function scheduleSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  }

  function search() {
    var q = $('search-q').value.trim();
    var seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    if (!q) {
      $('results').replaceChildren();
      $('search-status').textContent = '';
      return;
    }
    searchAbort = typeof AbortController === 'function' ? new AbortController() : null;
    var chars = Array.from(q);  // by characters, so an emoji is never cut in two
    var cut = chars.length > SEARCH_MAX_CHARS;
    var params = new URLSearchParams({ q: cut ? chars.slice(0, SEARCH_MAX_CHARS).join('') : q, limit: '8' });
    var product = $('search-product').value;
    if (product) params.set('product', product);
    api('GET', '/api/faq?' + params.toString(), undefined, searchAbort && searchAbort.signal).then(function (data) {
      if (seq !== searchSeq) return;  // an older answer arriving late never replaces a newer one
      renderResults(data.results, data.out_of_scope);
      var status = $('search-status');
      if (cut) status.textContent = status.textContent.replace(/。$/, '') + '。先頭の' + SEARCH_MAX_CHARS + '文字で検索しました。';
    }, function (err) {
      if (seq !== searchSeq) return;
      var message = describeError(err);
      if (!message) return;  // aborted by a newer search
      $('search-status').textContent = message;
      $('results').replaceChildren();  // the results of an older query would pass for this one's
    });
  }

  // `outside`: the bot would refuse this from a customer (the weather, ノートン): the nearest entries are listed,
  // under a warning, so no one pastes Virus Buster's answer to a question about another vendor
  function renderResults(results, outside) {
    var list = $('results');
    list.replaceChildren();
    var found = results.length ? results.length + '件見つかりました（スコアの高い順）'
      : '該当する FAQ が見つかりませんでした。別のキーワードをお試しください。';
    $('search-status').textContent = outside && results.length
      ? 'ボットはこの質問を対象外（資料にない話題や他社製品）と判断します。以下は言葉の近い FAQ で、答えにならない場合があります。' + found
      : found;
    list.classList.toggle('outside', !!outside);
    var top = results.length ? Math.max(1, results[0].score) : 1;
    results.forEach(function (r, i) {
      var li = el('li', 'result');
      li.setAttribute('data-intent', r.intent);
      var details = el('details');
      details.open = i === 0;
      var summary = el('summary', 'result-summary');
      var score = el('span', 'score');
      score.appendChild(el('span', 'score-value', r.score.toFixed(3)));
      var meter = el('meter');
      meter.min = 0;
      meter.max = top;
      meter.value = Math.max(0, r.score);
      meter.setAttribute('aria-label', 'スコア');
      score.appendChild(meter);
      summary.appendChild(score);
      var head = el('span', 'result-head');
      head.appendChild(el('span', 'result-question', r.question));
      var meta = el('span', 'result-meta');
      meta.appendChild(el('span', 'tag', productNames[r.product] || r.product));
      meta.appendChild(el('span', 'result-section', r.section));
      head.appendChild(meta);
      summary.appendChild(head);
      details.appendChild(summary);

      var body = el('div', 'result-body');
      if (r.matched && r.matched !== r.question) body.appendChild(el('p', 'matched', '一致した言い回し: ' + r.matched));
      var answer = cannedText(r);
      body.appendChild(el('div', 'answer-text', answer));
      var actions = el('div', 'actions');
      actions.appendChild(copyButton(answer));
      var id = el('code', 'intent-id', r.intent);
      actions.appendChild(id);
      body.appendChild(actions);
      details.appendChild(body);
      li.appendChild(details);
      list.appendChild(li);
    });
  }

  // The canned answer as the bot writes it: the FAQ text, then the titles of the pages it refers to.
  function cannedText(r) {
    var text = r.answer;
    if (r.links && r.links.length) text += '\n\n' + r.links.map(function (t) { return '・' + t; }).join('\n');
    return text;
  }

  function copyButton(text) {
    var b = el('button', 'secondary copy', '回答をコピー');
    b.type = 'button';
    var status = el('span', 'copy-status');
    status.setAttribute('role', 'status');
    b.addEventListener('click', function () {
      copyText(text).then(function () {
        b.textContent = 'コピーしました';
        b.classList.add('copied');
        setTimeout(function () { b.textContent = '回答をコピー'; b.classList.remove('copied'); }, 2000);
      }, function () {
        status.textContent = 'コピーできませんでした。本文を選択してコピーしてください。';
      });
    });
    var wrap = el('span', 'copy-wrap');
    wrap.appendChild(b);
    wrap.appendChild(status);
    return wrap;
  }

  // The Clipboard API needs a secure context (https or localhost); plain-http intranet hosts fall back to
  // copying a selected, off-screen textarea.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = el('textarea', 'offscreen');
      area.value = text;
      area.setAttribute('readonly', '');
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      if (ok) resolve(); else reject(new Error('copy failed'));
    });
  }

  // --- what-if -------------------------------------------------------------------------------------------------

  function whatif(e) {
    e.preventDefault();
    var payload = { text: $('whatif-text').value.trim(), today: $('whatif-today').value };
    if (!payload.text) return;
    var product = $('whatif-product').value;
    var intent = $('whatif-intent').value;
    if (product) payload.product = product;
    if (intent) payload.intent = intent;
    var given = {};
    Array.prototype.forEach.call($('whatif-facts-grid').querySelectorAll('input'), function (input) {
      var v = input.value.trim();
      if (!v) return;
      given[input.name] = input.getAttribute('data-kind') === 'number' ? Number(v) : v;
    });
    payload.facts = given;
    var out = $('whatif-result');
    var button = $('whatif-submit');
    button.disabled = true;
    out.replaceChildren(el('p', 'status', '計算しています…'));
    Array.prototype.forEach.call(document.querySelectorAll('#whatif-form [aria-invalid]'), function (input) {
      input.removeAttribute('aria-invalid');
    });
    api('POST', '/api/agent/whatif', payload).then(function (answer) {
      renderWhatif(answer);
    }, function (err) {
      var bad = whatifField(err);
      out.replaceChildren(el('p', 'error', bad ? bad.message : describeError(err)));
      if (bad && bad.input) {
        bad.input.setAttribute('aria-invalid', 'true');
        bad.input.focus();
      }
    }).then(function () { button.disabled = false; });
  }

  // The form's field a refused what-if names, and what to fix, in Japanese (the API's messages are English,
  // for developers): 「注文番号は AB-20240116123456-123456789 の形式で入力してください。」 with the field marked.
  function whatifField(err) {
    var fact = /^fact '([a-z_]+)'/.exec(err.message || '');
    if (err.code === 'bad_fact' && fact) {
      var name = fact[1];
      var input = $('fact-' + name);
      var label = '「' + (factLabels[name] || name) + '」';
      var kind = input ? input.getAttribute('data-kind') : null;
      var top = /from 1 to ([\d,]+)/.exec(err.message);
      var what = name === 'order_number' ? 'は AB-20240116123456-123456789 の形式（2 文字のアルファベット - 14 桁の数字 - 9 桁の数字）で入力してください。'
        : kind === 'number' ? 'は 1 から ' + (top ? top[1] : '') + ' までの整数で入力してください。'
        : kind === 'date' ? 'は、存在する日付で入力してください。'
        : 'を確認してください。';
      return { message: label + what, input: input };
    }
    if (err.code === 'bad_today') {
      return { message: '基準日は 1900年1月1日から 2200年12月31日までの日付で入力してください。', input: $('whatif-today') };
    }
    if (err.code === 'text_too_long') {
      return { message: '質問が長すぎます。1,000文字以内にしてください。', input: $('whatif-text') };
    }
    return null;
  }

  function renderWhatif(a) {
    var out = $('whatif-result');
    out.replaceChildren();
    var card = el('article', 'whatif-answer');
    var head = el('div', 'whatif-head');
    if (a.intent) {
      head.appendChild(el('span', 'tag', productNames[a.product] || a.product || ''));
      head.appendChild(el('strong', 'whatif-intent', intentQuestions[a.intent] || a.intent));
    } else {
      head.appendChild(el('strong', 'whatif-intent', '確実な回答なし（お客様には「もしかして」と問い合わせ先を表示）'));
    }
    card.appendChild(head);
    var meta = el('p', 'whatif-meta');
    meta.textContent = 'FAQ: ' + (a.intent || '—') + '　ルール: ' + (a.rule || '—') + '　確信度: ' +
      Number(a.confidence).toFixed(3);
    card.appendChild(meta);

    var labels = valueLabels[a.product] || {};
    var units = valueUnits[a.product] || {};
    var keys = ordered(Object.keys(a.computed || {}), labels);
    if (keys.length) {
      var table = el('table', 'computed');
      var caption = el('caption', null, '計算結果');
      table.appendChild(caption);
      var tbody = el('tbody');
      keys.forEach(function (k) {
        var tr = el('tr');
        tr.setAttribute('data-name', k);
        var th = el('th', null, labels[k] || factLabels[k] || k);
        th.setAttribute('scope', 'row');
        th.appendChild(el('code', 'fact-name', k));
        tr.appendChild(th);
        tr.appendChild(el('td', null, formatValue(a.computed[k]) + (units[k] || '')));
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      card.appendChild(table);
    }
    if (a.follow_up) card.appendChild(el('p', 'followup', '不足している事実: ' + a.follow_up));
    card.appendChild(el('div', 'answer-text', a.answer));
    var actions = el('div', 'actions');
    actions.appendChild(copyButton(a.answer));
    card.appendChild(actions);
    if (a.trace) card.appendChild(renderTrace(a.trace));
    out.appendChild(card);
  }

  function renderTrace(trace) {
    var details = el('details', 'trace');
    details.open = true;
    details.appendChild(el('summary', null, '判断の経過（trace）'));
    var p = el('p', 'trace-line', '基準日 ' + formatValue(trace.today) + '　ナレッジ版 ' + trace.knowledge_version +
      (trace.continued_session ? '　（会話の続き）' : ''));
    details.appendChild(p);

    details.appendChild(el('h4', null, '質問文から読み取った事実'));
    if (trace.facts.length) {
      var fl = el('ul', 'trace-list');
      trace.facts.forEach(function (f) {
        fl.appendChild(el('li', null, (factLabels[f.name] || f.name) + ' = ' + formatValue(f.value) +
          '（「' + f.text + '」）' + (f.note ? ' ' + f.note : '')));
      });
      details.appendChild(fl);
    } else {
      details.appendChild(el('p', 'muted', 'なし'));
    }

    details.appendChild(el('h4', null, '試したルール（優先度の高い順）'));
    var rules = el('ol', 'trace-list trace-rules');
    var computations = [];
    (trace.rules || []).forEach(function (r) {
      if (r.computations) { computations = computations.concat(r.computations); return; }
      if (r.redirect) {  // the rule before it handed the question to another entry, whose rules follow
        var hand = el('li', 'handover');
        hand.appendChild(el('span', 'mark', '→ 引き継ぎ'));
        hand.appendChild(document.createTextNode('「' + (intentQuestions[r.redirect] || r.redirect) + '」 '));
        hand.appendChild(el('code', null, r.redirect));
        rules.appendChild(hand);
        return;
      }
      var li = el('li', r.held ? 'held' : 'not-held');
      li.appendChild(el('span', 'mark', r.held ? '✓ 適用' : '× 不成立'));
      li.appendChild(el('code', null, r.rule));
      li.appendChild(document.createTextNode('（優先度 ' + r.priority + '）' +
        (r.missing && r.missing.length ? ' 文に必要な値が不明: ' + r.missing.join(', ') : '')));
      if (r.conditions && r.conditions.length) {
        var cl = el('ul', 'conditions');
        r.conditions.forEach(function (c) { cl.appendChild(el('li', null, describeCondition(c))); });
        li.appendChild(cl);
      }
      rules.appendChild(li);
    });
    if (rules.children.length) details.appendChild(rules); else details.appendChild(el('p', 'muted', 'なし'));

    if (computations.length) {
      details.appendChild(el('h4', null, '計算'));
      var cl = el('ul', 'trace-list');
      computations.forEach(function (c) {
        var inputs = Object.keys(c.inputs || {}).map(function (k) { return k + '=' + formatValue(c.inputs[k]); });
        Object.keys(c.constants || {}).forEach(function (k) { inputs.push(k + '=' + c.constants[k]); });
        cl.appendChild(el('li', null, c.name + ' = ' + c.op + '(' + inputs.join(', ') + ') → ' + formatValue(c.value)));
      });
      details.appendChild(cl);
    }

    if (trace.ranking && trace.ranking.length) {
      details.appendChild(el('h4', null, '候補の順位'));
      var rl = el('ol', 'trace-list');
      trace.ranking.forEach(function (m) {
        rl.appendChild(el('li', null, m.id + '　' + Number(m.score).toFixed(3) + '　「' + m.question + '」'));
      });
      details.appendChild(rl);
    }
    var raw = el('details', 'raw');
    raw.appendChild(el('summary', null, 'JSON'));
    raw.appendChild(el('pre', null, JSON.stringify(trace, null, 2)));
    details.appendChild(raw);
    return details;
  }

  function describeCondition(c) {
    var mark = c.held ? '✓ ' : '× ';
    if (c.op === 'exists') return mark + c.fact + (c.value ? ' がある' : ' がない');
    if (c.missing !== undefined) return mark + c.fact + ' ' + c.op + ' …（' + c.missing + ' が不明）';
    var right = typeof c.against === 'string' && c.against !== String(c.right)
      ? c.against + ' (' + formatValue(c.right) + ')' : formatValue(c.right);
    return mark + c.fact + ' (' + formatValue(c.left) + ') ' + c.op + ' ' + right;
  }

  $('search-q').addEventListener('input', scheduleSearch);
  $('search-product').addEventListener('change', search);
  $('search-form').addEventListener('submit', function (e) { e.preventDefault(); search(); });
  $('whatif-form').addEventListener('submit', whatif);
  $('whatif-form').addEventListener('reset', function () {
    setTimeout(function () { $('whatif-today').value = todayInTokyo(); $('whatif-result').replaceChildren(); }, 0);
  });
  start();
})();
