"""Organization settings (Owners and Managers) and personal settings: rules,
forms and the service here; the pages in `views` (`portal.settings.views.bp`)."""
