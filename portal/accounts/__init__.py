"""Token health: Manage Accounts, profile details, who can renew, and the
header's "Expired Tokens" dropdown; the pages in `views` (`portal.accounts.views.bp`)."""
