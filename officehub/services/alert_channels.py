"""Sending one alert through one channel: a webhook (JSON by POST) or an e-mail (SMTP).

A channel that cannot take the message raises :class:`ChannelFailure` naming the channel and what
went wrong (an HTTP status, an SMTP reply code, the kind of connection error), never the address,
the headers or the password, which may carry secrets.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.config.alert_settings import EmailChannel, WebhookChannel


class ChannelFailure(RetriableError):
    """A channel did not take a message; the message stays unsent and is tried again at the next check."""

    def __init__(self, channel: str, problem: str) -> None:
        self.channel = channel
        self.problem = problem
        super().__init__(f"alert channel {channel}: {problem}")


def send(name: str, channel: WebhookChannel | EmailChannel, subject: str, body: dict[str, Any],
         base_dir: Path) -> None:
    """Deliver one alert (``subject`` is its one-line text, ``body`` its JSON) through channel ``name``."""
    if isinstance(channel, WebhookChannel):
        _post(name, channel, body, base_dir)
    else:
        _mail(name, channel, subject, body, base_dir)


def _post(name: str, channel: WebhookChannel, body: dict[str, Any], base_dir: Path) -> None:
    try:
        # Imported here: only webhooks need it, and it comes with an extra.
        import requests
    except ImportError:
        raise FatalError("webhook alerts need requests: pip install 'officehub[rest]'") from None
    headers = {key: ref.resolve(base_dir).get_secret_value() for key, ref in channel.headers.items()}
    try:
        answer = requests.post(channel.url, json=body, headers=headers, timeout=channel.timeout_s,
                               allow_redirects=False)
    except requests.Timeout:
        raise ChannelFailure(name, f"no answer within {channel.timeout_s:g} s") from None
    except requests.RequestException as exc:
        # The exception's text quotes the URL, which may hold a token: only its kind is kept.
        raise ChannelFailure(name, f"cannot reach the webhook ({type(exc).__name__})") from None
    if not 200 <= answer.status_code < 300:
        raise ChannelFailure(name, f"the webhook answered HTTP {answer.status_code}")


def _mail(name: str, channel: EmailChannel, subject: str, body: dict[str, Any], base_dir: Path) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content(f"{body['text']}\n\n{json.dumps(body, indent=2, sort_keys=True, default=str)}\n")
    password = channel.password.resolve(base_dir).get_secret_value() if channel.password else None
    try:
        with _connect(channel) as smtp:
            if channel.user is not None and password is not None:
                smtp.login(channel.user, password)
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise ChannelFailure(name, f"the mail server answered {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelFailure(name, f"the mail server refused {len(exc.recipients)} recipient(s)") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelFailure(name, f"cannot reach the mail server ({type(exc).__name__})") from None


def _connect(channel: EmailChannel) -> smtplib.SMTP:
    """A connection to the channel's server, encrypted as its ``security`` says."""
    if channel.security == "ssl":
        return smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout_s,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s)
    if channel.security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp
