"""The Owner's team page (/settings/team/): who may log in, in which role.

- models.py: TeamMember, each login's team bookkeeping (invited by whom, a
  one-time password still to change, the last password reset), and the team
  list's query.
- services.py: inviting, changing a role, resetting a password, deactivating
  and reactivating; each in one transaction that first locks the Owner group's
  row, so two Owners acting at once cannot leave the business without one.
- passwords.py: one-time passwords, the set-password e-mail, and the forced
  change after a one-time password.
- forms.py, views.py, urls.py: the pages; every change is a POST behind a
  confirmation page.

Every change is on the audit trail: the triggers on auth_user, auth_user_groups,
crm_teammember and otp_totp_totpdevice (crm/audit/tables.py) record it with the
acting Owner, never a password hash or a device's key.
"""
