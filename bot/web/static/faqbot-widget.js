/*
 * faqbot chat widget. No build step, no dependencies.
 *
 * Embed:  <div id="faqbot"></div>
 *         <script src="https://HOST/static/faqbot-widget.js" data-faqbot-api="https://HOST" defer></script>
 * Options (attributes of the script tag): data-faqbot-api (where /api/ask lives; default: this page's origin),
 * data-faqbot-target (CSS selector of the container; default "#faqbot").
 *
 * Every piece of user and FAQ text goes into the page through textContent, never as HTML.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  var API = ((script && script.getAttribute('data-faqbot-api')) || '').replace(/\/+$/, '');
  var TARGET = (script && script.getAttribute('data-faqbot-target')) || '#faqbot';
  var STATIC = script && script.src ? script.src.replace(/[?#].*$/, '').replace(/[^/]*$/, '') : '/static/';
  var TIMEOUT_MS = 20000;
  var MAX_CHARS = 1000;  // the textarea's maxlength; the API's own limit is higher
  // this tab's conversation, kept across a reload or the next page of the site (sessionStorage: gone with the tab)
  var STORE_KEY = 'faqbot-conversation';
  var STORE_TURNS = 40;

  var EXAMPLES = [
    '有効期限が切れたけど、まだ更新できますか？',
    'あんしん自動更新を解約したい',
    'インボイスを発行したい',
    'Adobe VIP の契約応当日はいつですか？'
  ];

  var MESSAGES = {
    busy: 'ただいま混み合っています。少し時間をおいてから、もう一度お試しください。',
    tooLong: 'ご質問が長すぎます。1,000文字以内でお書きください。',
    cut: '1,000文字を超えた分は入力されませんでした。ご質問は1,000文字以内でお書きください。',
    rejected: 'このご質問は受け付けられませんでした。表現を変えて、もう一度お試しください。',
    server: '申し訳ありません。ただいま回答できません。しばらくしてから、もう一度お試しください。',
    network: 'サーバーに接続できませんでした。通信環境をご確認のうえ、もう一度お試しください。',
    timeout: '回答に時間がかかっています。しばらくしてから、もう一度お試しください。'
  };

  // the documents write their examples spaced (2024 年 1 月 16 日), the rules without spaces: both stand out
  var JA_DATE = /\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日/g;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // Text with the dates in it set in bold, built from text nodes only.
  function appendWithDates(parent, text) {
    var last = 0;
    text.replace(JA_DATE, function (match, offset) {
      if (offset > last) parent.appendChild(document.createTextNode(text.slice(last, offset)));
      parent.appendChild(el('strong', 'faqbot-date', match));
      last = offset + match.length;
      return match;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function request(method, path, body) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var init = { method: method, credentials: 'omit', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (controller) init.signal = controller.signal;
    return fetch(API + path, init).then(function (res) {
      if (timer) clearTimeout(timer);
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok || data === null) {
          var err = new Error('HTTP ' + res.status);
          err.status = res.status;
          err.code = data && data.error ? data.error.code : null;
          throw err;
        }
        return data;
      });
    }, function (cause) {
      if (timer) clearTimeout(timer);
      var err = new Error('network');
      err.status = 0;
      err.timeout = !!(cause && cause.name === 'AbortError');
      throw err;
    });
  }

  function politeError(err) {
    if (err.timeout) return MESSAGES.timeout;
    if (err.status === 0) return MESSAGES.network;
    if (err.status === 429) return MESSAGES.busy;
    if (err.code === 'text_too_long' || err.status === 413) return MESSAGES.tooLong;
    if (err.status >= 400 && err.status < 500) return MESSAGES.rejected;
    return MESSAGES.server;
  }

  // The widget's markup, the same as the chat page's template serves (kept in step by the browser tests).
  function build(host) {
    var section = el('section', 'faqbot');
    section.setAttribute('aria-labelledby', 'faqbot-title');
    var header = el('header', 'faqbot-header');
    var heading = el('div', 'faqbot-heading');
    var title = el('h2', 'faqbot-title', 'サポートチャット');
    title.id = 'faqbot-title';
    heading.appendChild(title);
    heading.appendChild(el('p', 'faqbot-subtitle', 'ご契約・更新・領収書についてお答えします'));
    header.appendChild(heading);
    var human = el('button', 'faqbot-human', '有人サポートへ');
    human.type = 'button';
    header.appendChild(human);
    section.appendChild(header);

    var body = el('div', 'faqbot-body');
    var welcome = el('div', 'faqbot-welcome');
    welcome.appendChild(el('p', 'faqbot-welcome-text', 'こんにちは。ご質問を入力してください。' +
      '日付（有効期限など）を添えていただくと、期限を計算してお答えします。'));
    var examplesTitle = el('p', 'faqbot-examples-title', 'よくあるご質問');
    examplesTitle.id = 'faqbot-examples-title';
    welcome.appendChild(examplesTitle);
    var list = el('ul', 'faqbot-examples');
    list.setAttribute('aria-labelledby', 'faqbot-examples-title');
    EXAMPLES.forEach(function (q) {
      var li = el('li');
      var b = el('button', 'faqbot-example', q);
      b.type = 'button';
      li.appendChild(b);
      list.appendChild(li);
    });
    welcome.appendChild(list);
    body.appendChild(welcome);
    var log = el('div', 'faqbot-log');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.setAttribute('aria-label', '会話');
    body.appendChild(log);
    section.appendChild(body);

    var form = el('form', 'faqbot-form');
    var label = el('label', 'faqbot-visually-hidden', 'ご質問');
    label.htmlFor = 'faqbot-input';
    var input = el('textarea', 'faqbot-input');
    input.id = 'faqbot-input';
    input.rows = 1;
    input.maxLength = 1000;
    input.setAttribute('enterkeyhint', 'send');
    input.placeholder = 'ご質問を入力してください';
    input.setAttribute('aria-describedby', 'faqbot-hint');
    var send = el('button', 'faqbot-send', '送信');
    send.type = 'submit';
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    section.appendChild(form);
    var hint = el('p', 'faqbot-hint', 'Enterで送信・Shift+Enterで改行');
    hint.id = 'faqbot-hint';
    section.appendChild(hint);
    host.appendChild(section);
    host.classList.add('faqbot-host', 'faqbot-embedded');
    return section;
  }

  function Widget(root) {
    this.root = root;
    this.log = root.querySelector('.faqbot-log');
    this.body = root.querySelector('.faqbot-body');
    this.form = root.querySelector('.faqbot-form');
    this.input = root.querySelector('.faqbot-input');
    this.sendButton = root.querySelector('.faqbot-send');
    this.sessionId = null;
    this.lastProduct = null;
    this.busy = false;
    this.composing = false;
    this.contacts = null;
    this.turns = [];
    // the characters left, once few are: shown under the box at every width, and read out (aria-live)
    this.count = el('p', 'faqbot-count');
    this.count.id = 'faqbot-count';
    this.count.setAttribute('aria-live', 'polite');
    root.appendChild(this.count);
    this.wire();
    this.restore();
  }

  function loadStored() {
    try {
      var data = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || 'null');
      return data && Array.isArray(data.turns) ? data : null;
    } catch (e) {
      return null;  // storage blocked (private mode, a sandboxed frame) or garbled: start afresh
    }
  }

  Widget.prototype.save = function () {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({
        session_id: this.sessionId, product: this.lastProduct, turns: this.turns.slice(-STORE_TURNS)
      }));
    } catch (e) { /* storage full or blocked: the conversation still goes on in this page */ }
  };

  // After a reload: the conversation so far, and its session, so a pending question still takes its reply.
  Widget.prototype.restore = function () {
    var data = loadStored();
    if (!data) return;
    var self = this;
    this.sessionId = typeof data.session_id === 'string' ? data.session_id : null;
    this.lastProduct = typeof data.product === 'string' ? data.product : null;
    data.turns.forEach(function (turn) {
      if (turn && turn.user && typeof turn.user === 'string') self.addUser(turn.user, true);
      else if (turn && turn.answer && typeof turn.answer === 'object') self.addAnswer(turn.answer, true);
    });
  };

  Widget.prototype.remember = function (turn) {
    this.turns.push(turn);
    this.save();
  };

  Widget.prototype.showCount = function (cut) {
    var n = this.input.value.length;
    if (cut) this.count.textContent = MESSAGES.cut;
    else if (n >= MAX_CHARS - 100) this.count.textContent = 'あと' + Math.max(0, MAX_CHARS - n) + '文字です（1,000文字まで）。';
    else this.count.textContent = '';
  };

  Widget.prototype.wire = function () {
    var self = this;
    var input = this.input;
    // Enter sends, except while an IME is composing: isComposing (most browsers), keyCode 229 (Safari's
    // confirming keydown, which comes after compositionend), and our own flag, cleared only after the
    // compositionend's task so Safari's late keydown still counts as composing.
    input.addEventListener('compositionstart', function () { self.composing = true; });
    input.addEventListener('compositionend', function () {
      setTimeout(function () { self.composing = false; }, 0);
    });
    // a paste longer than the box takes is cut by the browser without a word: say so
    var cut = false;
    input.addEventListener('paste', function (e) {
      var pasted = e.clipboardData ? e.clipboardData.getData('text') : '';
      var kept = input.value.length - (input.selectionEnd - input.selectionStart);
      cut = kept + pasted.replace(/\r\n/g, '\n').length > MAX_CHARS;
    });
    input.addEventListener('input', function () {
      self.showCount(cut);
      cut = false;
    });
    input.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter' || e.shiftKey) return;  // Shift+Enter: the textarea's own newline
      if (e.isComposing || e.keyCode === 229 || self.composing) return;
      e.preventDefault();
      self.submit();
    });
    this.form.addEventListener('submit', function (e) {
      e.preventDefault();
      self.submit();
    });
    Array.prototype.forEach.call(this.root.querySelectorAll('.faqbot-example'), function (b) {
      b.addEventListener('click', function () { self.ask(b.textContent); });
    });
    this.root.querySelector('.faqbot-human').addEventListener('click', function () { self.showContact(); });
  };

  Widget.prototype.submit = function () {
    if (this.busy) return;
    var text = this.input.value.trim();
    // zero-width characters alone look like nothing, and are sent as nothing, like spaces; inside a message
    // they stay as typed (a joiner holds an emoji together)
    if (!text.replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')) return;
    this.input.value = '';
    this.showCount(false);
    this.ask(text);
  };

  Widget.prototype.ask = function (text) {
    var self = this;
    if (this.busy) return;
    this.addUser(text);
    var payload = { text: text };
    if (this.sessionId) payload.session_id = this.sessionId;  // a follow-up continues the conversation
    var loading = this.addLoading();
    // sent from the 送信 button, which is disabled while waiting: the focus, lost to the page, comes back to
    // the box afterwards, so the next question is typed without reaching for the mouse
    var typing = document.activeElement === this.sendButton || document.activeElement === this.input;
    this.setBusy(true);
    request('POST', '/api/ask', payload).then(function (answer) {
      self.sessionId = answer.session_id || self.sessionId;
      if (answer.product) self.lastProduct = answer.product;
      loading.remove();
      self.remember({ user: text });
      self.remember({ answer: answer });
      self.addAnswer(answer);
    }, function (err) {
      loading.remove();
      self.addNotice(politeError(err));
      // the question goes back in the box, to send again without typing it again
      if (!self.input.value) self.input.value = text;
    }).then(function () {
      self.setBusy(false);
      var lost = !document.activeElement || document.activeElement === document.body;
      if (typing && lost) self.input.focus({ preventScroll: true });
    });
  };

  Widget.prototype.setBusy = function (busy) {
    this.busy = busy;
    this.sendButton.disabled = busy;
    this.log.setAttribute('aria-busy', busy ? 'true' : 'false');
  };

  Widget.prototype.message = function (who) {
    var msg = el('div', 'faqbot-msg faqbot-msg-' + who);
    msg.appendChild(el('span', 'faqbot-visually-hidden', who === 'user' ? 'あなた：' : 'サポート：'));
    return msg;
  };

  Widget.prototype.append = function (msg, alignTop) {
    this.log.appendChild(msg);
    var body = this.body;
    // a long answer is read from its start; everything else keeps the newest line in view
    body.scrollTop = alignTop ? Math.max(0, msg.offsetTop - 12) : body.scrollHeight;
    return msg;
  };

  Widget.prototype.addUser = function (text) {
    var msg = this.message('user');
    msg.appendChild(el('p', 'faqbot-text', text));
    return this.append(msg, false);
  };

  Widget.prototype.addLoading = function () {
    var msg = this.message('bot');
    msg.classList.add('faqbot-loading');
    msg.appendChild(el('p', 'faqbot-text', '回答を確認しています…'));
    return this.append(msg, false);
  };

  Widget.prototype.addNotice = function (text) {
    var msg = this.message('bot');
    msg.classList.add('faqbot-notice');
    msg.appendChild(el('p', 'faqbot-text', text));
    return this.append(msg, false);
  };

  // `restored`: shown again after a reload, without the rating buttons (it was rated, or not, then)
  Widget.prototype.addAnswer = function (answer, restored) {
    var msg = this.message('bot');
    msg.classList.add('faqbot-answer');
    if (answer.intent === null) msg.classList.add('faqbot-fallback');
    var dates = renderDates(answer.dates);
    if (dates) msg.appendChild(dates);
    this.renderText(msg, answer);
    if (!restored) msg.appendChild(this.feedbackBar(answer));
    return this.append(msg, !restored);
  };

  // The answer's paragraphs; the "もしかして" lines become buttons; the follow-up question stands out.
  Widget.prototype.renderText = function (msg, answer) {
    var self = this;
    var text = String(answer.answer || '');
    var followUp = answer.follow_up;
    if (followUp && text.slice(-followUp.length) === followUp) {
      text = text.slice(0, -followUp.length).replace(/\s+$/, '');
    } else {
      followUp = null;
    }
    var suggestions = {};
    (answer.suggestions || []).forEach(function (s) { suggestions['・' + s.question] = s; });
    text.split(/\n{2,}/).forEach(function (para) {
      var p = null;
      var group = null;
      para.split('\n').forEach(function (line) {
        var s = suggestions[line.trim()];
        if (s) {
          if (!group) {
            group = el('div', 'faqbot-suggestions');
            group.setAttribute('role', 'group');
            group.setAttribute('aria-label', 'もしかして');
            msg.appendChild(group);
            p = null;
          }
          var b = el('button', 'faqbot-suggestion', s.question);
          b.type = 'button';
          b.addEventListener('click', function () { self.ask(s.question); });
          group.appendChild(b);
          return;
        }
        group = null;
        if (!p) {
          p = el('p', 'faqbot-text');
          msg.appendChild(p);
        } else {
          p.appendChild(document.createTextNode('\n'));
        }
        appendWithDates(p, line);
      });
    });
    if (followUp) {
      var f = el('p', 'faqbot-text faqbot-followup');
      appendWithDates(f, followUp);
      msg.appendChild(f);
    }
  };

  Widget.prototype.feedbackBar = function (answer) {
    var self = this;
    var bar = el('div', 'faqbot-feedback');
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', 'この回答の評価');
    var prompt = el('span', 'faqbot-feedback-prompt', 'この回答は役に立ちましたか？');
    bar.appendChild(prompt);
    var buttons = [['up', '役に立った'], ['down', '役に立たなかった']].map(function (spec) {
      var b = el('button', 'faqbot-rate faqbot-rate-' + spec[0]);
      b.type = 'button';
      b.appendChild(thumbIcon());  // 👍/👎 drawn, so they look the same without an emoji font
      b.setAttribute('aria-label', spec[1]);
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', function () { rate(spec[0], b); });
      bar.appendChild(b);
      return b;
    });
    function rate(rating, chosen) {
      buttons.forEach(function (b) { b.disabled = true; });
      var body = { session_id: answer.session_id, intent: answer.intent, rating: rating };
      if (answer.version) body.version = answer.version;
      request('POST', '/api/feedback', body).then(function () {
        chosen.setAttribute('aria-pressed', 'true');
        bar.classList.add('faqbot-rated');
        prompt.textContent = rating === 'up' ? 'ご評価ありがとうございました。'
          : 'ご評価ありがとうございました。解決しない場合は、有人サポートをご利用ください。';
        if (rating === 'down') {
          var human = el('button', 'faqbot-human-inline', '有人サポートへ');
          human.type = 'button';
          human.addEventListener('click', function () { self.showContact(); });
          bar.appendChild(human);
        }
      }, function () {
        buttons.forEach(function (b) { b.disabled = false; });
        prompt.textContent = '評価を送信できませんでした。もう一度お試しください。';
      });
    }
    return bar;
  };

  // The support contact in the documents' words: the product of the conversation when known, else all.
  Widget.prototype.showContact = function () {
    var self = this;
    var shown = this.contacts ? Promise.resolve(this.contacts)
      : request('GET', '/api/contact').then(function (data) { self.contacts = data.contacts || []; return self.contacts; });
    shown.then(function (contacts) {
      var mine = contacts.filter(function (c) { return c.product === self.lastProduct; });
      var list = mine.length ? mine : contacts;
      var msg = self.message('bot');
      msg.classList.add('faqbot-contact');
      msg.appendChild(el('p', 'faqbot-text faqbot-contact-title', '有人サポートのご案内'));
      list.forEach(function (c) {
        var p = el('p', 'faqbot-text');
        p.appendChild(el('span', 'faqbot-contact-name', c.name));
        p.appendChild(document.createTextNode('\n' + c.contact));
        msg.appendChild(p);
      });
      self.append(msg, true);
    }, function (err) { self.addNotice(politeError(err)); });
  };

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var THUMB = 'M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 ' +
    '7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z';

  function thumbIcon() {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'faqbot-icon');
    var path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', THUMB);
    svg.appendChild(path);
    return svg;
  }

  // The dates worth a glance, as the server labels and writes them (the product's rule file says which, in what
  // order, with which counts). A deadline already gone (更新できる期限 two years past the expiry, 解約手続きの期限
  // after the charge) is labelled and coloured as gone, not shown like one still to meet.
  function renderDates(dates) {
    if (!Array.isArray(dates)) return null;
    var rows = dates.filter(function (d) {
      return d && typeof d.label === 'string' && typeof d.text === 'string';
    });
    if (!rows.length) return null;
    var dl = el('dl', 'faqbot-dates');
    rows.forEach(function (d) {
      var item = el('div', d.passed ? 'faqbot-dates-item faqbot-dates-gone' : 'faqbot-dates-item');
      item.appendChild(el('dt', null, d.passed ? d.label + '（過ぎています）' : d.label));
      var dd = el('dd', null, d.text);
      if (typeof d.note === 'string' && d.note) dd.appendChild(el('span', 'faqbot-dates-note', d.note));
      item.appendChild(dd);
      dl.appendChild(item);
    });
    return dl;
  }

  function ensureStylesheet() {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (/faqbot-widget\.css(\?|$)/.test(links[i].href)) return;
    }
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = STATIC + 'faqbot-widget.css';
    document.head.appendChild(link);
  }

  function mount() {
    var host = document.querySelector(TARGET);
    if (!host || host.faqbotWidget) return;
    var root = host.querySelector('.faqbot');
    if (!root) {
      ensureStylesheet();
      root = build(host);
    }
    host.faqbotWidget = new Widget(root);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', mount);
  } else {
    mount();
  }
})();
