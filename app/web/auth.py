"""Account pages: sign-up, e-mail confirmation (and resend), password reset.

The forms that send mail post to Devise's paths (/auth/confirmation,
/auth/password) so the middleware's per-IP budget for sensitive endpoints
applies; the /new paths accept the same POST for clients that post back to the
page. Signing in lives with the OAuth pages.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app.config import get_settings
from app.errors import ValidationFailed
from app.services import accounts, registrations
from app.services.registrations import BadLink, RegistrationsClosed, SignUp
from app.web.pages import form, render

LABELS = {
    "username": "Username",
    "email": "E-mail address",
    "password": "Password",
    "password_confirmation": "Password confirmation",
    "agreement": "Agreement to the rules",
    "reason": "Reason",
    "locale": "Language",
    "date_of_birth": "Date of birth",
}
# An expired or used link is gone for good; a malformed one is simply a bad request.
LINK_STATUS = {"expired": 410, "used": 410, "invalid": 400}


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    return {
        field: "; ".join(f"{LABELS.get(field, field)} {p['description']}" for p in problems)
        for field, problems in exc.details.items()
    }


def _checked(value) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


# --- sign-up ---------------------------------------------------------------------------------------

async def _sign_up_page(request: Request, status_code: int = 200, **context):
    mode = registrations.mode()
    rules = await registrations.server_rules() if mode != "closed" else []
    context.setdefault("form", SignUp())
    context.setdefault("errors", {})
    return render(request, "auth/sign_up.html", status_code=status_code, mode=mode, rules=rules,
                  domain=get_settings().domain, **context)


async def sign_up_form(request: Request):
    return await _sign_up_page(request)


async def sign_up(request: Request):
    if registrations.mode() == "closed":
        return await _sign_up_page(request, 403)
    data = await form(request)
    submitted = SignUp(
        username=str(data.get("username", "")),
        email=str(data.get("email", "")),
        password=str(data.get("password", "")),
        password_confirmation=str(data.get("password_confirmation", "")),
        agreement=_checked(data.get("agreement")),
        reason=str(data.get("reason", "")),
    )
    try:
        user = await registrations.register_from_web(submitted)
    except RegistrationsClosed:
        return await _sign_up_page(request, 403)
    except ValidationFailed as exc:
        submitted.password = submitted.password_confirmation = ""  # never echo a password into the page
        return await _sign_up_page(request, 422, form=submitted, errors=_field_errors(exc),
                                   error="Your account could not be created: please correct the fields marked below.")
    return render(request, "auth/confirmation_sent.html", email=user.email, pending_approval=not user.approved,
                  hours=get_settings().confirmation_link_hours)


# --- e-mail confirmation ---------------------------------------------------------------------------

async def confirm(request: Request):
    token = request.query_params.get("confirmation_token", "")
    try:
        outcome, user = await registrations.confirm_email(token)
    except BadLink as exc:
        return render(request, "auth/confirmation.html", status_code=LINK_STATUS[exc.kind], problem=exc.kind,
                      error=exc.message)
    return render(request, "auth/confirmation.html", outcome=outcome, approved=user.approved)


async def resend_form(request: Request):
    return render(request, "auth/confirmation_new.html", email="")


async def resend(request: Request):
    data = await form(request)
    email = str(data.get("email", "")).strip()
    if not accounts.EMAIL.match(email):
        return render(request, "auth/confirmation_new.html", status_code=422, email=email,
                      error="Enter the e-mail address you signed up with.")
    await registrations.resend_confirmation(email)
    # The same answer whether or not the address has an account.
    return render(request, "auth/confirmation_new.html", email="", sent=True,
                  notice=f"If {email} belongs to an account that is waiting for confirmation, a new confirmation "
                         "link is on its way. Check your inbox and spam folder.")


# --- password reset --------------------------------------------------------------------------------

async def reset_request_form(request: Request):
    return render(request, "auth/password_new.html", email="")


async def reset_request(request: Request):
    data = await form(request)
    email = str(data.get("email", "")).strip()
    if not accounts.EMAIL.match(email):
        return render(request, "auth/password_new.html", status_code=422, email=email,
                      error="Enter the e-mail address of your account.")
    await registrations.request_password_reset(email)
    # The same answer whether or not the address has an account.
    hours = get_settings().reset_link_hours
    return render(request, "auth/password_new.html", email="", sent=True,
                  notice=f"If {email} belongs to an account, a link to choose a new password is on its way. "
                         f"It works for {hours} hours.")


async def reset_form(request: Request):
    token = request.query_params.get("reset_password_token", "")
    try:
        await registrations.check_reset_link(token)
    except BadLink as exc:
        return render(request, "auth/password_edit.html", status_code=LINK_STATUS[exc.kind], problem=exc.kind,
                      error=exc.message)
    return render(request, "auth/password_edit.html", token=token, errors={})


async def reset(request: Request):
    data = await form(request)
    token = str(data.get("reset_password_token", "")) or request.query_params.get("reset_password_token", "")
    try:
        await registrations.reset_password(token, str(data.get("password", "")),
                                           str(data.get("password_confirmation", "")))
    except BadLink as exc:
        return render(request, "auth/password_edit.html", status_code=LINK_STATUS[exc.kind], problem=exc.kind,
                      error=exc.message)
    except ValidationFailed as exc:
        return render(request, "auth/password_edit.html", status_code=422, token=token, errors=_field_errors(exc),
                      error="Your password was not changed: please correct the fields marked below.")
    return render(request, "auth/password_changed.html")


routes = [
    Route("/auth/sign_up", sign_up_form, methods=["GET"]),
    Route("/auth/sign_up", sign_up, methods=["POST"]),
    Route("/auth/confirmation", confirm, methods=["GET"]),
    Route("/auth/confirmation", resend, methods=["POST"]),
    Route("/auth/confirmation/new", resend_form, methods=["GET"]),
    Route("/auth/confirmation/new", resend, methods=["POST"]),
    Route("/auth/password", reset_request, methods=["POST"]),
    Route("/auth/password/new", reset_request_form, methods=["GET"]),
    Route("/auth/password/new", reset_request, methods=["POST"]),
    Route("/auth/password/edit", reset_form, methods=["GET"]),
    Route("/auth/password/edit", reset, methods=["POST"]),
]
