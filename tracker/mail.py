"""Email that is sent once, even when the worker sending it is killed.

An SMTP server takes responsibility for a message when it reads the final "." of DATA.
Before that, a connection that drops (a killed worker) makes the server discard the
message; after it, the message is sent. So the sender marks the delivery sent right after
handing the server that final line and before waiting for its reply: a worker killed
before the "." leaves the delivery to be sent again (nothing was sent), a worker killed
after it has already handed the database the "sent" mark (a single autocommit UPDATE that
PostgreSQL completes even if the client is gone). The only window left is the few
microseconds between the two writes; docs/alerts.md says so.
"""

import smtplib
from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend


def quote_periods(data: bytes) -> bytes:
    # RFC 5321 4.5.2: a line that starts with "." gets another one.
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..")


class HandOverMixin:
    """smtplib's DATA with a callback between the final "." and the server's reply."""

    on_handed_over: Callable[[], None] | None = None

    def data(self, msg):
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = msg.encode("ascii")
        body = quote_periods(msg)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)
        self.send(b".\r\n")
        if self.on_handed_over is not None:
            self.on_handed_over()
        return self.getreply()


class HandOverSMTP(HandOverMixin, smtplib.SMTP):
    pass


class HandOverSMTPSSL(HandOverMixin, smtplib.SMTP_SSL):
    pass


class OnceSMTPBackend(EmailBackend):
    """Django's SMTP backend whose messages can be sent with a hand-over callback."""

    @property
    def connection_class(self):
        return HandOverSMTPSSL if self.use_ssl else HandOverSMTP

    def send_once(self, message: EmailMessage, *, handed_over: Callable[[], None]) -> None:
        opened = self.open()
        try:
            self.connection.on_handed_over = handed_over
            self._send(message)
        finally:
            if self.connection is not None:
                self.connection.on_handed_over = None
            if opened:
                self.close()


def message_send_once(message: EmailMessage, *, handed_over: Callable[[], None]) -> None:
    """Send through the configured backend; `handed_over` runs once the message is out.

    Backends other than OnceSMTPBackend (console, files, the test outbox) have no such
    moment: the callback runs after they return.
    """
    connection = get_connection(fail_silently=False)
    if isinstance(connection, OnceSMTPBackend):
        connection.send_once(message, handed_over=handed_over)
        return
    message.connection = connection
    message.send(fail_silently=False)
    handed_over()
