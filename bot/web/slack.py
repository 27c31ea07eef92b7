"""Slack: the /faq slash command, app mentions, direct messages and the buttons, through slack_bolt's Flask adapter.

Bolt checks the signature and its 5-minute window, answers url_verification and dispatches; this module
adds what Bolt leaves to the app: an `authorize` that needs no network, de-duplication of retried
events, the mrkdwn escape and the Block Kit rendering of an Answer.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, g, jsonify, request
from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from werkzeug.exceptions import HTTPException

from ..config import Settings
from ..core import Answer, Bot, today_in
from ..dates import format_date_ja, parse_iso_day
from ..display import labelled
from ..errors import BotError, InputError
from ..state import Dedupe, State
from .payload import loads

log = logging.getLogger("faqbot.slack")

API_URL_ENV = "SLACK_API_URL"  # tests point the Web API at a local fake; production leaves it unset
DEFAULT_API_URL = "https://slack.com/api/"
SLACK_SESSIONS = "slack:"  # the prefix of a Slack conversation's session id, which the API refuses
DEDUPE_TTL = 3600  # Slack retries for up to about 6 minutes; an hour is ample
SHARE_ACTION = "faq_share"
SUGGEST_ACTION = "faq_suggest"

_SECTION_LIMIT = 3000  # Block Kit: section text
_BUTTON_TEXT_LIMIT = 75
_VALUE_LIMIT = 2000  # Block Kit: button value
_QUESTION_SHOWN = 200
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
# Slack's own markup in incoming text: <@U123>, <#C123|name>, <!here>, <https://x|label>, <mailto:a@b|a@b>
_MARKUP = re.compile(r"<(?:([@#!])|(?=[a-z][a-z0-9+.-]*:))([^<>|]*)(?:\|([^<>]*))?>")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

HELP = (
    "使い方: `/faq 質問` と入力してください（例: `/faq 2023年6月30日に期限が切れたけど、まだ更新できる？`）。\n"
    "回答はあなただけに表示されます。「チャンネルに共有」ボタンでチャンネルの全員に共有できます。\n"
    "続けて `/faq 2024年1月16日` のように答えると、直前の質問の続きとして扱います。"
)
# a bare mention gets its help in the thread, where everyone sees it: not the /faq wording ("only you")
MENTION_HELP = (
    "使い方: {me} のあとに質問を書いてください（例: {me} 2023年6月30日に期限が切れたけど、まだ更新できる？）。\n"
    "回答はこのスレッドに投稿されます。続けて答えるときも、このスレッドで {me} を付けてください。\n"
    "自分だけに表示したいときは `/faq 質問` をお使いください。"
)
# a direct message to the bot is a conversation of its own: every message there is for it, no mention needed
DIRECT_HELP = (
    "使い方: 質問をそのまま送ってください（例: 2023年6月30日に期限が切れたけど、まだ更新できる？）。\n"
    "続けて「2024年1月16日」のように答えると、直前の質問の続きとして扱います。"
)
# Mentions and direct messages with these subtypes are a person's new message (「チャンネルにも投稿」, a file
# with a question); the others (edited, deleted, bots' messages) are not questions to answer
_ANSWERED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
SLACK_MAX_BODY = 1024 * 1024  # a Slack message holds up to 40,000 characters, sent twice (text and blocks)


@dataclass(frozen=True)
class Message:
    """A Slack message: the notification text and its blocks."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as markup (& < >), nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(text: str) -> str:
    """Text as the customer wrote it: Slack's mention/link markup reduced to words, & < > unescaped."""

    def _replace(m: re.Match[str]) -> str:
        kind, target, label = m.group(1), m.group(2), m.group(3)
        if kind == "@" or kind == "!":
            return ""  # the bot's own mention, @here and the like are not part of the question
        if kind == "#":
            return f"#{label or target}"
        return label or target

    text = _MARKUP.sub(_replace, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def signed_by_slack(secret: str) -> bool:
    """Whether this request carries Slack's signature of its body, made within 5 minutes (checked once a request:
    the rate limit asks first, so that unsigned requests never count against the team and user they name)."""
    if "slack_signed" not in g:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        try:
            g.slack_signed = bool(_TIMESTAMP.fullmatch(timestamp)) and SignatureVerifier(secret).is_valid(
                request.get_data(cache=True), timestamp, request.headers.get("X-Slack-Signature", ""))
        except UnicodeDecodeError:  # slack_sdk decodes the body to sign it: Slack's are UTF-8, this is not one
            g.slack_signed = False
    return bool(g.slack_signed)


def _slack_shaped(body: bytes, mimetype: str) -> bool:
    """A JSON object (the Events API), or a form whose `payload`, if any, is a JSON object (buttons)."""
    try:
        if mimetype == "application/json":
            data = loads(body)
            return isinstance(data, dict) and isinstance(data.get("event", {}), dict)
        payload = parse_qs(body.decode("utf-8", "replace")).get("payload")
        if payload is None:
            return True
        data = loads(payload[0])
        # a button's payload names the button: Bolt read the first of an empty list, a 500
        return isinstance(data, dict) and (data.get("type") != "block_actions" or (
            isinstance(data.get("actions"), list) and bool(data["actions"])
            and all(isinstance(a, dict) for a in data["actions"])))
    except ValueError:
        return False


def session_id(team: str | None, channel: str | None, user: str | None) -> str:
    """One conversation per workspace, channel and person, so /faq follow-ups continue."""
    return f"{SLACK_SESSIONS}{team or '-'}:{channel or '-'}:{user or '-'}"


def render_answer(answer: Answer, question: str, *, today: date, share: bool, mention: str | None = None) -> Message:
    """Block Kit for an Answer: the question, the answer, its dates, suggestions and the share button.

    `mention` is the bot's own mention in a channel's thread: a follow-up question there says to mention it
    again, since a plain reply in the thread never reaches the bot (in a channel it hears app_mention only).
    A reply that means nothing without the conversation (「2024年1月16日」, 「じゃあ3月1日だったら？」) is shared with
    the question it answers (`Answer.asked`): the channel never saw the conversation.
    """
    blocks: list[Block] = [ContextBlock(elements=[_plain(f"質問: {_clip(question)}")])]
    blocks += [SectionBlock(text=_plain(chunk)) for chunk in _chunks(answer.answer)]
    if answer.follow_up and mention:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"このスレッドで {mention} を付けてお答えください（例: {mention} 2024年1月16日）。")]))
    fields = date_fields(answer.dates)
    if fields:
        blocks.append(SectionBlock(fields=[MarkdownTextObject(text=f"*{escape(k)}*\n{escape(v)}")
                                           for k, v in fields]))
    buttons: list[ButtonElement] = []
    if answer.intent is None:
        buttons += [
            ButtonElement(text=PlainTextObject(text=_clip(s.question, _BUTTON_TEXT_LIMIT)),
                          action_id=f"{SUGGEST_ACTION}_{i}", value=s.intent)
            for i, s in enumerate(answer.suggestions)
        ]
    elif share and answer.follow_up is None:
        buttons.append(ButtonElement(text=PlainTextObject(text="チャンネルに共有"), action_id=SHARE_ACTION,
                                     value=share_value(answer.asked or question, answer.answer, today),
                                     style="primary"))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    notes = [f"基準日: {format_date_ja(today)}"]
    if answer.intent is not None:
        notes.append(f"FAQ: {answer.intent}")
    notes.append(f"版: {answer.version}")  # which knowledge it came from, as the API's `version`
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ・ ".join(notes))]))
    return Message(escape(answer.answer), blocks)


def render_shared(user: str | None, question: str, answer_text: str, as_of: date | None = None) -> Message:
    """The message the share button posts to the channel (no buttons: it is read by everyone); `as_of` is the day
    the answer was worked out for, since its counts (あと46日) go stale while the message stays."""
    who = f"<@{user}> さんが共有しました" if user and _USER_ID.fullmatch(user) else "共有された回答"
    about = f"質問: {question}" + (f" ・ 基準日: {format_date_ja(as_of)}" if as_of else "")
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=who), _plain(about)])]
    blocks += [SectionBlock(text=_plain(chunk)) for chunk in _chunks(answer_text)]
    return Message(escape(answer_text), blocks)


def _plain(text: str) -> PlainTextObject:
    """What a customer or the documents wrote, shown as written: in mrkdwn, 「*至急*」 or a serial number's
    「2024*******-*********」 turned bold, and 「~できる~」 struck through. Plain text has no markup but emoji;
    & < > are escaped all the same, as Slack asks of every text."""
    return PlainTextObject(text=escape(text), emoji=False)


def date_fields(dates: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The answer's glance dates as (label, 2025年6月30日（あと46日）) pairs, at most ten (a section's limit).

    The product's rule file labels them and says which (bot/display.py); a deadline already gone says so.
    """
    return [labelled(d) for d in dates][:10]


def share_value(question: str, answer_text: str, as_of: date | None = None) -> str:
    """The share button's value: the question, the answer and the day it was worked out for, cut to fit Slack's
    2,000 characters."""
    question = _clip(question)
    day = {"d": as_of.isoformat()} if as_of else {}

    def encode(answer: str) -> str:
        return json.dumps({"q": question, "a": answer, **day}, ensure_ascii=False, separators=(",", ":"))

    value = encode(answer_text)
    room = len(answer_text)
    while len(value) > _VALUE_LIMIT and room > 0:
        room -= len(value) - _VALUE_LIMIT + 1  # escapes (\n, \") make the JSON longer than the text
        value = encode(answer_text[:max(room, 0)] + "…")
    return value


def help_message(mention: str | None = None, *, direct: bool = False) -> Message:
    """What an empty /faq gets, a bare mention (`mention`: the bot's own, to write in the examples), or a direct
    message with no text (a file alone)."""
    text = DIRECT_HELP if direct else MENTION_HELP.format(me=mention) if mention else HELP
    return Message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def init_slack(app: Flask, settings: Settings, state: State) -> None:
    """Mount POST /slack/events: Bolt when SLACK_SIGNING_SECRET is set, else a 503 saying Slack is off."""
    bp = Blueprint("slack", __name__)
    if not settings.slack_signing_secret:
        @bp.post("/slack/events")
        def events_off() -> tuple[Response, int]:
            return jsonify(error={
                "code": "slack_not_configured",
                "message": "Slack is not configured: set SLACK_SIGNING_SECRET (and SLACK_BOT_TOKEN) and restart.",
            }), 503

        app.register_blueprint(bp)
        return

    if not settings.slack_bot_token:
        log.warning("SLACK_BOT_TOKEN is not set: /faq and the buttons are answered, mentions (@faqbot) and direct "
                    "messages are not")
    # the state's store is shared by every worker of a host (SQLite file), and by every host with REDIS_URL,
    # so a retry reaching another worker is still answered once
    bolt = build_bolt(lambda: app.extensions["faqbot"], settings, state.dedupe,
                      api_url=os.environ.get(API_URL_ENV) or DEFAULT_API_URL)
    handler = SlackRequestHandler(bolt)
    app.extensions["faqbot_slack"] = bolt

    @bp.url_value_preprocessor
    def _keep_raw_body(endpoint: str | None, values: dict[str, Any] | None) -> None:
        # Slack signs the raw body. URL preprocessors run before every before_request hook, so reading it
        # here first keeps it for Bolt even when a hook (a per-team rate-limit key) parses request.form.
        # A long Slack message is answered with "too long" in words, not refused with a 413 Slack would retry.
        request.max_content_length = max(SLACK_MAX_BODY, settings.max_body_bytes)
        request.get_data(cache=True)

    @bp.post("/slack/events")
    def events() -> Response:
        # verified here before Bolt sees it: Bolt parses the body first, and a body that is not an object
        # ([1,2], null, a form payload of "x") raised inside it, a 500 anyone could cause without the secret
        if not signed_by_slack(settings.slack_signing_secret):
            return _error_response(Response(status=401))
        if not _slack_shaped(request.get_data(cache=True), request.mimetype):
            return _not_slack()
        try:
            response = handler.handle(request)
        except ValueError:  # a shape _slack_shaped let through and Bolt could not read after all
            return _not_slack()
        if response.status_code == 404:
            # signed, but nothing here handles it (an event the app was subscribed to by mistake, a button of an
            # older version): acknowledged, since Slack retries what is not answered 200, three times over
            log.info("slack: a signed request no listener handles was acknowledged and ignored")
            return Response(status=200)
        if response.status_code >= 400:
            return _error_response(response)
        return response

    @bp.errorhandler(429)
    def _too_many(exc: HTTPException) -> Response:
        # Slack shows a bare "failed" for a slash command or a button that is not answered 200: say it in words
        # instead, in the reply to the command, or through the button's response_url. Events keep the 429, with
        # X-Slack-No-Retry, since Slack's retries would count too.
        retry_after = (exc.get_response().headers.get("Retry-After") or "60")
        text = f"短い間にご質問が続きました。{retry_after}秒ほどおいて、もう一度お試しください。"
        if request.mimetype != "application/json" and "command" in request.form:
            out = jsonify(response_type="ephemeral", text=text)
        elif request.mimetype != "application/json" and _told_through_response_url(text, settings):
            out = Response(status=200)
        else:
            out = jsonify(error={"code": "too_many_requests", "message": exc.description or "too many requests"})
            out.status_code = 429
            out.headers["X-Slack-No-Retry"] = "1"
        out.headers["Retry-After"] = g.retry_after = retry_after  # a refusal answered 200 keeps it (hardening.py)
        return out

    app.register_blueprint(bp)


def _told_through_response_url(text: str, settings: Settings) -> bool:
    """Post `text` ephemerally to the response_url of the button pressed in this signed request; False when it
    is no button's request or the post failed (the caller then answers with the 429 itself)."""
    if not signed_by_slack(settings.slack_signing_secret):
        return False
    try:
        payload = loads(request.form.get("payload") or "null")
    except ValueError:
        return False
    url = payload.get("response_url") if isinstance(payload, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    try:
        # Slack wants the button's 200 within 3 seconds, and this post comes first
        sent = WebhookClient(url, timeout=2).send(text=text, response_type="ephemeral", replace_original=False)
    except (OSError, SlackClientError) as exc:
        log.warning("slack: the rate-limit notice could not be posted to the response_url: %s", exc)
        return False
    if sent.status_code != 200:
        log.warning("slack: the response_url refused the rate-limit notice (HTTP %s)", sent.status_code)
        return False
    return True


def build_bolt(get_bot: Callable[[], Bot], settings: Settings, dedupe: Dedupe, *, api_url: str) -> App:
    """The Bolt app: listeners for /faq, app_mention, direct messages (message.im) and the buttons, with no
    network call at start-up."""
    bolt = App(
        signing_secret=settings.slack_signing_secret,
        # an authorize function instead of token=: Bolt would otherwise call auth.test on the first request
        authorize=_authorizer(settings.slack_bot_token),
        client=WebClient(base_url=api_url, timeout=10),
        # listeners finish before the response is sent; what calls Slack back runs in lazy listeners
        process_before_response=True,
        logger=log,
    )

    def today() -> date:
        return today_in(settings.timezone)

    @bolt.middleware
    def skip_seen_events(req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        # Slack retries an event it thinks failed (X-Slack-Retry-Num); the first delivery may still be in
        # progress, so the id is claimed before answering, not after
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not _first(dedupe, f"slack:event:{event_id}"):
            log.info("slack event %s already seen (retry %s): acknowledged, not answered again",
                     event_id, (req.headers.get("x-slack-retry-num") or ["-"])[0])
            return BoltResponse(status=200, body="")
        return next()

    @bolt.command("/faq")
    def faq_command(ack: Ack, command: dict[str, Any]) -> None:
        question = plain_text(command.get("text") or "")
        message = _reply(get_bot(), question, today(), share=True,
                         sid=session_id(command.get("team_id"), command.get("channel_id"), command.get("user_id")))
        ack(response_type="ephemeral", text=message.text, blocks=message.blocks)

    def ack_now(ack: Ack) -> None:
        ack()

    def answer_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if by_a_bot(event, body) or event.get("subtype") not in _ANSWERED_SUBTYPES:
            return  # a bot (or this bot) mentioning us: answering would start a loop
        channel = event.get("channel")
        if not channel:
            return
        thread = event.get("thread_ts") or event.get("ts")
        # one conversation per thread: a follow-up is answered in the thread that asked it, and a new mention
        # elsewhere in the channel starts afresh
        sid = session_id(body.get("team_id") or event.get("team"), channel, event.get("user")) + f":{thread}"
        me = next((f"<@{u}>" for u in sorted(_bot_users(body))), "@faqbot")
        message = _reply(get_bot(), plain_text(event.get("text") or ""), today(), share=False, sid=sid, mention=me)
        post(client, channel, thread, message, "a mention")

    def answer_direct(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        # message.im: a message in the bot's own direct-message conversation (Slack never sends app_mention
        # there). Other message events (a channel's, should the app be subscribed to them) are not questions.
        if event.get("channel_type") != "im" or by_a_bot(event, body) or event.get("subtype") not in _ANSWERED_SUBTYPES:
            return  # the bot's own answers arrive here too: answering them would start a loop
        channel = event.get("channel")
        if not channel:
            return
        # one conversation per direct message, threads included: 「スレッドで返信」 to the bot's question back
        # continues it, and is answered in that thread. No share button (nobody else to share with), and no
        # mention is asked for
        thread = event.get("thread_ts")
        sid = session_id(body.get("team_id") or event.get("team"), channel, event.get("user"))
        message = _reply(get_bot(), plain_text(event.get("text") or ""), today(), share=False, sid=sid,
                         direct=True)
        post(client, channel, thread, message, "a direct message")

    def post(client: WebClient, channel: str, thread: str | None, message: Message, what: str) -> None:
        if not settings.slack_bot_token:
            log.warning("slack: %s in channel %s was not answered: SLACK_BOT_TOKEN is not set, and such an answer "
                        "is posted with it (/faq and the buttons answer without it)", what, channel)
            return
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=message.text, blocks=message.blocks)
        except (SlackApiError, OSError) as exc:  # Slack's refusal (not_in_channel, invalid_auth), or no network
            log.error("slack: the answer to %s in channel %s could not be posted: %s (is the bot token right, "
                      "and the app in that channel, or allowed direct messages?)", what, channel, exc)

    def share(action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        try:
            shared = loads(action.get("value") or "")
            question, answer_text = str(shared["q"]), str(shared["a"])
            as_of = parse_iso_day(shared.get("d"))  # a button made before the day was kept has none
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("share button with an unreadable value ignored")
            return
        message = render_shared((body.get("user") or {}).get("id"), question, answer_text, as_of)
        respond(text=message.text, blocks=message.blocks, response_type="in_channel", replace_original=False)

    def suggest(action: dict[str, Any], body: dict[str, Any], respond: Respond) -> None:
        bot, intent = get_bot(), str(action.get("value") or "")
        # replacing a message everyone sees (a mention's answer in a thread) would rewrite it for everyone:
        # only an ephemeral one is replaced; otherwise the answer goes to the person who clicked, to them alone
        mine = bool((body.get("container") or {}).get("is_ephemeral"))
        entry = next((e for e in bot.knowledge.entries if e.id == intent), None)
        if entry is None:
            respond(text="この候補は現在の FAQ にありません。もう一度 /faq で質問してください。",
                    response_type="ephemeral", replace_original=mine)
            return
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id")
        sid = session_id(user.get("team_id") or (body.get("team") or {}).get("id"), channel, user.get("id"))
        # the bot's direct messages: one conversation, threads included, and nobody else to share with or to
        # rewrite the answer for, so it is an ordinary message that stays in the DM's history (an ephemeral one is
        # gone on reload); only an ephemeral message (/faq's reply there) is replaced, as it must be
        direct = _direct(body)
        # clicked on a mention's answer in a thread: the conversation is the thread's, as the mention's was, so
        # a reply there (with the mention) continues it, and the question back says so
        thread = (body.get("message") or {}).get("thread_ts") or (body.get("container") or {}).get("thread_ts")
        me = None
        if thread and not mine and not direct:
            sid += f":{thread}"
            me = (f"<@{bot_user}>" if (bot_user := (body.get("message") or {}).get("user")) and
                  _USER_ID.fullmatch(bot_user) else "@faqbot")
        message = _reply(bot, entry.question, today(), share=not direct, sid=sid, intent=intent, mention=me)
        respond(text=message.text, blocks=message.blocks,
                response_type="in_channel" if direct and not mine else "ephemeral", replace_original=mine)

    bolt.event("app_mention")(ack=ack_now, lazy=[answer_mention])
    bolt.event("message")(ack=ack_now, lazy=[answer_direct])
    bolt.action(SHARE_ACTION)(ack=ack_now, lazy=[share])
    bolt.action(re.compile(rf"^{SUGGEST_ACTION}_\d+$"))(ack=ack_now, lazy=[suggest])
    return bolt


def _reply(bot: Bot, question: str, today: date, *, share: bool, sid: str, intent: str | None = None,
           mention: str | None = None, direct: bool = False) -> Message:
    """Bot.ask rendered for Slack; an empty question gets the help, bad input a short message in Japanese."""
    if not question:
        return help_message(mention, direct=direct)
    try:
        answer = bot.ask(question, today=today, session_id=sid, intent=intent)
    except InputError as exc:
        if exc.code == "text_too_long":
            return _notice(f"ご質問を受け付けられませんでした: {bot.settings.max_text_length:,}文字以内でお送りください"
                           f"（いただいたご質問は{len(question):,}文字でした）。")
        if exc.code == "empty_text":  # nothing printable: zero-width spaces alone are nothing typed
            return help_message(mention, direct=direct)
        return _notice("ご質問を受け付けられませんでした。言い方を変えて、もう一度お試しください。")
    except BotError as exc:  # the conversation store (Redis) is down: say so instead of failing the command
        log.error("slack: no answer: %s", exc)
        return _notice("ただいま回答できません。しばらくしてからもう一度お試しください。")
    return render_answer(answer, question, today=today, share=share, mention=mention)


def _direct(body: Mapping[str, Any]) -> bool:
    """A button clicked in the bot's direct messages (Slack names that channel directmessage; its id starts D)."""
    channel = body.get("channel") or {}
    return channel.get("name") == "directmessage" or str(channel.get("id") or "").startswith("D")


def _notice(text: str) -> Message:
    return Message(escape(text), [SectionBlock(text=MarkdownTextObject(text=escape(text)))])


def _first(dedupe: Dedupe, key: str) -> bool:
    """dedupe.first, but a store that is down counts as "first": a rare double answer beats none at all."""
    try:
        return dedupe.first(key, ttl=DEDUPE_TTL)
    except BotError as exc:
        log.warning("slack: de-duplication unavailable, answering anyway: %s", exc)
        return True


def _authorizer(bot_token: str) -> Callable[..., AuthorizeResult]:
    """One workspace, one bot token from the environment: nothing to look up, no auth.test call."""

    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=bot_token or None)

    return authorize


def _bot_users(body: Mapping[str, Any]) -> set[str]:
    """The bot users this event was delivered for (Events API `authorizations`)."""
    found = body.get("authorizations")
    return {a["user_id"] for a in (found if isinstance(found, list) else [])
            if isinstance(a, dict) and a.get("is_bot") and isinstance(a.get("user_id"), str)}


def by_a_bot(event: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """An event a bot wrote, this one's own answers included: never a question to answer (that would start a
    loop), and never counted by the rate limit (a DM answer comes back as a message.im event under the bot)."""
    user = event.get("user")  # a signed body is Slack's word, but its shape is still checked: no 500 on a list
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message" or (
        isinstance(user, str) and user in _bot_users(body))


def _not_slack() -> Response:
    out = jsonify(error={"code": "bad_request",
                         "message": "the body is not a Slack request (a JSON object, or a form)"})
    out.status_code = 400
    return out


def _error_response(response: Response) -> Response:
    """Bolt's error answers ({"error": "invalid request"}) in the API's {"error": {"code", "message"}} shape."""
    code, message = {
        401: ("invalid_signature", "the request is not signed by Slack with this app's signing secret, "
                                   "or its timestamp is more than 5 minutes off"),
        404: ("unhandled_request", "this Slack request has no handler here"),
    }.get(response.status_code, ("slack_error", "the Slack request could not be processed"))
    out = jsonify(error={"code": code, "message": message})
    out.status_code = response.status_code
    return out


def _clip(text: str, limit: int = _QUESTION_SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int = _SECTION_LIMIT) -> Sequence[str]:
    """Split at paragraph breaks so each part fits a section once escaped (escaping only lengthens)."""
    parts: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        candidate = f"{current}\n\n{para}" if current else para
        if len(escape(candidate)) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(escape(para)) > limit:
            cut = limit // 5  # & becomes 5 characters at worst
            parts.append(para[:cut])
            para = para[cut:]
        current = para
    if current:
        parts.append(current)
    return parts or [""]
